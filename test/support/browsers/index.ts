/**
 * The engines every end-to-end scenario runs in, and whether each can run
 * here. With OUTBOX_E2E_REQUIRED=1 (CI), a missing engine fails its tests
 * instead of skipping them.
 */
import { existsSync } from 'node:fs';
import { launchChromium } from './chromium.js';
import { launchFirefox } from './firefox.js';
import type { BrowserSession, EngineName, LaunchOptions } from './types.js';
import { launchWebKit } from './webkit.js';

export type { BrowserPage, BrowserSession, EngineName } from './types.js';

interface Engine {
  readonly name: EngineName;
  readonly binaries: readonly string[];
  readonly install: string;
  readonly launch: (options?: LaunchOptions) => Promise<BrowserSession>;
}

export const engines: readonly Engine[] = [
  { name: 'chromium', binaries: ['/usr/bin/chromium'], install: 'apt-get install -y chromium', launch: launchChromium },
  { name: 'firefox', binaries: ['/usr/bin/firefox-esr'], install: 'apt-get install -y firefox-esr', launch: launchFirefox },
  {
    name: 'webkit',
    binaries: ['/usr/bin/WebKitWebDriver', '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/bin/Xvfb'],
    install: 'apt-get install -y webkit2gtk-driver xvfb',
    launch: launchWebKit,
  },
];

export const browsersRequired = process.env.OUTBOX_E2E_REQUIRED === '1';

/** What is missing for an engine, or undefined when it can run. */
export function missingFor(engine: Engine): string | undefined {
  const missing = engine.binaries.filter((b) => !existsSync(b));
  return missing.length ? `${missing.join(', ')} not found; install with: ${engine.install}` : undefined;
}

/** The engines to run: all of them, or OUTBOX_ENGINES=chromium,webkit for a subset while developing. */
export function selectedEngines(): readonly Engine[] {
  if (browsersRequired) return engines;
  const only = process.env.OUTBOX_ENGINES?.split(',').map((s) => s.trim());
  return only ? engines.filter((e) => only.includes(e.name)) : engines;
}

/** Whether to skip an engine's tests: only when it is missing and not required (then loudly). */
export function skipEngine(engine: Engine): boolean {
  const missing = missingFor(engine);
  if (!missing || browsersRequired) return false;
  console.warn(`\n*** SKIPPING ${engine.name} end-to-end tests: ${missing} ***\n`);
  return true;
}
