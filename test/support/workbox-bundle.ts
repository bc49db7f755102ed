/**
 * Bundles a hand-written service worker from test/fixtures into one classic
 * script, the way an app with its own Workbox worker would bundle it:
 * rollup, node-resolve, Workbox's dev-only code removed (NODE_ENV=production).
 *
 * `offline-outbox/sw` resolves to the built `dist/sw.mjs`, which leaves
 * workbox-* and idb-keyval as bare imports; they resolve here from the same
 * node_modules as the fixture's own Workbox imports, so the app's Workbox and
 * ours end up as one copy in the bundle (one Router, one set of cache names),
 * as they would in the app's build.
 */
import nodeResolve from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { rollup, type Plugin, type RollupLog } from 'rollup';

const DIST_SW_MODULE = fileURLToPath(new URL('../../dist/sw.mjs', import.meta.url));

/** Maps the package's public worker module to the build output, as the package's `exports` would. */
function offlineOutboxModule(): Plugin {
  return {
    name: 'offline-outbox-sw',
    async resolveId(source) {
      if (source !== 'offline-outbox/sw') return null;
      try {
        await access(DIST_SW_MODULE);
      } catch {
        this.error(`offline-outbox/sw: ${DIST_SW_MODULE} is missing; run \`npm run build\` before the end-to-end tests`);
      }
      return DIST_SW_MODULE;
    },
  };
}

/**
 * Bundles `entry` (a fixture's worker source) into an IIFE and resolves with
 * the script's text, for the test server to serve; nothing is written to
 * disk, so nothing is left behind. Unresolved imports fail the bundle
 * instead of being left as bare specifiers a browser cannot load.
 */
export async function bundleWorker(entry: URL): Promise<string> {
  const input = fileURLToPath(entry);
  const problems: RollupLog[] = [];
  const bundle = await rollup({
    input,
    onwarn: (warning) => {
      if (warning.code === 'UNRESOLVED_IMPORT') problems.push(warning);
    },
    plugins: [offlineOutboxModule(), replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }), nodeResolve({ browser: true })],
  });
  try {
    if (problems.length) throw new Error(`bundling ${input}: ${problems.map((p) => p.message).join('\n')}`);
    const { output } = await bundle.generate({ format: 'iife' });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}
