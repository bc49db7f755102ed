/**
 * A real redis-server (Debian's) per test file: its own unix socket and a
 * free TCP port, no persistence (`--save ''`, no appendonly), stopped by pid.
 * Never shared between files, never mocked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly socket: string;
  readonly pid: number;
  /** Stops it (SIGKILL when `hard`: Redis gone without a goodbye) and removes its folder. */
  stop(hard?: boolean): Promise<void>;
}

export const REDIS_SERVER = '/usr/bin/redis-server';

/** Starts one; rejects with the install command when redis-server is missing. */
export async function startRedis(port?: number): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'outbox-redis-'));
  const socket = join(dir, 'r.sock');
  const listen = port ?? (await freePort());
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(listen), '--bind', '127.0.0.1', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${listen}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `redis://127.0.0.1:${listen}`,
    port: listen,
    socket,
    pid: child.pid!,
    async stop(hard = false) {
      if (child.exitCode === null) {
        child.kill(hard ? 'SIGKILL' : 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
