/** What every launcher does first: check the binary is there, and make a fresh profile (or use the caller's). */
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserMissingError, type EngineName, type LaunchOptions } from './types.js';

export async function requireExecutable(engine: EngineName, path: string, install: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new BrowserMissingError(engine, path, install);
  }
}

export interface Profile {
  readonly dir: string;
  /** Removes the folder if the launcher made it; a caller's folder is kept. */
  remove(): Promise<void>;
}

export async function useProfile(engine: EngineName, options: LaunchOptions): Promise<Profile> {
  if (options.profileDir) return { dir: options.profileDir, remove: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), `outbox-${engine}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
