/**
 * The examples' servers serve the page scripts from dist/ side by side, as
 * register.js expects: with `data-ui` it loads `outbox-status.js` from its own
 * folder. Each server runs as a user runs it, on a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));
const STARTUP_MS = 15_000;
const FILES = ['register.js', 'outbox-status.js', 'sw.js'];

/** Starts `examples/<name>/server.mjs` and resolves with its origin once it prints it. */
function start(name: string, env: Record<string, string>): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [join(examplesDir, name, 'server.mjs')], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not print its URL within ${STARTUP_MS} ms`), STARTUP_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`the ${name} example ${why}; it printed:\n${output}`));
    };
    child.once('close', (code) => fail(`exited (${code}) before printing its URL`));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    child.stdout!.on('data', (chunk) => {
      output += String(chunk);
      const origin = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      if (!origin) return;
      clearTimeout(timer);
      child.removeAllListeners('close');
      resolve({ child, origin });
    });
  });
}

describe.each(['todo', 'items'])('the %s example', (name) => {
  let server: { child: ChildProcess; origin: string } | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `outbox-${name}-`));
    server = await start(name, { TODO_DATA: join(dataDir, 'todos.json'), TODO_QUIET: '1' });
  });
  afterAll(async () => {
    server?.child.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(FILES)('serves dist/%s at the root, beside register.js', async (file) => {
    const response = await fetch(`${server!.origin}/${file}`);
    if (!existsSync(join(distDir, file))) {
      // Not built: the server says how to fix it.
      expect(response.status).toBe(500);
      expect(await response.text()).toContain('npm run build');
      return;
    }
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(Buffer.from(await response.arrayBuffer()).equals(await readFile(join(distDir, file)))).toBe(true);
  });
});
