/**
 * Headless Chromium through playwright-core, launched exactly as the
 * end-to-end tests launch it (test/support/browsers/chromium.ts): Debian's
 * /usr/bin/chromium and the same arguments, which this machine needs. The
 * arguments are copied rather than imported because that module is
 * TypeScript and the bench runs as plain Node.
 *
 * Every launch gets a fresh, empty profile directory, removed on close.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { constants, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { withTimeout } from './util.mjs';

export const EXECUTABLE = '/usr/bin/chromium';

// The same launch arguments as the end-to-end tests' Chromium driver.
const ARGS = JSON.parse(readFileSync(new URL('../../test/support/browsers/chromium-args.json', import.meta.url), 'utf8'));

/** @returns {Promise<{ context: import('playwright-core').BrowserContext, version: string, close: () => Promise<void> }>} */
export async function launchBrowser() {
  try {
    await access(EXECUTABLE, constants.X_OK);
  } catch {
    throw new Error(`Chromium is missing at ${EXECUTABLE}; install it: apt-get install -y chromium`);
  }
  const profileDir = await mkdtemp(join(tmpdir(), 'outbox-bench-chromium-'));
  let context;
  try {
    context = await withTimeout(chromium.launchPersistentContext(profileDir, { executablePath: EXECUTABLE, headless: true, args: ARGS }), 60_000, 'launching Chromium');
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw error;
  }
  return {
    context,
    version: context.browser()?.version() ?? 'unknown',
    async close() {
      try {
        await withTimeout(context.close(), 30_000, 'closing Chromium');
      } finally {
        await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
}
