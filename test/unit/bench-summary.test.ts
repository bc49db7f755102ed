import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatNumber, formatSummaryTable, type SummaryRow, summaryMarkdown, summarySvg, updateReadmeSection, verdictOf, writeSummary } from '../../bench/lib/summary.mjs';

const row = (overrides: Partial<SummaryRow> & Pick<SummaryRow, 'case'>): SummaryRow => ({
  title: `${overrides.case} title`,
  unit: 'ms',
  ours: 1,
  workbox: null,
  ideal: null,
  ratio: 1,
  ratioOf: 'ours ÷ workbox',
  op: '<=',
  limit: 1,
  target: '≤ 1× workbox',
  ...overrides,
});

const ROWS: SummaryRow[] = [
  row({
    case: 'enqueue-rate',
    unit: 'writes/s',
    ours: 2345.6,
    ideal: 2500,
    ratio: 0.938,
    ratioOf: 'ours ÷ ideal worker',
    op: '>=',
    limit: 0.95,
    target: '≥ 0.95× the ideal worker',
  }),
  row({ case: 'cold-start', ours: 48, workbox: 44, ratio: 1.09, limit: 1.2, target: '≤ 1.2× workbox' }),
  row({ case: 'growth-replay', title: 'ms per write at 10,000 vs 1,000 <&>', ours: 3.4, ratio: null, limit: 1.1, note: 'cut off at 120 s' }),
];

describe('verdictOf', () => {
  it.each([
    [0.95, '>=', 0.95, true],
    [0.94, '>=', 0.95, false],
    [1.05, '<=', 1.05, true],
    [1.06, '<=', 1.05, false],
    [null, '<=', 1, null],
    [Number.NaN, '>=', 1, null],
  ] as const)('%s %s %s → %s', (ratio, op, limit, expected) => {
    expect(verdictOf(ratio, op, limit)).toBe(expected);
  });

  it('throws on an operator it does not know', () => {
    // @ts-expect-error an operator outside the type, as a typo in run.mjs would pass
    expect(() => verdictOf(1, '<', 2)).toThrow(/op must be '<=' or '>='/);
  });
});

describe('formatNumber', () => {
  it.each([
    [2345.6, '2,350'],
    [12345, '12,300'],
    [0.9384, '0.938'],
    [61.24, '61.2'],
    [48, '48'],
    [null, '—'],
    [Number.NaN, '—'],
  ])('%s → %s', (n, text) => {
    expect(formatNumber(n)).toBe(text);
  });
});

describe('formatSummaryTable', () => {
  it('shows each verdict, the numbers to 3 digits, — where nothing was measured, then the tally', () => {
    const lines = formatSummaryTable(ROWS).split('\n');
    expect(lines[0]).toMatch(/^case +ours +workbox +ideal +unit +ratio \(what\) +target +verdict$/);
    expect(lines[2]).toMatch(/^enqueue-rate +2,350 +— +2,500 +writes\/s +0\.938× \(ours ÷ ideal worker\) +≥ 0\.95× the ideal worker +MISSED$/);
    expect(lines[3]).toMatch(/^cold-start +48 +44 +— +ms +1\.09× \(ours ÷ workbox\) +≤ 1\.2× workbox +MET$/);
    expect(lines[4]).toMatch(/^growth-replay +3\.4 +— +— +ms +— \(ours ÷ workbox\) .* unknown$/);
    expect(lines.slice(5)).toEqual(['', 'targets met: 1 of 3 (1 undecided)', 'notes:', '  growth-replay: cut off at 120 s']);
  });

  it('keeps the columns aligned', () => {
    const [head, rule, ...body] = formatSummaryTable(ROWS).split('\n');
    const verdictColumn = head!.indexOf('verdict');
    expect(rule!.length).toBe(verdictColumn + 'verdict'.length);
    for (const line of body.slice(0, 3)) expect(line.slice(verdictColumn)).toMatch(/^(MET|MISSED|unknown)$/);
  });

  it('takes `met` as given (null: undecided), and decides it from the ratio when absent', () => {
    const text = formatSummaryTable([row({ case: 'a', ratio: 0.5, met: null }), row({ case: 'b', ratio: 3 })]);
    expect(text).toMatch(/^a .* unknown$/m);
    expect(text).toMatch(/^b .* MISSED$/m);
    expect(text).toContain('targets met: 0 of 2 (1 undecided)');
  });
});

describe('summaryMarkdown', () => {
  it('captions the table with the date, the machine and the tally, and escapes what markdown would read', () => {
    const text = summaryMarkdown(ROWS, { date: new Date('2026-12-01T16:37:42Z'), machine: { cpuCount: 2, cpuModel: 'AMD EPYC', chromium: '156.0.8078.114' } });
    const lines = text.split('\n');
    expect(lines[0]).toBe("_2026-12-01 16:37 UTC, 2 × AMD EPYC, Chromium 156.0.8078.114; medians of each case's runs; targets met: 1 of 3 (1 undecided)._");
    expect(lines[2]).toBe('| case | ours | workbox | ideal | unit | ratio (what) | target | verdict |');
    expect(lines[3]).toBe('| --- | ---: | ---: | ---: | --- | --- | --- | --- |');
    expect(lines[4]).toBe('| `enqueue-rate` enqueue-rate title | 2,350 | — | 2,500 | writes/s | 0.938× (ours ÷ ideal worker) | ≥ 0.95× the ideal worker | **MISSED** |');
    expect(lines[6]).toContain('ms per write at 10,000 vs 1,000 &lt;&amp;>');
    expect(lines[6]).toMatch(/\| unknown \|$/);
    expect(lines.at(-1)).toBe('- `growth-replay`: cut off at 120 s');
  });

  it('leaves out what it was not given (an unknown Chromium, no machine)', () => {
    expect(summaryMarkdown(ROWS, { machine: { cpuCount: 2, cpuModel: 'AMD EPYC', chromium: 'unknown' } }).split('\n')[0]).toBe(
      "_2 × AMD EPYC; medians of each case's runs; targets met: 1 of 3 (1 undecided)._",
    );
    expect(summaryMarkdown(ROWS).split('\n')[0]).toBe("_medians of each case's runs; targets met: 1 of 3 (1 undecided)._");
  });
});

describe('summarySvg', () => {
  const svg = summarySvg(ROWS);
  const bars = [...svg.matchAll(/<g data-case="([^"]+)">.*?<\/g>/g)].map(([group, name]) => ({ name, fill: /<rect class="bar"[^>]* fill="([^"]+)"/.exec(group)?.[1] }));

  it('is one standalone <svg> document 820 wide, with nothing to fetch', () => {
    expect(svg.match(/<svg\b/g)).toHaveLength(1);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="820" ')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('font-family:sans-serif');
    expect(svg).not.toMatch(/<script|@import|@font-face|href=|url\(/);
    expect(svg).toContain('offline-outbox ÷ yardstick, one bench run');
  });

  it('opens every tag it closes', () => {
    const stack: string[] = [];
    for (const [, closing, name, selfClosing] of svg.matchAll(/<(\/?)([a-z]+)\b[^>]*?(\/?)>/g)) {
      if (closing) expect(stack.pop()).toBe(name);
      else if (!selfClosing) stack.push(name!);
    }
    expect(stack).toEqual([]);
  });

  it('draws a bar per measured row, green when met and red when missed; an unmeasured row says so', () => {
    expect(bars).toEqual([
      { name: 'enqueue-rate', fill: '#c62828' },
      { name: 'cold-start', fill: '#2e7d32' },
      { name: 'growth-replay', fill: undefined },
    ]);
    expect(svg).toMatch(/<g data-case="growth-replay">.*not measured.*<\/g>/);
    expect(svg.match(/<line class="limit"/g)).toHaveLength(3);
    expect(svg).toContain('>0.938×</text>');
    expect(svg).toContain('target ≥ 0.95×');
  });

  it('greys a bar whose verdict is undecided', () => {
    expect(summarySvg([row({ case: 'x', ratio: 1.3, met: null })])).toMatch(/<rect class="bar"[^>]* fill="#9e9e9e"/);
  });

  it('escapes text for XML', () => {
    expect(svg).toContain('ms per write at 10,000 vs 1,000 &lt;&amp;&gt;');
    const text = svg.replace(/<[^>]*>/g, '');
    expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
  });

  it('scales the axis to 1.1× the longest bar, and widens the gridlines past 16 of them', () => {
    const wide = summarySvg([row({ case: 'slow', ratio: 10, limit: 1 })]);
    const [, barX, barWidth] = /<rect class="bar" x="(\d+)"[^>]* width="([\d.]+)"/.exec(wide)!;
    const [, limitX] = /<line class="limit" x1="([\d.]+)"/.exec(wide)!;
    // 10× and 1× on an axis to 11×: the bar is ten times as long as the distance to the mark (to the pixel, after rounding).
    expect(Math.abs((Number(limitX) - Number(barX)) * 10 - Number(barWidth))).toBeLessThan(1);
    expect(wide).toContain('>11×</text>');
    expect(wide).not.toContain('>0.5×</text>');
    expect(summarySvg(ROWS)).toContain('>2.5×</text>');
  });
});

describe('writeSummary and updateReadmeSection', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-summary-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes latest.json with one object per case, and latest.svg, leaving no .tmp behind', async () => {
    const date = new Date('2026-12-01T16:37:42Z');
    const paths = await writeSummary(ROWS, { dir: join(dir, 'results'), date, machine: { cpuCount: 2 }, config: { runs: 3 } });
    expect(paths).toEqual({ json: join(dir, 'results/latest.json'), svg: join(dir, 'results/latest.svg') });
    const data = JSON.parse(await readFile(paths.json, 'utf8'));
    expect(data).toMatchObject({ date: '2026-12-01T16:37:42.000Z', machine: { cpuCount: 2 }, config: { runs: 3 } });
    expect(data.cases.map((c: Record<string, unknown>) => [c.case, c.ours, c.workbox, c.ideal, c.unit, c.ratio, c.target, c.met])).toEqual([
      ['enqueue-rate', 2345.6, null, 2500, 'writes/s', 0.938, '≥ 0.95× the ideal worker', false],
      ['cold-start', 48, 44, null, 'ms', 1.09, '≤ 1.2× workbox', true],
      ['growth-replay', 3.4, null, null, 'ms', null, '≤ 1× workbox', null],
    ]);
    expect(await readFile(paths.svg, 'utf8')).toBe(summarySvg(ROWS));
    expect((await readdir(join(dir, 'results'))).sort()).toEqual(['latest.json', 'latest.svg']);
  });

  it('replaces the README section between the markers, and a second run changes nothing', async () => {
    const readme = join(dir, 'README.md');
    await writeFile(readme, '# x\n\nbefore\n<!-- bench-summary:start -->\nold table\n<!-- bench-summary:end -->\nafter\n');
    expect(await updateReadmeSection(readme, '| a |\n| --- |\n| 1 |\n', 'bench/results/latest.svg')).toBe(true);
    const once = await readFile(readme, 'utf8');
    expect(once).toBe(
      [
        '# x',
        '',
        'before',
        '<!-- bench-summary:start -->',
        '| a |',
        '| --- |',
        '| 1 |',
        '',
        "![offline-outbox ÷ yardstick, one bench run: each case's ratio against its target](bench/results/latest.svg)",
        '<!-- bench-summary:end -->',
        'after',
        '',
      ].join('\n'),
    );
    expect(await updateReadmeSection(readme, '| a |\n| --- |\n| 1 |\n', 'bench/results/latest.svg')).toBe(false);
    expect(await readFile(readme, 'utf8')).toBe(once);
  });

  it('names the markers to add when they are missing, and leaves the file alone', async () => {
    const readme = join(dir, 'README.md');
    await writeFile(readme, '# x\n<!-- bench-summary:start -->\n');
    await expect(updateReadmeSection(readme, 'table', 'x.svg')).rejects.toThrow(/add a line <!-- bench-summary:start --> and, below it, a line <!-- bench-summary:end -->/);
    expect(await readFile(readme, 'utf8')).toBe('# x\n<!-- bench-summary:start -->\n');
  });
});
