// Prints each dist file's size, raw and gzipped, and fails past the worker's budget.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** The budget of issue 10: the worker on Workbox, everything included (fetched once per deploy, off the critical path). */
const SW_BUDGET_BYTES = 24 * 1000;

let over = false;
for (const name of readdirSync('dist').sort()) {
  const bytes = readFileSync(`dist/${name}`);
  const gzipped = gzipSync(bytes, { level: 9 }).length;
  const budget = name === 'sw.js' ? ` (budget ${(SW_BUDGET_BYTES / 1000).toFixed(1)} KB)` : '';
  if (name === 'sw.js' && gzipped > SW_BUDGET_BYTES) over = true;
  console.log(`${name.padEnd(14)} ${(bytes.length / 1000).toFixed(1).padStart(7)} KB  ${(gzipped / 1000).toFixed(1).padStart(6)} KB gzipped${budget}`);
}
if (over) {
  console.error('dist/sw.js is over its gzipped size budget');
  process.exit(1);
}
