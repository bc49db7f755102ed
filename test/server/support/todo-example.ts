/**
 * The todo example (examples/todo/server.mjs) as a child process, for the
 * tests that run several of it: started as a user starts it (PORT=0, its
 * URL read from the first line it prints), asked over real HTTP, and its
 * change feed read as Server-Sent Events. It imports `offline-outbox/server`
 * from dist/, so these tests need `npm run build` first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_SERVER = fileURLToPath(new URL('../../../examples/todo/server.mjs', import.meta.url));
export const CLUSTER_SCRIPT = fileURLToPath(new URL('../../../scripts/start-cluster.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../../dist/server.mjs', import.meta.url));
const URL_LINE = /^todo example: (http:\/\/127\.0\.0\.1:\d+\/)\n/;
export const STARTUP_MS = 15_000;

export interface Instance {
  name: string;
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/` */
  url: string;
  api: (path: string, init?: RequestInit) => Promise<Response>;
}

export interface Todo {
  id: string;
  title: string;
  done: boolean;
}

/** Throws, saying what to run, when dist/server.mjs is not built. */
export function requireBuild(): void {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build first (the example imports offline-outbox/server from dist/)`);
}

/** Starts one instance with `env` over this process's (PORT=0 and TODO_QUIET=1 by default); resolves once it printed its URL. */
export async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, [EXAMPLE_SERVER], { env: { ...process.env, PORT: '0', TODO_QUIET: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`instance ${name} ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not print its URL within ${STARTUP_MS} ms`), STARTUP_MS);
    child.once('close', (code) => fail(`exited (${code}) before printing its URL`));
    child.stdout!.on('data', (chunk) => {
      stdout += String(chunk);
      const match = URL_LINE.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('close');
      resolve(match[1]!);
    });
  });
  return { name, child, url, api: (path, init) => fetch(new URL(path, url), init) };
}

/** Kills `child` (SIGKILL unless told otherwise) and waits for it to exit; nothing when it already has. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export const post = (body: unknown, key?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
  body: JSON.stringify(body),
});
export const newKey = () => `"${crypto.randomUUID()}"`;
export const list = async (instance: Instance) => (await (await instance.api('api/todos')).json()) as Todo[];
export const titled = async (instance: Instance, title: string) => (await list(instance)).filter((t) => t.title === title);

/**
 * Reads a Server-Sent Events stream with fetch, one event (its fields) at a
 * time, comment lines skipped: `next()` gives every event (a `retry:`-only
 * one too), `nextWithData()` only those that carry data.
 */
export async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const next = async (): Promise<Record<string, string>> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || line === '') continue;
          const colon = line.indexOf(':');
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          fields[name] = name in fields ? `${fields[name]}\n${value}` : value;
        }
        if (Object.keys(fields).length > 0) return fields;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended; unread: ${JSON.stringify(buffer)}`);
      buffer += decoder.decode(value, { stream: true });
    }
  };
  return {
    response,
    next,
    async nextWithData(): Promise<Record<string, string>> {
      for (;;) {
        const fields = await next();
        if ('data' in fields) return fields;
      }
    },
    close: () => controller.abort(),
  };
}

/** Polls `probe` every 20 ms until it gives a value; rejects after `withinMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
