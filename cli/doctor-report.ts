/**
 * Doctor's two outputs: a table that reads in 100 columns (long cells wrap
 * within their column, the fix goes under its row), and JSON for scripts.
 * Plain text: the table is read in terminals, logs and CI alike.
 */
import type { Finding, Verdict } from './doctor-finding.js';

export interface DoctorReport {
  /** The page doctor was pointed at. */
  url: string;
  /** Where the manifest came from (a URL, or the --manifest file); null when none was read. */
  manifest: string | null;
  findings: Finding[];
  /** How many findings are blockers: exit 1 when any. */
  blockers: number;
}

export const formatJson = ({ url, manifest, findings, blockers }: DoctorReport): string => JSON.stringify({ url, manifest, findings, blockers }, null, 2);

const WIDTH = 100; // columns
const COLUMNS = [
  { title: 'CHECK', width: 11 },
  { title: 'SUBJECT', width: 22 },
  { title: 'VERDICT', width: 7 },
] as const;
const GAP = 2;
const SEEN_AT = COLUMNS.reduce((at, c) => at + c.width + GAP, 0);
/** Where a fix starts: under the subject. */
const FIX_AT = COLUMNS[0].width + GAP;

/** Lines of at most `width` characters: words kept whole unless longer than a line; `\n` starts a new line. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (let word of paragraph.split(/ +/)) {
      while (word.length > width) {
        if (line) lines.push(line);
        line = '';
        // A long URL breaks before a "/", "?" or "&" where it can.
        const at = Math.max(...['/', '?', '&'].map((c) => word.lastIndexOf(c, width)));
        const cut = at > 0 ? at : width;
        lines.push(word.slice(0, cut));
        word = word.slice(cut);
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

function row(f: Finding): string[] {
  const cells = [wrap(f.check, COLUMNS[0].width), wrap(f.subject, COLUMNS[1].width), [f.verdict], wrap(f.seen, WIDTH - SEEN_AT)];
  const height = Math.max(...cells.map((c) => c.length));
  const lines: string[] = [];
  for (let i = 0; i < height; i++) {
    const parts = COLUMNS.map((c, n) => (cells[n]![i] ?? '').padEnd(c.width + GAP));
    lines.push(`${parts.join('')}${cells[3]![i] ?? ''}`.trimEnd());
  }
  if (f.fix) {
    const [first, ...rest] = wrap(f.fix, WIDTH - FIX_AT - 5);
    lines.push(`${' '.repeat(FIX_AT)}fix: ${first}`, ...rest.map((l) => `${' '.repeat(FIX_AT + 5)}${l}`));
  }
  return lines;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatTable(report: DoctorReport): string {
  const tally = (v: Verdict) => report.findings.filter((f) => f.verdict === v).length;
  const header = COLUMNS.map((c) => c.title.padEnd(c.width + GAP)).join('');
  const summary = [count(report.blockers, 'blocker'), count(tally('warn'), 'warning'), `${tally('unknown')} unknown`, `${tally('ok')} ok`].join(', ');
  return [
    `offline-outbox doctor ${report.url}`,
    `manifest: ${report.manifest ?? 'none read'}`,
    '',
    `${header}SEEN`,
    ...report.findings.flatMap(row),
    '',
    report.blockers ? `${summary}: fix the blockers, then run doctor again` : `${summary}: no blocker`,
  ].join('\n');
}
