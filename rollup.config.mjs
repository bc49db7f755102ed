import nodeResolve from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { dts } from 'rollup-plugin-dts';

const ts = () =>
  typescript({
    tsconfig: './tsconfig.json',
    include: ['sw/**/*.ts', 'client/**/*.ts', 'cli/**/*.ts', 'common/**/*.ts', 'server/**/*.ts', 'vite/**/*.ts', 'types/**/*.d.ts'],
    compilerOptions: { noEmit: false, declaration: false, sourceMap: false },
    // Types are checked by `npm run typecheck`; the bundle only needs JS.
    noEmitOnError: false,
  });

// Workbox's sources carry dev-only checks and logs behind NODE_ENV.
const production = () => replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } });

const minify = () => terser({ ecma: 2020, compress: { passes: 2 }, format: { comments: false } });

const browserScript = (input, file) => ({
  input,
  output: { file, format: 'iife' },
  plugins: [production(), nodeResolve({ browser: true }), ts(), minify()],
});

// The module build leaves its dependencies to the app's bundler, so an app's own Workbox and ours are one copy (one Router, one set of cache names).
const externalDeps = /^(idb-keyval|workbox-[a-z-]+)(\/.*)?$/;

// The app brings its own Vite (a peer dependency); the plugin imports only its types.
const viteExternal = (id) => id.startsWith('node:') || id === 'vite';

export default [
  browserScript('sw/sw-entry.ts', 'dist/sw.js'),
  browserScript('client/register-entry.ts', 'dist/register.js'),
  // Loaded by register.js only with data-ui, so pages without the element never download it.
  browserScript('client/outbox-status-entry.ts', 'dist/outbox-status.js'),
  {
    input: 'sw/index.ts',
    output: { file: 'dist/sw.mjs', format: 'es' },
    external: (id) => externalDeps.test(id),
    plugins: [ts()],
  },
  {
    input: 'client/index.ts',
    output: { file: 'dist/client.mjs', format: 'es' },
    plugins: [ts()],
  },
  {
    input: 'cli/cli.ts',
    output: { file: 'dist/cli.mjs', format: 'es', banner: '#!/usr/bin/env node' },
    external: (id) => id.startsWith('node:'),
    plugins: [ts()],
  },
  {
    // Node ≥ 20; no runtime dependency: a Redis client is the app's own, passed in.
    input: 'server/index.ts',
    output: { file: 'dist/server.mjs', format: 'es' },
    external: (id) => id.startsWith('node:'),
    plugins: [ts()],
  },
  {
    // Runs in the app's Vite (Node); reads dist/sw.js, register.js and outbox-status.js from beside itself.
    input: 'vite/index.ts',
    output: { file: 'dist/vite.mjs', format: 'es' },
    external: viteExternal,
    plugins: [ts()],
  },
  { input: 'vite/index.ts', output: { file: 'dist/vite.d.ts', format: 'es' }, plugins: [dts({ tsconfig: './tsconfig.json' })], external: viteExternal },
  { input: 'server/index.ts', output: { file: 'dist/server.d.ts', format: 'es' }, plugins: [dts({ tsconfig: './tsconfig.json' })], external: (id) => id.startsWith('node:') },
  { input: 'sw/index.ts', output: { file: 'dist/sw.d.ts', format: 'es' }, plugins: [dts({ tsconfig: './tsconfig.json' })], external: (id) => externalDeps.test(id) },
  { input: 'client/index.ts', output: { file: 'dist/client.d.ts', format: 'es' }, plugins: [dts({ tsconfig: './tsconfig.json' })] },
];
