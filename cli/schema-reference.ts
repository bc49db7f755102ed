/**
 * Where a manifest's `"$schema"` points: the schema of the offline-outbox
 * installed in the project, as a path relative to the manifest, so an editor
 * finds it without the network and it stays right when the project moves.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const PACKAGE = join('node_modules', 'offline-outbox');
const SCHEMA = join('dist', 'manifest.schema.json');

/**
 * The package folder is looked for as Node looks for a dependency, from `cwd`
 * up; the path keeps the `node_modules` link (a linked or workspace package
 * is not followed to where it really lives). Not installed (run through npx),
 * it is where `npm install offline-outbox` in `cwd` will put it.
 */
export function schemaReference(manifestDir: string, cwd = process.cwd()): string {
  let installed: string | undefined;
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, PACKAGE, 'package.json'))) {
      installed = join(dir, PACKAGE);
      break;
    }
    if (dirname(dir) === dir) break;
  }
  const schema = join(installed ?? join(resolve(cwd), PACKAGE), SCHEMA);
  // A URI reference: "/" between segments on every platform.
  return relative(resolve(cwd, manifestDir), schema).split(sep).join('/');
}
