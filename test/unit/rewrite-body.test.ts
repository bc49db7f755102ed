/** The local→server id rewrite in queued bodies changes the id and nothing else (issue 9, defect 2). */
import { describe, expect, it } from 'vitest';
import { rewriteBody } from '../../sw/outbox/resource-write.js';

const LOCAL = '5f0c3e4a-1b2c-4d3e-8f40-5a6b7c8d9e0f';
const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const text = (body: ArrayBuffer | undefined) => body && new TextDecoder().decode(body);

describe('rewriteBody', () => {
  it('JSON: the quoted id becomes the server id as typed; a large integer keeps its digits', () => {
    const body = `{"todo":"${LOCAL}","n":12345678901234567890,"note":"about ${LOCAL}"}`;
    expect(text(rewriteBody(bytes(body), LOCAL, 42, 'application/json; charset=utf-8'))).toBe(`{"todo":42,"n":12345678901234567890,"note":"about ${LOCAL}"}`);
    expect(text(rewriteBody(bytes(body), LOCAL, 'srv-1', 'application/merge-patch+json'))).toBe(`{"todo":"srv-1","n":12345678901234567890,"note":"about ${LOCAL}"}`);
  });

  it('form-urlencoded: the id text is replaced, encoded', () => {
    expect(text(rewriteBody(bytes(`todo=${LOCAL}&x=1`), LOCAL, 'a b', 'application/x-www-form-urlencoded'))).toBe('todo=a%20b&x=1');
  });

  it('never touches a binary, multipart or text body, even one holding the id', () => {
    const binary = new Uint8Array([0xff, 0xfe, ...new TextEncoder().encode(LOCAL), 0x80, 0x00]);
    for (const type of ['application/octet-stream', 'multipart/form-data; boundary=x', 'text/plain', null]) expect(rewriteBody(binary.buffer, LOCAL, 42, type)).toBeUndefined();
  });

  it('leaves every other byte of a JSON body as it was (non-ASCII included)', () => {
    const body = `{"t":"héllo ✓","id":"${LOCAL}"}`;
    expect(text(rewriteBody(bytes(body), LOCAL, 7, 'application/json'))).toBe('{"t":"héllo ✓","id":7}');
    expect(rewriteBody(bytes('{"t":"none"}'), LOCAL, 7, 'application/json')).toBeUndefined();
  });
});
