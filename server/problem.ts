/**
 * RFC 9457 problem details (`application/problem+json`) for every answer the
 * middlewares give themselves. Each carries a stable `code` (an extension
 * member, kebab-case) and a `detail` saying what to change.
 */
import type { ServerResponse } from 'node:http';

/** An answer ready for node's `res` or a Fetch `Response`: lower-case header names, body bytes. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
}

const DRAFT = 'https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/';
const RFC9110 = 'https://www.rfc-editor.org/rfc/rfc9110';

/** The problem type: the draft for its own errors (codes `idempotency-key-*`), RFC 9110's section for the status otherwise. */
export const problemType = (status: number, code: string): string => (code.startsWith('idempotency-key') ? `${DRAFT}#section-2.7` : `${RFC9110}#status.${status}`);

export function problem(status: number, code: string, title: string, detail: string, headers: Record<string, string> = {}): Answer {
  const details: ProblemDetails = { type: problemType(status, code), title, status, detail, code };
  return {
    status,
    headers: { 'content-type': 'application/problem+json', 'content-language': 'en', 'cache-control': 'no-store', ...headers },
    body: Buffer.from(JSON.stringify(details), 'utf8'),
  };
}

/** Writes an answer on node's `res`, keeping the headers already set there (CORS, Idempotency-Key-Supported). */
export function sendAnswer(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) {
    // Something already started this response: the answer cannot be given any more, only the connection ended.
    res.end();
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.byteLength) });
  res.end(answer.body);
}

/** The same answer as a Fetch `Response`. */
export function toResponse(answer: Answer, extraHeaders: Record<string, string> = {}): Response {
  const empty = answer.status === 204 || answer.status === 304 || answer.body.byteLength === 0;
  return new Response(empty ? null : (answer.body as Uint8Array<ArrayBuffer>), { status: answer.status, headers: { ...answer.headers, ...extraHeaders } });
}
