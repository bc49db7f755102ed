/**
 * Numbers and their presentation for the server bench: quantiles, the
 * table on stdout, bench/results/server.json.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The q-quantile (nearest rank) of numbers; null when there are none. */
export function quantile(values, q) {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The median (the mean of the middle two for an even count); null when there are none. */
export function median(values) {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((x, y) => x - y);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const missing = (n) => n === null || n === undefined || Number.isNaN(n);
export const format = {
  'req/s': (n) => (missing(n) ? '—' : `${Math.round(n).toLocaleString('en-US')} req/s`),
  ms: (n) => (missing(n) ? '—' : `${n.toFixed(n < 10 ? 2 : 1)} ms`),
  µs: (n) => (missing(n) ? '—' : `${Math.round(n)} µs`),
  '%': (n) => (missing(n) ? '—' : `${Math.round(n * 100)} %`),
  '×': (n) => (missing(n) ? '—' : `${n.toFixed(2)}×`),
  count: (n) => (missing(n) ? '—' : String(n)),
};

/**
 * One row of the table and one object of server.json.
 * @typedef {{ case: string, metric: string, value: number | null, unit: string, runs: (number | null)[],
 *   baseline: number | null, ratio: number | null, ratioRuns?: (number | null)[], target: string | null, met: boolean | null }} Row
 */

const verdict = (row) => (row.target === null ? '' : row.met === null ? 'n/a' : row.met ? 'PASS' : 'FAIL');

/** Prints the table, then the targets with their verdicts. */
export function printTable(rows) {
  const cells = rows.map((row) => {
    const show = format[row.unit] ?? String;
    const perRun = row.ratioRuns ? ` (runs ${row.ratioRuns.map((r) => format['×'](r)).join(', ')})` : '';
    return [
      row.case,
      row.metric,
      show(row.value),
      row.runs.map((v) => show(v).replace(/ (req\/s|ms|µs|%)$/, '')).join(', '),
      row.ratio === null ? '' : `${format['×'](row.ratio)}${perRun}`,
      row.target ?? '',
      verdict(row),
    ];
  });
  const head = ['case', 'metric', 'median', 'runs', 'ratio', 'target', 'verdict'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(`\n${line(head)}`);
  console.log(line(widths.map((w) => '-'.repeat(w))));
  let previous = '';
  rows.forEach((row, i) => {
    const group = row.case.split(':')[0];
    if (previous && group !== previous) console.log('');
    previous = group;
    console.log(line(cells[i]));
  });
  const targets = rows.filter((r) => r.target !== null);
  if (targets.length) console.log('\ntargets:');
  for (const r of targets)
    console.log(`  ${verdict(r).padEnd(4)}  ${r.case} ${r.metric}: ${r.ratio === null ? format[r.unit](r.value) : format['×'](r.ratio)}; target ${r.target}`);
}

/** Writes JSON to a `.tmp` file, then renames it, so a reader never sees half of it. */
export async function writeJsonAtomic(file, value) {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
