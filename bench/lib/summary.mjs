/**
 * The bench's summary: one row per case (ours against its yardstick) turned
 * into the table on stdout, bench/results/latest.json, the SVG chart of the
 * ratios and the README's section between its bench-summary markers.
 *
 * @typedef {{
 *   case: string, title: string, unit: string,
 *   ours: number | null, workbox: number | null, ideal: number | null,
 *   runs?: { ours?: number[], workbox?: number[], ideal?: number[] },
 *   ratio: number | null, ratioOf: string,
 *   op: '<=' | '>=', limit: number, target: string,
 *   met?: boolean | null, note?: string,
 * }} SummaryRow
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const README_START = '<!-- bench-summary:start -->';
export const README_END = '<!-- bench-summary:end -->';
const CHART_TITLE = 'offline-outbox ÷ yardstick, one bench run';
const COLOUR = { met: '#2e7d32', missed: '#c62828', unknown: '#9e9e9e' };

/** Whether `ratio op limit` holds; null when the ratio (or the limit) is not a number. */
export function verdictOf(ratio, op, limit) {
  if (op !== '<=' && op !== '>=') throw new TypeError(`verdictOf: op must be '<=' or '>=', not ${JSON.stringify(op)}`);
  if (typeof ratio !== 'number' || Number.isNaN(ratio) || typeof limit !== 'number' || Number.isNaN(limit)) return null;
  return op === '<=' ? ratio <= limit : ratio >= limit;
}

/** The row's verdict: `met` as the lead gave it, else decided from its ratio (null stays null: undecided). */
const metOf = (row) => (row.met === undefined ? verdictOf(row.ratio, row.op, row.limit) : row.met);
const verdictWord = (met) => (met === true ? 'MET' : met === false ? 'MISSED' : 'unknown');

const threeDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
/** 3 significant digits, thousands separated ('12,300', '0.912'); '—' when not measured. */
export function formatNumber(n) {
  if (typeof n !== 'number' || Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '−∞';
  return threeDigits.format(n).replace('-', '−');
}
const formatRatio = (n) => (typeof n !== 'number' || Number.isNaN(n) ? '—' : `${formatNumber(n)}×`);
const shortTarget = (row) => `${row.op === '<=' ? '≤' : '≥'} ${formatNumber(row.limit)}×`;

/** The cells of one row, shared by the plain table and the markdown one. */
const cellsOf = (row) => [
  row.case,
  formatNumber(row.ours),
  formatNumber(row.workbox),
  formatNumber(row.ideal),
  row.unit,
  `${formatRatio(row.ratio)} (${row.ratioOf})`,
  row.target,
  verdictWord(metOf(row)),
];
const HEAD = ['case', 'ours', 'workbox', 'ideal', 'unit', 'ratio (what)', 'target', 'verdict'];
/** Numbers read best right-aligned. */
const NUMERIC = [false, true, true, true, false, false, false, false];

const tally = (rows) => {
  const verdicts = rows.map(metOf);
  const unknown = verdicts.filter((m) => m === null).length;
  return `targets met: ${verdicts.filter((m) => m === true).length} of ${rows.length}${unknown ? ` (${unknown} undecided)` : ''}`;
};

/** The plain-text table for stdout, then "targets met: N of M" and the rows' notes. */
export function formatSummaryTable(rows) {
  const cells = rows.map(cellsOf);
  const widths = HEAD.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((x, i) => (NUMERIC[i] ? x.padStart(widths[i]) : x.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.case}: ${r.note}`);
  return [line(HEAD), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line), '', tally(rows), ...(notes.length ? ['notes:', ...notes] : [])].join('\n');
}

/** '2026-12-01 16:37 UTC' from a Date or an ISO string. */
const dayAndMinute = (date) => {
  const d = date instanceof Date ? date : new Date(date);
  return Number.isNaN(d.getTime()) ? String(date) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
};

const markdownCell = (text) =>
  String(text)
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\s*\n\s*/g, ' ');

/**
 * A GitHub-markdown table of the same columns, under a one-line caption
 * (date, CPU, Chromium when known, targets met); the rows' notes below it.
 */
export function summaryMarkdown(rows, { date, machine } = {}) {
  const where = [
    date === undefined ? '' : dayAndMinute(date),
    machine?.cpuCount || machine?.cpuModel ? `${machine.cpuCount ?? '?'} × ${machine.cpuModel ?? 'unknown CPU'}` : '',
    machine?.chromium && machine.chromium !== 'unknown' ? `Chromium ${machine.chromium}` : '',
  ].filter(Boolean);
  const caption = `_${where.length ? `${where.join(', ')}; ` : ''}medians of each case's runs; ${tally(rows)}._`;
  const line = (c) => `| ${c.map(markdownCell).join(' | ')} |`;
  const rule = `| ${NUMERIC.map((n) => (n ? '---:' : '---')).join(' | ')} |`;
  const body = rows.map((row) => {
    const c = cellsOf(row);
    c[0] = `\`${row.case}\` ${row.title}`;
    c[7] = c[7] === 'unknown' ? c[7] : `**${c[7]}**`;
    return line(c);
  });
  const notes = rows.filter((r) => r.note).map((r) => `- \`${r.case}\`: ${markdownCell(r.note)}`);
  return [caption, '', line(HEAD), rule, ...body, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

// ---------------------------------------------------------------- chart

export const escapeXml = (text) => String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
const px = (n) => String(Math.round(n * 10) / 10);
const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text);

// Layout, in px: labels on the left, bars from PLOT_LEFT to PLOT_RIGHT.
const WIDTH = 820;
const PLOT_LEFT = 380;
const PLOT_RIGHT = 770;
const TOP = 78;
const ROW_HEIGHT = 44;
const BAR_HEIGHT = 16;
/** Characters that fit the label column at 12 px (case + title) and 11 px (yardstick + target). */
const LABEL_CHARS = 58;
const YARDSTICK_CHARS = 62;
/** Room for a value such as '0.938×' at 12 px bold. */
const VALUE_WIDTH = 46;

/** The step between gridlines: 0.5×, wider when the axis is long, so there are at most 16. */
const gridStep = (max) => [0.5, 1, 2, 5, 10, 20, 50, 100].find((s) => max / s <= 16) ?? 10 ** Math.ceil(Math.log10(max / 10));

/**
 * A standalone SVG (no fonts, scripts or links to fetch) charting each row's
 * ratio as a horizontal bar against a marker at its limit: green when met,
 * red when missed, grey when undecided.
 */
export function summarySvg(rows) {
  const finite = (n) => typeof n === 'number' && Number.isFinite(n);
  const axisMax = Math.max(2.5, ...rows.filter((r) => finite(r.ratio)).map((r) => r.ratio * 1.1), ...rows.filter((r) => finite(r.limit)).map((r) => r.limit * 1.1));
  const x = (ratio) => PLOT_LEFT + (Math.min(Math.max(ratio, 0), axisMax) / axisMax) * (PLOT_RIGHT - PLOT_LEFT);
  const plotBottom = TOP + rows.length * ROW_HEIGHT;
  const height = plotBottom + 40;
  const step = gridStep(axisMax);

  const grid = [];
  for (let i = 0; i * step <= axisMax + 1e-9; i++) {
    const at = x(i * step);
    const parity = Math.abs(i * step - 1) < 1e-9;
    grid.push(
      `<line x1="${px(at)}" y1="${TOP - 6}" x2="${px(at)}" y2="${plotBottom}" stroke="${parity ? '#888' : '#e0e0e0'}" stroke-width="1"${parity ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${px(at)}" y="${plotBottom + 16}" text-anchor="middle" class="axis">${escapeXml(formatRatio(i * step))}</text>`,
    );
  }

  const bars = rows.map((row, i) => {
    const met = metOf(row);
    const verdict = met === true ? 'met' : met === false ? 'missed' : 'unknown';
    const top = TOP + i * ROW_HEIGHT;
    const barY = top + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const label = clip(`${row.case} ${row.title}`, LABEL_CHARS);
    const titleText = label.slice(row.case.length + 1);
    const yardstick = clip(`${row.ratioOf} · target ${shortTarget(row)}`, YARDSTICK_CHARS);
    const parts = [
      `<g data-case="${escapeXml(row.case)}">`,
      `<title>${escapeXml(`${row.case}: ${row.title} — ${formatRatio(row.ratio)} (${row.ratioOf}); target ${row.target}; ${verdictWord(met)}`)}</title>`,
      `<text x="12" y="${px(top + 18)}" class="label"><tspan font-weight="bold">${escapeXml(row.case)}</tspan> ${escapeXml(titleText)}</text>`,
      `<text x="12" y="${px(top + 34)}" class="sub">${escapeXml(yardstick)}</text>`,
    ];
    const limitAt = finite(row.limit) ? x(row.limit) : Number.NaN;
    if (finite(row.ratio)) {
      const end = x(row.ratio);
      // The value goes past the limit's mark when the mark would run through it.
      const valueAt = limitAt > end && limitAt < end + VALUE_WIDTH ? limitAt : end;
      parts.push(
        `<rect class="bar" x="${PLOT_LEFT}" y="${px(barY)}" width="${px(end - PLOT_LEFT)}" height="${BAR_HEIGHT}" fill="${COLOUR[verdict]}"/>`,
        `<text x="${px(valueAt + 5)}" y="${px(barY + 12.5)}" class="value">${escapeXml(formatRatio(row.ratio))}</text>`,
      );
    } else {
      parts.push(
        `<text x="${PLOT_LEFT + 5}" y="${px(barY + 12.5)}" class="sub">${row.ratio === null || Number.isNaN(row.ratio) ? 'not measured' : escapeXml(formatRatio(row.ratio))}</text>`,
      );
    }
    if (finite(limitAt))
      parts.push(`<line class="limit" x1="${px(limitAt)}" y1="${px(barY - 5)}" x2="${px(limitAt)}" y2="${px(barY + BAR_HEIGHT + 5)}" stroke="#212121" stroke-width="2"/>`);
    parts.push('</g>');
    return parts.join('');
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" role="img" aria-label="${escapeXml(CHART_TITLE)}">`,
    `<title>${escapeXml(CHART_TITLE)}</title>`,
    '<style>text{font-family:sans-serif;fill:#212121}.title{font-size:16px;font-weight:bold}.label{font-size:12px}.sub,.legend,.axis{font-size:11px;fill:#555}.value{font-size:12px;font-weight:bold}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="26" class="title">${escapeXml(CHART_TITLE)}</text>`,
    `<text x="12" y="46" class="legend">${escapeXml("Each bar: ours ÷ the yardstick named under its label (1× = equal). Black mark: the row's limit.")}</text>`,
    ...[
      ['met', 'met'],
      ['missed', 'missed'],
      ['unknown', 'undecided'],
    ].map(([key, word], i) => `<rect x="${12 + i * 84}" y="53" width="10" height="10" fill="${COLOUR[key]}"/><text x="${26 + i * 84}" y="62" class="legend">${word}</text>`),
    ...grid,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- files

/** Writes to `${file}.tmp`, then renames it, so a reader never sees half a file. */
async function writeAtomic(file, text) {
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

/** One object per case in a stable key order, with its verdict filled in. */
const caseRecord = (row) => {
  const { case: name, title, unit, ours, workbox, ideal, ratio, ratioOf, op, limit, target, note, runs, met: _met, ...rest } = row;
  return { case: name, title, unit, ours, workbox, ideal, ratio, ratioOf, target, op, limit, met: metOf(row), ...(note ? { note } : {}), ...rest, ...(runs ? { runs } : {}) };
};

/** Writes `${dir}/latest.json` ({ date, machine, config, cases }) and `${dir}/latest.svg`; resolves with both paths. */
export async function writeSummary(rows, { dir, date, machine, config }) {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const svg = join(dir, 'latest.svg');
  const data = { date: date instanceof Date ? date.toISOString() : date, machine, config, cases: rows.map(caseRecord) };
  // Arrays of plain numbers (the runs) on one line each.
  const text = JSON.stringify(data, null, 2).replace(/\[\s*((?:-?[\d.e+-]+|null)(?:,\s*(?:-?[\d.e+-]+|null))*)\s*\]/g, (_, inner) => `[${inner.replace(/,\s+/g, ', ')}]`);
  await writeAtomic(json, `${text}\n`);
  await writeAtomic(svg, summarySvg(rows));
  return { json, svg };
}

/**
 * Replaces what lies between the README's `<!-- bench-summary:start -->` and
 * `<!-- bench-summary:end -->` lines with the table and the chart; resolves
 * with whether the file changed (running it twice changes nothing).
 */
export async function updateReadmeSection(readmePath, markdown, svgRelativePath) {
  const text = await readFile(readmePath, 'utf8');
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() === README_START);
  const end = lines.findIndex((l, i) => i > start && l.trim() === README_END);
  if (start === -1 || end === -1)
    throw new Error(`${readmePath} has no bench summary section: add a line ${README_START} and, below it, a line ${README_END} where the table and chart should go`);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const section = `${markdown.trim()}\n\n![${CHART_TITLE}: each case's ratio against its target](${svgRelativePath})`.split('\n');
  const next = [...lines.slice(0, start + 1), ...section, ...lines.slice(end)].join(eol);
  if (next === text) return false;
  await writeAtomic(readmePath, next);
  return true;
}
