// `npm test`: unit, integration and end-to-end tests (after `npm run build`).
// It installs the Debian browsers when they are missing and it runs as root;
// otherwise it says what to install and skips only the browser layer, loudly.
// Under CI (or OUTBOX_E2E_REQUIRED=1) a missing browser fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

const BROWSERS = [
  { pkg: 'chromium', file: '/usr/bin/chromium' },
  { pkg: 'firefox-esr', file: '/usr/bin/firefox-esr' },
  { pkg: 'webkit2gtk-driver', file: '/usr/bin/WebKitWebDriver' },
  { pkg: 'xvfb', file: '/usr/bin/Xvfb' },
];

const args = process.argv.slice(2);
const e2eOnly = args.includes('--e2e-only');
const required = process.env.OUTBOX_E2E_REQUIRED === '1' || /^(1|true)$/i.test(process.env.CI ?? '');
const missing = () => BROWSERS.filter((b) => !existsSync(b.file)).map((b) => b.pkg);

let absent = missing();
if (absent.length && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log(`Installing the browsers for the end-to-end tests: apt-get install -y ${absent.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  spawnSync('apt-get', ['install', '-y', ...absent], { stdio: 'inherit', env });
  absent = missing();
}
const banner = absent.length
  ? `\n${'*'.repeat(78)}\n*** The browser layer ${required ? 'CANNOT RUN' : 'IS SKIPPED'}: ${absent.join(', ')} missing.\n*** Install them (as root): apt-get update && apt-get install -y ${absent.join(' ')}\n${'*'.repeat(78)}\n`
  : '';
if (banner) console.warn(banner);

mkdirSync('.cache', { recursive: true });
const report = '.cache/vitest-report.json';
const vitest = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', ...(e2eOnly ? ['--project', 'e2e'] : []), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
  { stdio: 'inherit', env: { ...process.env, OUTBOX_E2E_REQUIRED: required ? '1' : '' } },
);

let status = vitest.status ?? 1;
try {
  const { numPassedTests, numFailedTests, numPendingTests, numTotalTests } = JSON.parse(readFileSync(report, 'utf8'));
  if (banner) console.warn(banner);
  if (numTotalTests === 0) status = 1;
  console.log(`\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests} skipped`);
} catch {
  status ||= 1;
}
process.exit(status);
