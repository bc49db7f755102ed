/**
 * The request body, read once and at most `maxBytes` of it, so the
 * idempotency middleware can fingerprint it and the handler still gets it.
 *
 * Node: where a body parser already ran (`req.rawBody` bytes, or `req.body`
 * set) that is used and the stream is left alone. Otherwise the stream is
 * read here and, as Express's parsers do, `req.rawBody` (a Buffer) and, for
 * JSON, `req.body` (left undefined when it does not parse) are set. A parser
 * placed after the middleware then finds the stream finished and skips:
 * body-parser 2 (Express 5) checks `on-finished`'s isFinished(req), which is
 * true once the stream has ended; body-parser 1 (Express 4) checks `req._body`,
 * set here too. Such a later parser only ever sees what was read here, so
 * parsers of other types (urlencoded, multipart) belong before the middleware.
 */
import type { IncomingMessage } from 'node:http';
import { type BodySource, isJsonType } from './fingerprint.js';
import { type Answer, problem } from './problem.js';

/** The fields body parsers leave on node's request. */
export interface ParsedBodyFields {
  body?: unknown;
  rawBody?: unknown;
  /** body-parser 1's "already parsed" mark. */
  _body?: boolean;
}

export type NodeBodyRequest = IncomingMessage & ParsedBodyFields;

export type BodyRead =
  | { ok: true; source: BodySource }
  /** `answer` is what to tell the client (413, or 500 when someone else read the stream); close the connection after it when `close`. */
  | { ok: false; answer: Answer; close: boolean }
  /** The client went away while sending: there is no one to answer. */
  | { ok: false; answer: undefined; close: true };

const tooLargeAnswer = (maxBytes: number): Answer =>
  problem(
    413,
    'request-body-too-large',
    'Content Too Large',
    `The request body is larger than ${maxBytes} bytes, the most this server keeps for Idempotency-Key requests; send a smaller body, or raise maxBodyBytes in idempotency({ ... }).`,
    { connection: 'close' },
  );
const tooLarge = (maxBytes: number): BodyRead => ({ ok: false, close: true, answer: tooLargeAnswer(maxBytes) });

const alreadyRead = (): BodyRead => ({
  ok: false,
  close: false,
  answer: problem(
    500,
    'request-body-already-read',
    'Request body already read',
    'Something before the idempotency middleware read the request body without leaving it in req.body or req.rawBody; place idempotency() before that code, or have it set req.rawBody (a Buffer).',
  ),
});

const incomplete = (): Answer =>
  problem(
    400,
    'request-body-incomplete',
    'Request body incomplete',
    'The request body stopped before its end (the client went away or the stream failed); send the request again, with the same Idempotency-Key.',
  );

const declaredLength = (req: IncomingMessage): number | undefined => {
  const header = req.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
};

/** Reads (or finds) the body of a node request. Never rejects. */
export async function readNodeBody(req: NodeBodyRequest, maxBytes: number): Promise<BodyRead> {
  // Checked first, even where a parser already ran: its limit may be higher than this one.
  const length = declaredLength(req);
  if (length !== undefined && length > maxBytes) return tooLarge(maxBytes);
  if (req.rawBody instanceof Uint8Array) {
    return req.rawBody.byteLength > maxBytes ? tooLarge(maxBytes) : { ok: true, source: { bytes: req.rawBody } };
  }
  const bodyless = length === 0 || (length === undefined && req.headers['transfer-encoding'] === undefined);
  // An unread stream is the body, whatever req.body says (body-parser 1 sets {} on requests it did not parse).
  if (!bodyless && !req.readableEnded) {
    const read = await readStream(req, maxBytes);
    return read === 'too-large' ? tooLarge(maxBytes) : read === 'aborted' ? { ok: false, answer: undefined, close: true } : keep(req, read);
  }
  if (req.body !== undefined) return { ok: true, source: { parsed: req.body } };
  // Read by someone else with nothing left to show for it: fine when there was no body, lost otherwise.
  return bodyless ? keep(req, Buffer.alloc(0)) : alreadyRead();
}

function keep(req: NodeBodyRequest, bytes: Buffer): BodyRead {
  req.rawBody = bytes;
  req._body = true;
  let json: unknown;
  if (isJsonType(req.headers['content-type']) && bytes.byteLength > 0) {
    try {
      json = JSON.parse(bytes.toString('utf8'));
      req.body = json;
    } catch {
      // As documented: a JSON body that does not parse leaves req.body undefined; the handler has req.rawBody.
    }
  }
  // The value parsed here, not req.body: the handler may change that object, and the fingerprint is taken first anyway.
  return { ok: true, source: { bytes, json } };
}

function readStream(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 'too-large' | 'aborted') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        // Stop reading here: the rest is never buffered, and the 413 closes the connection.
        req.pause();
        done('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onAbort = () => done('aborted');
    const onClose = () => {
      if (!req.complete) done('aborted');
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/** Reads a Fetch request's body, at most `maxBytes`. Never rejects. */
export async function readFetchBody(request: Request, maxBytes: number): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; answer: Answer }> {
  const header = request.headers.get('content-length');
  if (header !== null && /^\d+$/.test(header) && Number(header) > maxBytes) return { ok: false, answer: tooLargeAnswer(maxBytes) };
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (let step = await reader.read(); !step.done; step = await reader.read()) {
      size += step.value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, answer: tooLargeAnswer(maxBytes) };
      }
      chunks.push(step.value);
    }
  } catch {
    return { ok: false, answer: incomplete() };
  }
  return { ok: true, bytes: Buffer.concat(chunks, size) };
}
