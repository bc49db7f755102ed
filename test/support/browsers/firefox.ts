/**
 * Firefox driver: puppeteer-core over WebDriver BiDi, against Debian's
 * /usr/bin/firefox-esr.
 */
import puppeteer, { type Browser } from 'puppeteer-core';
import { scriptPage } from './script-page.js';
import { requireExecutable, useProfile } from './profile.js';
import type { BrowserSession, LaunchOptions } from './types.js';

const EXECUTABLE = '/usr/bin/firefox-esr';

/**
 * Service workers need no pref on http://127.0.0.1 (a secure context), and
 * puppeteer already writes the usual "no telemetry, no updates" prefs. What
 * still went out (seen with strace) was Remote Settings polling
 * firefox.settings.services.mozilla.com: release builds ignore an override of
 * `services.settings.server` unless MOZ_DISABLE_NONLOCAL_CONNECTIONS=1 is set
 * (see `env` below), and with this dummy URL it skips syncing altogether.
 */
const PREFS: Record<string, unknown> = {
  'services.settings.server': 'data:,#remote-settings-dummy/v1',
};

export async function launchFirefox(options: LaunchOptions = {}): Promise<BrowserSession> {
  await requireExecutable('firefox', EXECUTABLE, 'apt-get install -y firefox-esr');
  const profile = await useProfile('firefox', options);
  const profileDir = profile.dir;
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: EXECUTABLE,
      headless: true,
      userDataDir: profileDir,
      extraPrefsFirefox: PREFS,
      // Mozilla's test-harness switch: Firefox refuses any connection that is
      // not to a loopback address, and honours the Remote Settings pref above.
      env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: '1' },
    });
  } catch (error) {
    await profile.remove();
    throw error;
  }
  const version = await browser.version();

  return {
    engine: 'firefox',
    version,
    hasBackgroundSync: false,
    async newPage() {
      return scriptPage(await browser.newPage());
    },
    async stopServiceWorkers() {
      throw new Error('stopServiceWorkers: only Chromium can stop service workers (DevTools ServiceWorker.stopAllWorkers); Firefox has no such command over WebDriver BiDi');
    },
    async close() {
      try {
        await browser.close();
      } finally {
        await profile.remove();
      }
    },
  };
}
