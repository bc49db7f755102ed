/**
 * The processes of the server bench: a redis-server of its own (free port,
 * unix socket, `--save ''`, stopped by pid, as test/support/redis-server.ts
 * does), and Node children that say when they are listening over IPC.
 * Every child is remembered so an interrupted run stops what it started,
 * by pid, and nothing else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_START_TIMEOUT_MS = 10_000;
const CHILD_READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

/** @type {Set<import('node:child_process').ChildProcess>} */
const running = new Set();

/** Stops every child still running (an interrupted run), each by its own pid. */
export function stopAll() {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

const exited = (child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Stops one child: SIGTERM, then SIGKILL if it lingers. */
export async function stop(child) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited(child);
    clearTimeout(timer);
  }
  running.delete(child);
}

/**
 * A redis-server on 127.0.0.1 with no persistence. Rejects with the install
 * command when it is missing.
 */
export async function startRedis() {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: apt-get install -y redis-server`);
  const dir = mkdtempSync(join(tmpdir(), 'outbox-bench-redis-'));
  const socket = join(dir, 'r.sock');
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port}: ${log.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    version: redisVersion(),
    /** Empties it between trials, so each starts from the same state. */
    flush() {
      const result = spawnSync('redis-cli', ['-s', socket, 'FLUSHALL'], { encoding: 'utf8' });
      if (result.status !== 0 || !/OK/.test(result.stdout)) throw new Error(`redis-cli FLUSHALL failed: ${result.stderr || result.stdout || result.error}`);
    },
    async stop() {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisVersion() {
  const out = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** The soft limit on open files of a shell started now (Node cannot read its own). */
export function openFilesLimit() {
  const soft = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
  const hard = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
  return { soft: Number.isFinite(soft) ? soft : Infinity, hard: Number.isFinite(hard) ? hard : Infinity };
}

/**
 * Starts `node <script> ...args` with an IPC channel, optionally pinned to
 * one CPU (taskset execs node, so the pid is node's) and with a raised
 * open-files limit. Resolves once the child sends `{ type: 'ready' }`, with
 * the child and that message.
 *
 * @param {string} script
 * @param {string[]} args
 * @param {{ cpu?: number, openFiles?: number, env?: Record<string, string> }} [options]
 */
export async function startChild(script, args, { cpu, openFiles, env } = {}) {
  let command = process.execPath;
  let argv = [script, ...args];
  if (cpu !== undefined) [command, argv] = ['taskset', ['-c', String(cpu), command, ...argv]];
  if (openFiles !== undefined) [command, argv] = ['prlimit', [`--nofile=${openFiles}:`, '--', command, ...argv]];
  const child = spawn(command, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  running.add(child);
  child.inbox = [];
  child.on('message', (message) => child.inbox.push(message));
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not say it was ready within ${CHILD_READY_TIMEOUT_MS} ms`)), CHILD_READY_TIMEOUT_MS);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`${script} exited before it was ready (code ${code}, signal ${signal})`)));
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        child.inbox.splice(child.inbox.indexOf(message), 1);
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(message);
      } else if (message?.type === 'error') fail(new Error(`${script}: ${message.message}`));
    });
  });
  return { child, ready };
}

/**
 * The next message of `type` from `child` (`{ type: 'error' }` rejects), or
 * a rejection when it exits first or `timeoutMs` passes. Messages that came
 * before the call are looked at first: two can arrive in one read.
 */
export function nextMessage(child, type, timeoutMs) {
  const settle = (message, resolve, reject) => (message.type === 'error' ? reject(new Error(message.message)) : resolve(message));
  const waiting = child.inbox.findIndex((m) => m?.type === type || m?.type === 'error');
  if (waiting !== -1) return new Promise((resolve, reject) => settle(child.inbox.splice(waiting, 1)[0], resolve, reject));
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message) => {
      if (message?.type !== type && message?.type !== 'error') return;
      child.inbox.splice(child.inbox.indexOf(message), 1);
      done();
      settle(message, resolve, reject);
    };
    const onExit = (code, signal) => (done(), reject(new Error(`the child exited before sending "${type}" (code ${code}, signal ${signal})`)));
    const timer = setTimeout(() => (done(), reject(new Error(`no "${type}" from the child within ${timeoutMs} ms`))), timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Whether children can be pinned to CPUs here. */
export const canPin = () => spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Whether the open-files limit of a child can be set here. */
export const canRaiseLimit = () => spawnSync('prlimit', ['--nofile=1024:', '--', 'true']).status === 0;
