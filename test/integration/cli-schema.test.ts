import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const built = fileURLToPath(new URL('../../dist/manifest.schema.json', import.meta.url));
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'offline-outbox-schema-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('offline-outbox schema', () => {
  it("prints the manifest's JSON Schema, the one the build ships", async () => {
    const { code, stdout, stderr } = await runCli(tmp, 'schema');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const schema = JSON.parse(stdout);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema).toEqual(JSON.parse(readFileSync(built, 'utf8')));
    expect(pkg.exports['./manifest.schema.json']).toBe('./dist/manifest.schema.json');
  });

  it('with --out, writes it (making the folder) and says where', async () => {
    const { code, stdout } = await runCli(tmp, 'schema', '--out', join('out', 'm.schema.json'));
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote ${join('out', 'm.schema.json')}\n`);
    expect(readFileSync(join(tmp, 'out', 'm.schema.json'), 'utf8')).toBe(readFileSync(built, 'utf8'));
  });

  it('says how to call it (exit 2) on an unknown option or an extra argument, writing nothing', async () => {
    for (const args of [['--frobnicate'], ['extra'], ['--out']]) {
      const { code, stdout, stderr } = await runCli(tmp, 'schema', ...args);
      expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(stderr).toContain('usage: offline-outbox schema [--out <file>]');
    }
  });

  it('says so (exit 1) when the file cannot be written', async () => {
    writeFileSync(join(tmp, 'taken'), 'a file, not a folder');
    const { code, stderr } = await runCli(tmp, 'schema', '--out', join('taken', 'schema.json'));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^taken[/\\]schema\.json: cannot write it \(E[A-Z]+\)/);
    expect(existsSync(join(tmp, 'taken', 'schema.json'))).toBe(false);
  });
});
