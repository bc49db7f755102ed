/**
 * The manifest doctor probes against: `--manifest <file>`, or the one the
 * worker would fetch (beside it, or where data-manifest says), validated by
 * the same code as `offline-outbox check`.
 */
import type { Manifest } from '../sw/manifest/types.js';
import { readManifestFile, readManifestText } from './check.js';
import { type Finding, finding } from './doctor-finding.js';
import type { Placement } from './doctor-page.js';
import { type Prober, shownUrl } from './doctor-probe.js';

export interface LoadedManifest {
  /** Where it came from: the file, or the URL it was fetched from. */
  where: string;
  manifest?: Manifest;
  finding: Finding;
}

const describe = (manifest: Manifest) => {
  const n = manifest.routes.length;
  return `valid, ${n} route${n === 1 ? '' : 's'}`;
};

export async function loadManifest(prober: Prober, page: URL, placement: Placement, file?: string): Promise<LoadedManifest> {
  if (file !== undefined) {
    const read = await readManifestFile(file);
    if (!read.ok) return { where: file, finding: finding('manifest', file, 'blocker', read.lines.join('\n'), `fix ${file} (npx offline-outbox check ${file} lists the same)`) };
    return { where: file, manifest: read.manifest, finding: finding('manifest', file, 'ok', `${describe(read.manifest)} (--manifest)`) };
  }

  const url = placement.manifest;
  const where = url.href;
  const subject = shownUrl(url, page.origin);
  const how =
    placement.tag?.manifest !== undefined ? 'data-manifest on the register.js tag' : `the default: offline.manifest.json beside ${shownUrl(placement.worker, page.origin)}`;
  const pointAt = placement.tag
    ? `serve it at ${subject}, or point at it: data-manifest="/path/to/offline.manifest.json" on the register.js tag (or run doctor with --manifest <file>)`
    : `serve it at ${subject}, or add the register.js tag with data-manifest="/path/to/offline.manifest.json" (or run doctor with --manifest <file>)`;
  // The worker's own fetch of the manifest follows redirects.
  const probed = await prober.request(url, { headers: { accept: 'application/json' }, follow: true });
  if (!probed.ok) return { where, finding: finding('manifest', subject, 'blocker', `${probed.error} (looked there as ${how}): the worker cannot install`, pointAt) };
  const { status, body } = probed.answer;
  if (status < 200 || status >= 300)
    return { where, finding: finding('manifest', subject, 'blocker', `answers ${status} (looked there as ${how}): the worker's install fails`, pointAt) };
  const read = readManifestText(body, subject);
  if (!read.ok)
    return {
      where,
      finding: finding(
        'manifest',
        subject,
        'blocker',
        `${read.lines.join('\n')}\n(an invalid manifest fails the worker's install)`,
        'fix the manifest; npx offline-outbox check <file> lists the same',
      ),
    };
  return { where, manifest: read.manifest, finding: finding('manifest', subject, 'ok', describe(read.manifest)) };
}
