/** The `offline-outbox` command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildWorker } from './build.js';
import { checkFile, type CheckOutput } from './check.js';
import { doctor, doctorOptions } from './doctor.js';
import { formatJson, formatTable } from './doctor-report.js';
import { initSite } from './init.js';
import { writeSchema } from './schema-command.js';

const USAGE = `usage: offline-outbox <command>

commands:
  check <manifest.json>   validate a route manifest: lists every problem (exit 1),
                          or prints one line per route (exit 0)
  init [dir] [--force]    write sw.js, register.js, outbox-status.js and a starter
                          offline.manifest.json into dir (default: the current
                          folder); files already there are kept unless --force
  build --manifest <manifest.json> --out <sw.js>
                          write the worker with the manifest inlined, so it routes
                          from its first event without fetching one; an invalid
                          manifest is reported as check does (exit 1), nothing written
  doctor <url> [--manifest <file>] [--sw <path>] [--json] [--timeout <seconds>]
                          probe the running app at url against its manifest (the
                          one beside its worker, or file): page, worker and scope,
                          cache headers, ETags, change feed, Idempotency-Key; prints
                          a verdict and a fix per finding, exit 1 on a blocker
  schema [--out <file>]   print the manifest's JSON Schema (draft 2020-12), or write
                          it to file; the package ships it as
                          offline-outbox/manifest.schema.json

getting started:
  npx offline-outbox init public
  # edit public/offline.manifest.json, then
  npx offline-outbox check public/offline.manifest.json
  # and add <script src="/register.js" defer></script> to your pages; with the app running:
  npx offline-outbox doctor http://localhost:5173/`;

const INIT_USAGE = 'usage: offline-outbox init [dir] [--force]';
const BUILD_USAGE = 'usage: offline-outbox build --manifest <manifest.json> --out <sw.js>';
const SCHEMA_USAGE = 'usage: offline-outbox schema [--out <file>]';
const DOCTOR_USAGE = 'usage: offline-outbox doctor <url> [--manifest <file>] [--sw <path>] [--json] [--timeout <seconds>]';

/** Parsed arguments, or undefined after printing why they are wrong and how to call the command. */
function parse<T extends ParseArgsConfig>(config: T, usage: string) {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return undefined;
  }
}

function report({ ok, lines }: CheckOutput): number {
  (ok ? console.log : console.error)(lines.join('\n'));
  return ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'check') {
    if (rest.length !== 1) {
      console.error('usage: offline-outbox check <manifest.json>');
      return 2;
    }
    const { ok, lines } = await checkFile(rest[0]!);
    (ok ? console.log : console.error)(lines.join('\n'));
    return ok ? 0 : 1;
  }
  if (command === 'init') {
    const args = parse({ args: rest, options: { force: { type: 'boolean' } }, allowPositionals: true }, INIT_USAGE);
    if (!args) return 2;
    if (args.positionals.length > 1) {
      console.error(`expected one folder at most; got ${args.positionals.length}\n${INIT_USAGE}`);
      return 2;
    }
    return report(await initSite(args.positionals[0] ?? '.', { force: args.values.force === true }));
  }
  if (command === 'build') {
    const args = parse({ args: rest, options: { manifest: { type: 'string' }, out: { type: 'string' } } }, BUILD_USAGE);
    if (!args) return 2;
    const { manifest, out } = args.values;
    if (typeof manifest !== 'string' || typeof out !== 'string') {
      console.error(`missing ${[!manifest && '--manifest', !out && '--out'].filter(Boolean).join(' and ')}\n${BUILD_USAGE}`);
      return 2;
    }
    return report(await buildWorker(manifest, out));
  }
  if (command === 'doctor') {
    const args = parse(
      { args: rest, options: { manifest: { type: 'string' }, sw: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } }, allowPositionals: true },
      DOCTOR_USAGE,
    );
    if (!args) return 2;
    const options = doctorOptions(args.positionals, args.values);
    if (typeof options === 'string') {
      console.error(`${options}\n${DOCTOR_USAGE}`);
      return 2;
    }
    const found = await doctor(options);
    console.log(args.values.json ? formatJson(found) : formatTable(found));
    return found.blockers ? 1 : 0;
  }
  if (command === 'schema') {
    const args = parse({ args: rest, options: { out: { type: 'string' } } }, SCHEMA_USAGE);
    if (!args) return 2;
    return report(await writeSchema(args.values.out));
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  console.error(`offline-outbox: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
