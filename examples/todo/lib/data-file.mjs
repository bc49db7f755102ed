/**
 * The example's one data file: read once at start, rewritten whole after
 * each change. A write goes to a temporary file, is synced, then renamed
 * over the old one, so a crash leaves the old data or the new, never half of
 * each. Saves asked for while one is being written share the next write.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The saved data, or undefined when there is no file yet. */
export async function readDataFile(path) {
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path} (${error.code ?? error.message})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${error.message}); fix it, or delete it to start again with the sample todos`, { cause: error });
  }
}

/** `snapshot()` gives what to write; it is called when a write starts, so a write holds every change made before it. */
export function createDataFile(path, snapshot) {
  const temporary = `${path}.tmp`;
  let running = Promise.resolve();
  let next;

  async function write() {
    next = undefined;
    const text = `${JSON.stringify(snapshot(), null, 2)}\n`;
    await mkdir(dirname(path), { recursive: true });
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  }

  return {
    path,
    /** Resolves once a write that began after this call has reached the disk. */
    save() {
      if (!next) {
        next = running.then(write);
        running = next.catch(() => {});
      }
      return next;
    },
    /** Resolves when no write is running (used at shutdown). */
    settled: () => running,
  };
}
