/**
 * Chromium driver: playwright-core over the Chrome DevTools Protocol, against
 * Debian's /usr/bin/chromium (Playwright's own browser downloads are not used).
 */
import { chromium, type BrowserContext, type CDPSession } from 'playwright-core';
import ARGS_JSON from './chromium-args.json';
import { scriptPage } from './script-page.js';
import { requireExecutable, useProfile } from './profile.js';
import type { BrowserSession, LaunchOptions } from './types.js';

const EXECUTABLE = '/usr/bin/chromium';

/**
 * Headless on this machine's closed network: without the background-networking
 * flags Chromium's own connections are refused by the dozen; the resolver rule
 * fails any host but loopback at once. Shared with the benchmark (bench/lib/browser.mjs).
 */
const ARGS: string[] = ARGS_JSON;

export async function launchChromium(options: LaunchOptions = {}): Promise<BrowserSession> {
  await requireExecutable('chromium', EXECUTABLE, 'apt-get install -y chromium');
  const profile = await useProfile('chromium', options);
  const profileDir = profile.dir;
  let context: BrowserContext;
  try {
    // A persistent context is one profile: every page shares its service workers.
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: EXECUTABLE,
      headless: true,
      args: ARGS,
    });
  } catch (error) {
    await profile.remove();
    throw error;
  }
  const version = context.browser()?.version() ?? 'unknown';
  let cdp: CDPSession | undefined;

  return {
    engine: 'chromium',
    version,
    hasBackgroundSync: true,
    async newPage() {
      const page = await context.newPage();
      return {
        ...scriptPage(page),
        async screenshot(selector, path) {
          await page.locator(selector).first().screenshot({ path, animations: 'disabled' });
        },
      };
    },
    async stopServiceWorkers() {
      // The ServiceWorker domain exists only on page targets ("wasn't found" on
      // the browser target), so it goes through the persistent context's own
      // first tab, which no scenario sees or navigates. The command replies once
      // every worker has stopped, so the next event starts a fresh worker.
      cdp ??= await context.newCDPSession(context.pages()[0] ?? (await context.newPage()));
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
    },
    setOffline: (offline) => context.setOffline(offline),
    async dispatchSync(origin, tag, lastChance = false) {
      cdp ??= await context.newCDPSession(context.pages()[0] ?? (await context.newPage()));
      // Registrations are announced on enable: re-enable to hear the current ones.
      const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
      const heard = (event: { registrations: typeof registrations }) => registrations.push(...event.registrations);
      cdp.on('ServiceWorker.workerRegistrationUpdated', heard);
      await cdp.send('ServiceWorker.disable');
      await cdp.send('ServiceWorker.enable');
      await new Promise((resolve) => setTimeout(resolve, 200));
      cdp.off('ServiceWorker.workerRegistrationUpdated', heard);
      const registration = registrations.reverse().find((r) => r.scopeURL.startsWith(origin) && !r.isDeleted);
      if (!registration) throw new Error(`chromium: no service worker registration for ${origin}`);
      await cdp.send('ServiceWorker.dispatchSyncEvent', { origin, registrationId: registration.registrationId, tag, lastChance });
    },
    async close() {
      try {
        await context.close();
      } finally {
        await profile.remove();
      }
    },
  };
}
