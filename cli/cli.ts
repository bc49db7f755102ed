/** The `offline-outbox` command. */
import { checkFile } from './check.js';

const USAGE = `usage: offline-outbox <command>

commands:
  check <manifest.json>   validate a route manifest: lists every problem (exit 1),
                          or prints one line per route (exit 0)`;

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
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  console.error(`offline-outbox: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
