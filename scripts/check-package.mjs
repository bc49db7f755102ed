#!/usr/bin/env node
/**
 * `npm run check:package`: is the package ready to publish? Packs it once,
 * then runs what a registry and a TypeScript user would see:
 * `npm publish --dry-run`, publint and @arethetypeswrong/cli (attw), and
 * fails if any of them complains.
 *
 * It needs a built dist/ (`npm run build`, or `npm test`, which builds).
 * Every npm call here passes --ignore-scripts: packing a folder otherwise
 * runs `prepare`, a full build (~45 s), once per pack. Nothing here needs the
 * registry: the tarball is packed and read locally, and a dry-run publish
 * uploads nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = (name) => join(ROOT, 'node_modules', '.bin', name);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/**
 * The attw profile. The package is ESM only ("type": "module", `import`
 * conditions only, no "main"): `esm-only` checks what TypeScript resolves
 * under `node16`/`nodenext` from an ES module and under `bundler`, and skips
 * `node10` (it ignores `exports`, so it cannot see subpaths at all) and
 * `node16` from CommonJS (which can only reach an ES module through
 * `import()`, by design here). `strict` or `node16` would fail on exactly
 * those two by construction.
 */
const ATTW_PROFILE = 'esm-only';
/**
 * Exports that are files to serve, not modules to import: the drop-in worker
 * and the page scripts, run by the browser as classic scripts. They have no
 * types because nothing imports them; `require.resolve` and bundlers'
 * `?url` imports only need the path.
 */
const SERVED_FILES = ['./sw.js', './register.js', './outbox-status.js'];

const failures = [];
const notes = [];
const heading = (text) => console.log(`\n--- ${text} ---`);

/** Runs a command from the package root; returns its exit code and, when `capture`, its output. */
function run(command, args, { capture = false } = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: capture ? 'pipe' : 'inherit' });
  if (result.error) throw result.error;
  return { code: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

const unbuilt = ['dist/cli.mjs', 'dist/sw.js'].filter((file) => !existsSync(join(ROOT, file)));
if (unbuilt.length) {
  console.error(`check:package: ${unbuilt.join(', ')} missing: dist/ is not built. Run \`npm run build\` first.`);
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'offline-outbox-pack-'));
try {
  heading('npm pack --ignore-scripts');
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { capture: true });
  if (pack.code !== 0) {
    process.stderr.write(pack.stderr);
    throw new Error('npm pack failed (above)');
  }
  const [packed] = JSON.parse(pack.stdout);
  const tarball = join(scratch, packed.filename);
  console.log(`${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1000).toFixed(1)} KB`);
  if (!packed.files.some((file) => /^LICEN[CS]E/i.test(file.path))) {
    failures.push(`no LICENSE in the package, yet "license" is "${pkg.license}": add the license text as LICENSE at the root (npm always packs it)`);
  }

  heading('npm publish --dry-run --ignore-scripts');
  const publish = run('npm', ['publish', '--dry-run', '--ignore-scripts'], { capture: true });
  process.stdout.write(publish.stderr);
  process.stdout.write(publish.stdout);
  // npm writes its notices to stderr. Warnings about the package ("script name
  // was cleaned", "auto-corrected some errors in your package.json") count;
  // the login one does not: a dry run on a machine with no registry account.
  const warnings = publish.stderr.split('\n').filter((line) => line.startsWith('npm warn publish') && !line.includes('requires you to be logged in'));
  if (publish.code !== 0) failures.push(`npm publish --dry-run exited with ${publish.code}`);
  else if (warnings.length) failures.push(`npm publish --dry-run warned:\n  ${warnings.join('\n  ')}`);

  heading('publint --strict');
  if (run(BIN('publint'), ['run', tarball, '--strict']).code !== 0) failures.push('publint found problems (above)');

  heading(`attw --profile ${ATTW_PROFILE}`);
  const attwArgs = [tarball, '--profile', ATTW_PROFILE, '--exclude-entrypoints', ...SERVED_FILES, '--format', 'table-flipped'];
  if (run(BIN('attw'), attwArgs).code !== 0) failures.push('attw found type resolution problems (above)');

  // The URL is the maintainers' to give. Publishing works without it, but the
  // registry's page then links to no source, and provenance needs it.
  if (!pkg.repository) notes.push('package.json has no "repository": add { "type": "git", "url": "git+https://…/offline-outbox.git" } before publishing');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log('');
for (const note of notes) console.warn(`check:package: note: ${note}`);
for (const failure of failures) console.error(`check:package: ${failure}`);
if (failures.length) process.exit(1);
console.log('check:package: ready to publish (npm publish --dry-run, publint and attw are clean)');
