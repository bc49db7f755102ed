/**
 * The app's route manifest, read and validated by the same code as
 * `offline-outbox check`, so the build fails on exactly what check reports.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { readManifestText } from '../cli/check.js';
import type { Manifest } from '../sw/manifest/types.js';
import { pluginError, type PluginErrorData } from './plugin-error.js';

export interface ManifestFile {
  /** Absolute, for reading and watching. */
  path: string;
  /** As problems name it: relative to Vite's root, as the option is written. */
  label: string;
}

export type ManifestResult = { ok: true; manifest: Manifest } | { ok: false; error: PluginErrorData };

export function locateManifest(root: string, option: string): ManifestFile {
  const path = resolve(root, option);
  const inside = relative(root, path);
  // Forward slashes on every platform: the label is what the config says.
  return { path, label: isAbsolute(option) || inside.startsWith('..') ? path : inside.split('\\').join('/') };
}

export async function readManifest({ path, label }: ManifestFile): Promise<ManifestResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { ok: false, error: pluginError('manifest-unreadable', label, (error as NodeJS.ErrnoException).code ?? String(error)) };
  }
  const read = readManifestText(text, label);
  return read.ok ? read : { ok: false, error: pluginError('invalid-manifest', read.lines) };
}
