/** Types for `summary.mjs`, so TypeScript tests can import it. */
export interface SummaryRow {
  /** Unique id, e.g. 'enqueue-rate'. */
  case: string;
  /** Human words, e.g. 'enqueue: 1,000 offline POSTs, 50 in flight, strict durability'. */
  title: string;
  /** The unit of `ours`, `workbox` and `ideal`, e.g. 'writes/s', 'ms', 'KB/write'. */
  unit: string;
  /** Medians over runs; null when not measured or not applicable. */
  ours: number | null;
  workbox: number | null;
  ideal: number | null;
  runs?: { ours?: number[]; workbox?: number[]; ideal?: number[] };
  ratio: number | null;
  /** What the ratio divides, e.g. 'ours ÷ ideal worker'. */
  ratioOf: string;
  /** The target: `ratio op limit`. */
  op: '<=' | '>=';
  limit: number;
  /** The target in words, e.g. '≥ 0.95× the ideal worker'. */
  target: string;
  /** Null: could not be decided. @default verdictOf(ratio, op, limit) */
  met?: boolean | null;
  note?: string;
}
export interface SummaryMachine {
  cpuCount?: number;
  cpuModel?: string;
  chromium?: string;
  [key: string]: unknown;
}
export declare const README_START: string;
export declare const README_END: string;
/** Whether `ratio op limit` holds; null when the ratio is null or NaN. */
export declare function verdictOf(ratio: number | null, op: '<=' | '>=', limit: number): boolean | null;
/** 3 significant digits, thousands separated; '—' for null. */
export declare function formatNumber(n: number | null | undefined): string;
export declare function escapeXml(text: string): string;
/** Aligned plain-text columns, then "targets met: N of M". */
export declare function formatSummaryTable(rows: SummaryRow[]): string;
/** A one-line caption and a GitHub-markdown table of the same columns. */
export declare function summaryMarkdown(rows: SummaryRow[], options?: { date?: Date | string; machine?: SummaryMachine }): string;
/** A standalone SVG bar chart of the ratios. */
export declare function summarySvg(rows: SummaryRow[]): string;
/** Writes `${dir}/latest.json` and `${dir}/latest.svg` atomically; resolves with their paths. */
export declare function writeSummary(
  rows: SummaryRow[],
  options: { dir: string; date?: Date | string; machine?: SummaryMachine; config?: unknown },
): Promise<{ json: string; svg: string }>;
/** Replaces the README's bench-summary section; resolves with whether the file changed. Throws when the markers are missing. */
export declare function updateReadmeSection(readmePath: string, markdown: string, svgRelativePath: string): Promise<boolean>;
