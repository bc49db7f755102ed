/**
 * The plugin's errors. Each has a stable kebab-case code, which Vite keeps
 * as the build error's `pluginCode` (tests assert it), and a message that
 * names the input and says what to do; the messages live here, in one map.
 */
const messages = {
  'invalid-option': (detail: string) => `offlineOutbox(): ${detail}`,
  'manifest-unreadable': (file: string, why: string) =>
    `${file}: cannot read the route manifest (${why}); write it there (\`npx offline-outbox init <folder>\` writes a starter one to copy), or point offlineOutbox({ manifest }) at yours`,
  // check's own report, line for line: every problem with its field path and fix.
  'invalid-manifest': (lines: readonly string[]) => lines.join('\n'),
  'package-file-missing': (message: string) => message,
} as const;

export type PluginErrorCode = keyof typeof messages;

export interface PluginErrorData {
  code: PluginErrorCode;
  message: string;
}

/** Plain data, the shape `this.error` takes and Vite's dev logger prints. */
export function pluginError<C extends PluginErrorCode>(code: C, ...args: Parameters<(typeof messages)[C]>): PluginErrorData {
  return { code, message: (messages[code] as (...a: typeof args) => string)(...args) };
}
