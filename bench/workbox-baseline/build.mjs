/**
 * Bundles the Workbox baseline (`sw.ts`) into one classic script, the way
 * `npm run build` bundles dist/sw.js: rollup, iife, Workbox's dev-only code
 * removed (NODE_ENV=production), minified with the same terser options.
 *
 *   node bench/workbox-baseline/build.mjs [--dev] [out-file]   (default bench/.build/workbox-sw.js)
 *
 * Tests can import it: `await buildWorkboxBaseline({ outFile })` returns the
 * file's absolute path. `production: false` keeps Workbox's console logs,
 * which helps when debugging a test.
 */
import nodeResolve from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';

const here = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_OUT_FILE = resolve(here, '../.build/workbox-sw.js');

/**
 * @param {{ outFile?: string, production?: boolean }} [options]
 * @returns {Promise<string>} the absolute path of the built worker
 */
export async function buildWorkboxBaseline({ outFile = DEFAULT_OUT_FILE, production = true } = {}) {
  const file = resolve(outFile);
  const warnings = [];
  const bundle = await rollup({
    input: resolve(here, 'sw.ts'),
    onwarn: (warning) => warnings.push(warning),
    plugins: [
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify(production ? 'production' : 'development') } }),
      nodeResolve({ browser: true }),
      // Type errors fail the build: the baseline is small and must stay strict.
      typescript({
        tsconfig: resolve(here, 'tsconfig.json'),
        compilerOptions: { noEmit: false, declaration: false, sourceMap: false },
        noEmitOnError: true,
        outputToFilesystem: false,
      }),
      ...(production ? [terser({ ecma: 2020, compress: { passes: 2 }, format: { comments: false } })] : []),
    ],
  });
  try {
    await bundle.write({ file, format: 'iife' });
  } finally {
    await bundle.close();
  }
  const typeErrors = warnings.filter((w) => w.plugin === 'typescript');
  if (typeErrors.length) throw new Error(`workbox baseline: ${typeErrors.map((w) => w.message).join('\n')}`);
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outFile = args.find((a) => !a.startsWith('--')) ?? DEFAULT_OUT_FILE;
  const file = await buildWorkboxBaseline({ outFile, production: !args.includes('--dev') });
  console.log(`built ${file}`);
}
