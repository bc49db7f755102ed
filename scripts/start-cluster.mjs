/**
 * `npm run start:cluster`: the todo example as many servers run it — two
 * instances of examples/todo/server.mjs sharing one Redis (their todos,
 * idempotency keys and change feed), behind a round-robin proxy on PORT
 * (default 5173). Without REDIS_URL it starts its own redis-server on a free
 * port, with its data in examples/todo/data/redis/. Ctrl-C stops all of it.
 *
 *   npm run start:cluster
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=8080 npm run start:cluster
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createProxy } from '../examples/todo/cluster/proxy.mjs';

const SERVER = fileURLToPath(new URL('../examples/todo/server.mjs', import.meta.url));
const REDIS_DIR = fileURLToPath(new URL('../examples/todo/data/redis/', import.meta.url));
const INSTANCES = ['a', 'b'];
const STARTUP_MS = 15_000;
const STOP_MS = 5_000; // how long a child gets to exit on SIGTERM before SIGKILL
const port = Number(process.env.PORT ?? 5173);
const children = [];
let stopping = false;

function fail(message) {
  console.error(`cluster: ${message}`);
  return stop(1);
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });

/** Resolves with the first line of the child's stdout that `pattern` matches; rejects if it exits first. */
function waitFor(child, stream, pattern, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${STARTUP_MS} ms:\n${seen}`)), STARTUP_MS);
    const onData = (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve({ match, seen });
    };
    stream.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${seen}`));
    });
  });
}

function keep(name, child) {
  children.push({ name, child });
  child.once('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited (${signal ?? code}); stopping the rest`);
  });
  return child;
}

async function startRedis() {
  if (spawnSync('redis-server', ['--version']).error) {
    console.error(`cluster: redis-server is not installed, and REDIS_URL is not set.
  Install it:  apt-get install redis-server   (Debian, Ubuntu)
               brew install redis             (macOS)
  or point at a Redis you have:  REDIS_URL=redis://127.0.0.1:6379 npm run start:cluster`);
    process.exit(1);
  }
  mkdirSync(REDIS_DIR, { recursive: true });
  const redisPort = await freePort();
  // Snapshots in examples/todo/data/redis/ (and one at Ctrl-C), so the todos outlive a restart.
  const redis = keep(
    'redis-server',
    spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', REDIS_DIR, '--save', '60 1', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await waitFor(redis, redis.stdout, /Ready to accept connections/, 'redis-server');
  redis.stdout.resume();
  return `redis://127.0.0.1:${redisPort}`;
}

async function startInstance(name, redisUrl) {
  const child = keep(`instance ${name}`, spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: '0', REDIS_URL: redisUrl }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const { match } = await waitFor(child, child.stdout, /^todo example: (http:\/\/127\.0\.0\.1:\d+)\/$/m, `instance ${name}`);
  // Its access log, one line per request, marked with the instance; its "what to try" is the cluster's below.
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) if (out === process.stderr || /^\d\d:\d\d:\d\d /.test(line)) out.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return { name, url: match[1] };
}

let proxy;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  proxy?.close();
  proxy?.closeAllConnections();
  // Instances first (they hold Redis connections), then Redis, which saves its snapshot on SIGTERM.
  const isRedis = ({ name }) => name === 'redis-server';
  await Promise.all(children.filter((c) => !isRedis(c)).map(({ child }) => end(child)));
  await Promise.all(children.filter(isRedis).map(({ child }) => end(child)));
  process.exit(code);
}

async function end(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await exited;
  clearTimeout(timer);
}

process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

try {
  const redisUrl = process.env.REDIS_URL ?? (await startRedis());
  const upstreams = await Promise.all(INSTANCES.map((name) => startInstance(name, redisUrl)));
  proxy = createProxy(upstreams);
  proxy.listen(port, '127.0.0.1');
  await Promise.race([once(proxy, 'listening'), once(proxy, 'error').then(([error]) => Promise.reject(error))]);
  const origin = `http://127.0.0.1:${proxy.address().port}`;
  console.log(`todo cluster: ${origin}/

  Two instances of the todo example share one Redis: ${process.env.REDIS_URL ? redisUrl : `${redisUrl} (data in ${REDIS_DIR})`}
${upstreams.map((u) => `    instance ${u.name}: ${u.url}/`).join('\n')}
  The proxy on ${origin} sends each request to the next instance in turn
  (each answer's X-Upstream header names the one that gave it).

  What to try:
    1. Open ${origin}/ in two tabs: a change in one shows in the other,
       though its notice was published by the other instance.
    2. Go offline, change things, come back: each queued write is applied once,
       whichever instance its replay reaches.
    3. curl -si ${origin}/api/todos -H 'content-type: application/json' \\
         -H 'idempotency-key: "try-1"' -d '{"title":"Once"}'
       twice: the second answer comes from the other instance, with
       Idempotent-Replayed: true, and the list holds one "Once".
    4. Instances a and b log their requests below; Ctrl-C stops everything.
`);
} catch (error) {
  fail(error.message);
}
