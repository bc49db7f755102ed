/**
 * WebKit driver: WebKitGTK's MiniBrowser under its own Xvfb, driven by
 * WebKitWebDriver.
 *
 * Launch: `Xvfb -displayfd` (picks a free display and tells us which) →
 * `WebKitWebDriver --port=<free> --host=127.0.0.1` with that DISPLAY → poll
 * `/status` → `POST /session` (MiniBrowser `--automation`).
 *
 * We speak plain W3C WebDriver over `fetch` rather than selenium-webdriver:
 * we need eight endpoints, the driver's error messages come through verbatim,
 * and there is no builder/browser-name/Selenium-Manager logic to second-guess.
 *
 * Isolation: `MiniBrowser --automation` always uses an *ephemeral* website
 * data manager (MiniBrowser's main.c: `if (privateMode || automationMode)
 * webkit_website_data_manager_new_ephemeral()`), so service worker
 * registrations, Cache Storage, IndexedDB, cookies and the HTTP cache live in
 * memory and die with the browser; every session is a new MiniBrowser
 * process. On top of that HOME and the XDG dirs point into a per-session temp
 * dir, so whatever GTK, GStreamer, Mesa or dconf write lands there, not in
 * the real home.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { freePort } from '../free-port.js';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireExecutable } from './profile.js';
import { BrowserMissingError, type BrowserPage, type BrowserSession, type LaunchOptions } from './types.js';

const DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const INSTALL = 'apt-get install -y webkit2gtk-driver xvfb';
const TIMEOUT_MS = 60_000;

export async function launchWebKit(options: LaunchOptions = {}): Promise<BrowserSession> {
  await requireExecutable('webkit', DRIVER, INSTALL);
  await requireExecutable('webkit', MINIBROWSER, INSTALL);
  const xvfbPath = await findOnPath('Xvfb');
  if (!xvfbPath) throw new BrowserMissingError('webkit', 'Xvfb', INSTALL);

  const ownProfile = !options.profileDir;
  const profile = options.profileDir ?? (await mkdtemp(join(tmpdir(), 'outbox-webkit-')));
  const children: Child[] = [];
  const release = onProcessDeath(() => {
    // SIGTERM, not SIGKILL: nobody waits here, and Xvfb only removes its
    // socket and lock file when it gets to exit cleanly.
    for (const child of children) if (child.proc.pid !== undefined) signalGroup(child.proc.pid, 'SIGTERM');
    if (ownProfile) rmSync(profile, { recursive: true, force: true });
  });
  const cleanup = async (): Promise<void> => {
    for (const child of children.reverse()) await stopGroup(child);
    if (ownProfile) await rm(profile, { recursive: true, force: true });
    release();
  };

  try {
    for (const dir of ['data', 'cache', 'config', 'state']) await mkdir(join(profile, dir), { recursive: true });

    // -displayfd: Xvfb chooses a free display itself (it takes the lock files
    // atomically, so parallel launches cannot collide) and writes the number
    // to fd 3 once it accepts connections, so there is nothing to poll.
    const xvfb = start(xvfbPath, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], process.env, true);
    children.push(xvfb);
    const display = await readDisplay(xvfb);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DISPLAY: `:${display}`,
      GDK_BACKEND: 'x11', // never pick up a host Wayland session
      NO_AT_BRIDGE: '1', // no accessibility-bus lookup (slow/noisy without a D-Bus session)
      HOME: profile,
      XDG_DATA_HOME: join(profile, 'data'),
      XDG_CACHE_HOME: join(profile, 'cache'),
      XDG_CONFIG_HOME: join(profile, 'config'),
      XDG_STATE_HOME: join(profile, 'state'),
    };
    delete env.WAYLAND_DISPLAY;

    const base = await startDriver(env, children);

    const created = await request<{ sessionId: string; capabilities: { browserVersion?: string } }>(base, 'POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          timeouts: { script: TIMEOUT_MS, pageLoad: TIMEOUT_MS, implicit: 0 },
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        },
      },
    });
    return createSession(`${base}/session/${created.sessionId}`, created.capabilities.browserVersion ?? 'unknown', cleanup);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function createSession(base: string, version: string, cleanup: () => Promise<void>): BrowserSession {
  const wd = <T>(method: string, path: string, body?: unknown): Promise<T> => request<T>(base, method, path, body);

  // WebDriver has one "current window" per session, so every page action is
  // queued and first switches to its own window handle.
  let queue: Promise<unknown> = Promise.resolve();
  let current: string | undefined;
  const serial = <T>(handle: string | undefined, action: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      if (handle !== undefined && handle !== current) {
        await wd('POST', '/window', { handle });
        current = handle;
      }
      return action();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  const open = new Set<string>();
  // The session starts with one blank window; the first newPage() adopts it,
  // and closing the last page blanks it instead of closing it (closing the
  // last window would end the WebDriver session).
  let spare: string | undefined;
  let spareKnown = false;
  let closing: Promise<void> | undefined;

  const newPage = (): Promise<BrowserPage> =>
    serial(undefined, async () => {
      if (closing) throw new Error('webkit: session is closed');
      if (!spareKnown) {
        spare = current = await wd<string>('GET', '/window');
        spareKnown = true;
      }
      let handle = spare;
      spare = undefined;
      if (handle === undefined) {
        // A new top-level window, not a tab: MiniBrowser keeps background
        // tabs at visibilityState 'hidden' (Switch To Window does not select
        // the tab), whereas every window on the bare Xvfb stays 'visible'.
        handle = (await wd<{ handle: string }>('POST', '/window/new', { type: 'window' })).handle;
      }
      open.add(handle);
      return makePage(handle);
    });

  const makePage = (handle: string): BrowserPage => {
    let pageClosed = false;
    const act = <T>(action: () => Promise<T>): Promise<T> =>
      serial(handle, async () => {
        if (pageClosed || closing) throw new Error('webkit: page is closed');
        return action();
      });
    return {
      goto: (url) => act(() => wd<void>('POST', '/url', { url })),
      reload: () => act(() => wd<void>('POST', '/refresh', {})),
      url: () => act(() => wd<string>('GET', '/url')),
      evaluate: <T>(fn: string | ((...args: never[]) => unknown), ...args: unknown[]) =>
        act(async () => {
          const outcome = await wd<{ ok: boolean; value?: T; message?: string }>('POST', '/execute/async', {
            script: evaluateScript(typeof fn === 'string' ? fn : fn.toString()),
            args: [args],
          });
          if (!outcome.ok) throw new Error(outcome.message ?? 'evaluate failed in the page');
          return outcome.value as T;
        }),
      close: () =>
        serial(undefined, async () => {
          if (pageClosed || closing) return;
          pageClosed = true;
          open.delete(handle);
          if (open.size === 0) {
            if (current !== handle) await wd('POST', '/window', { handle });
            current = handle;
            await wd('POST', '/url', { url: 'about:blank' });
            spare = handle;
            return;
          }
          if (current !== handle) await wd('POST', '/window', { handle });
          await wd('DELETE', '/window');
          current = undefined; // the current window is gone; next action switches
        }),
    };
  };

  return {
    engine: 'webkit',
    version,
    hasBackgroundSync: false,
    newPage,
    stopServiceWorkers: () => Promise.reject(new Error('webkit: cannot stop service workers; only Chromium can (DevTools ServiceWorker.stopAllWorkers)')),
    close: () => {
      closing ??= (async () => {
        // Quit politely first so MiniBrowser tears down its web and network
        // processes; the process-group kill below catches any straggler. (Not
        // queued: a hung evaluate must not delay close; it just fails.)
        await request(base, 'DELETE', '', undefined, 10_000).catch(() => undefined);
        await cleanup();
      })();
      return closing;
    },
  };
}

/**
 * The async-script body: `arguments` is `[args, done]`. The function source is
 * inlined (no eval, so a page CSP cannot block it) and its result, or its
 * error message, is reported as `{ ok, value | message }`; a rejection is not
 * left to WebDriver, whose error would wrap the page's message. WebKit
 * serialises an `undefined` property as `null`, so `undefined` is sent as a
 * missing `value` to come back as `undefined`.
 */
function evaluateScript(source: string): string {
  return `const [args, done] = arguments;
Promise.resolve()
  .then(() => (${source}).apply(null, args))
  .then(
    (value) => done(value === undefined ? { ok: true } : { ok: true, value }),
    (error) => done({ ok: false, message: error && typeof error.message === 'string' ? error.message : String(error) }),
  );`;
}

async function request<T>(base: string, method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: timeoutMs === undefined ? null : AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  const value: unknown = text ? (JSON.parse(text) as { value?: unknown }).value : undefined;
  if (!response.ok) {
    const { error, message } = (value ?? {}) as { error?: string; message?: string };
    throw new Error(`webkit: WebDriver ${method} ${path || '/'} failed: ${error ?? response.status}: ${message ?? text}`);
  }
  return value as T;
}

// ---------------------------------------------------------------- processes

interface Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  /** The tail of the child's stdout and stderr, for error messages. */
  output(): string;
}

/**
 * Synchronous last-resort cleanups for sessions whose close() never ran. The
 * detached groups would outlive Node, and vitest stops its fork workers with
 * SIGTERM, which skips 'exit' handlers unless someone listens for it; so we
 * listen (only while a session is open), clean up, and re-raise the signal.
 */
const onDeath = new Set<() => void>();
const runOnDeath = (): void => {
  for (const cleanup of onDeath) cleanup();
  onDeath.clear();
};
const reRaise = (signal: NodeJS.Signals): void => {
  runOnDeath();
  process.kill(process.pid, signal);
};
function onProcessDeath(cleanup: () => void): () => void {
  if (onDeath.size === 0) {
    process.on('exit', runOnDeath);
    process.once('SIGTERM', reRaise);
    process.once('SIGINT', reRaise);
  }
  onDeath.add(cleanup);
  return () => {
    onDeath.delete(cleanup);
    if (onDeath.size > 0) return;
    process.off('exit', runOnDeath);
    process.off('SIGTERM', reRaise);
    process.off('SIGINT', reRaise);
  };
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, withFd3 = false): Child {
  // detached: the child leads a new process group, which MiniBrowser and its
  // WebKitWebProcess/WebKitNetworkProcess children join, so one group kill
  // reaches all of them.
  const proc = spawn(command, args, {
    env,
    detached: true,
    stdio: withFd3 ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.once('error', (error) => {
      keep(Buffer.from(String(error)));
      resolve();
    });
  });
  return { proc, exited, output: () => tail };
}

function readDisplay(xvfb: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const fail = (why: string): void => reject(new Error(`webkit: Xvfb ${why}\n${xvfb.output()}`));
    const timer = setTimeout(() => fail('did not report a display within 10 s'), 10_000);
    xvfb.proc.stdio[3]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      resolve(Number(text.trim()));
    });
    void xvfb.exited.then(() => {
      clearTimeout(timer);
      fail('exited before it was ready');
    });
  });
}

/** Starts the driver on a free port (into `children`) and waits until `/status` answers. */
async function startDriver(env: NodeJS.ProcessEnv, children: Child[]): Promise<string> {
  // The port is free when we probe it but could be taken before the driver
  // binds it; the driver then exits, so try again with another port.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const driver = start(DRIVER, [`--port=${port}`, '--host=127.0.0.1'], env);
    children.push(driver);
    let exited = false;
    void driver.exited.then(() => (exited = true));
    for (const deadline = Date.now() + 10_000; !exited && Date.now() < deadline; await sleep(50)) {
      const ready = await fetch(`${base}/status`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return base;
    }
    await stopGroup(driver);
    children.pop();
    if (attempt === 3) throw new Error(`webkit: WebKitWebDriver did not start on ${base}\n${driver.output()}`);
  }
}

/**
 * SIGTERM to the whole group, SIGKILL what is left after 3 s, and wait until
 * no member is alive, so nothing outlives close().
 */
async function stopGroup(child: Child): Promise<void> {
  const pgid = child.proc.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, 'SIGTERM');
  if (!(await groupDead(pgid, 3_000))) {
    signalGroup(pgid, 'SIGKILL');
    await groupDead(pgid, 2_000);
  }
}

/**
 * Polls /proc for members of the group that are not zombies. MiniBrowser's
 * web and network processes are re-parented to pid 1 when it exits and stay
 * zombies until init reaps them (that took ~2 s here), and a zombie still
 * counts for `kill(-pgid, 0)`, so that probe would wait for the reaper.
 */
async function groupDead(pgid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(50)) {
    if (!(await groupHasLiveMember(pgid))) return true;
  }
  return !(await groupHasLiveMember(pgid));
}

async function groupHasLiveMember(pgid: number): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces.
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

// ---------------------------------------------------------------- binaries

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

function isExecutable(path: string): Promise<boolean> {
  return access(path, fsConstants.X_OK).then(
    () => true,
    () => false,
  );
}
