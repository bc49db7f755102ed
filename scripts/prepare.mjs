// `prepare`: builds dist/ when npm installs this package from a folder or a
// git URL. From a git URL npm installs the devDependencies first; from a
// folder it links the folder and installs nothing in it, so the build tools
// may be missing: then say what to run instead of "rollup: not found".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/rollup/package.json', import.meta.url))) {
  console.error(
    'offline-outbox: cannot build dist/: this folder has no node_modules (npm installs a folder as a link and does not install its dependencies).\n' +
      `Run "npm install" in ${new URL('..', import.meta.url).pathname} first, then install it again; or install the tarball "npm pack" makes there.`,
  );
  process.exit(1);
}
process.exit(spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' }).status ?? 1);
