/** `offline-outbox schema [--out <file>]`: the manifest's JSON Schema, printed or written. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CheckOutput } from './check.js';
import { manifestSchema } from './manifest-schema.js';
import { errorCode } from './package-files.js';

export async function writeSchema(out?: string): Promise<CheckOutput> {
  const text = JSON.stringify(manifestSchema(), null, 2);
  if (out === undefined) return { ok: true, lines: [text] };
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${text}\n`);
  } catch (error) {
    return { ok: false, lines: [`${out}: cannot write it (${errorCode(error)})`] };
  }
  return { ok: true, lines: [`wrote ${out}`] };
}
