// `npm test`: unit, then integration, then end-to-end tests (after `npm run build`).
// It installs the Debian browsers when they are missing and it runs as root;
// otherwise it says what to install and skips only the browser layer, loudly.
// Under CI (or OUTBOX_E2E_REQUIRED=1) a missing browser fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const BROWSERS = [
  { pkg: 'chromium', file: '/usr/bin/chromium' },
  { pkg: 'firefox-esr', file: '/usr/bin/firefox-esr' },
  { pkg: 'webkit2gtk-driver', file: '/usr/bin/WebKitWebDriver' },
  { pkg: 'xvfb', file: '/usr/bin/Xvfb' },
  // Not a browser: the server tests start their own redis-server.
  { pkg: 'redis-server', file: '/usr/bin/redis-server' },
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
// One project at a time, in this order: run together, vitest starts all three
// at once, and on two cores the browsers and the worker emulation starve
// each other's timers. Each run writes its own report; the sums go to
// .cache/vitest-report.json, as one run's would.
const PROJECTS = e2eOnly ? ['e2e'] : ['unit', 'integration', 'server', 'e2e'];
const COUNTS = [
  'numTotalTests',
  'numPassedTests',
  'numFailedTests',
  'numPendingTests',
  'numTodoTests',
  'numTotalTestSuites',
  'numPassedTestSuites',
  'numFailedTestSuites',
  'numPendingTestSuites',
];
const combined = { success: true, testResults: [], ...Object.fromEntries(COUNTS.map((name) => [name, 0])) };
let status = 0;
for (const project of PROJECTS) {
  const report = `.cache/vitest-report-${project}.json`;
  rmSync(report, { force: true });
  console.log(`\n--- ${project} tests ---`);
  const vitest = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--project', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { stdio: 'inherit', env: { ...process.env, OUTBOX_E2E_REQUIRED: required ? '1' : '' } },
  );
  status ||= vitest.status ?? 1;
  try {
    const result = JSON.parse(readFileSync(report, 'utf8'));
    for (const name of COUNTS) combined[name] += result[name] ?? 0;
    combined.success &&= result.success !== false;
    combined.testResults.push(...(result.testResults ?? []));
  } catch {
    console.error(`The ${project} tests wrote no report (${report}).`);
    status ||= 1;
    combined.success = false;
  }
}
writeFileSync('.cache/vitest-report.json', JSON.stringify(combined));

if (banner) console.warn(banner);
// No test at all is a failure too (a wrong filter, a broken config).
if (combined.numTotalTests === 0) status ||= 1;
console.log(`\ntests: ${combined.numPassedTests} passed, ${combined.numFailedTests} failed, ${combined.numPendingTests} skipped`);
process.exit(status);
