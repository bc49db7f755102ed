/**
 * The load generator's lean HTTP/1.1 client: one keep-alive TCP connection,
 * one request at a time, the request written as one buffer, the answer read
 * just far enough to know its status, whether it was a replay, and where it
 * ends (Content-Length or chunked). node:http's client costs about as much
 * CPU per request as node:http's server, so with it the load process, not
 * the server, would set the pace on two cores (see bench/README.md).
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const HEAD_END = '\r\n\r\n';
const CHUNKED_END = '\r\n0\r\n\r\n';

/**
 * Opens a connection to 127.0.0.1:`port`; resolves with `post(path, headers, body)`
 * → Promise<{ status, replayed, ms }> and `close()`.
 */
export function openRawConnection(port, timeoutMs) {
  return new Promise((resolveOpen, rejectOpen) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    socket.setEncoding('latin1');
    let text = '';
    /** The request waiting for its answer: { resolve, reject, started }. */
    let waiting = null;
    let headEnd = -1;
    let meta = null;

    const fail = (error) => {
      const w = waiting;
      waiting = null;
      w?.reject(error);
    };
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('error', (error) => (waiting ? fail(error) : rejectOpen(error)));
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.on('data', (chunk) => {
      text += chunk;
      if (headEnd === -1) {
        headEnd = text.indexOf(HEAD_END);
        if (headEnd === -1) return;
        const head = text.slice(0, headEnd).toLowerCase();
        const length = /\r\ncontent-length: *(\d+)/.exec(head);
        meta = {
          status: Number(head.slice(9, 12)),
          replayed: /\r\nidempotent-replayed: *true/.test(head),
          end: length ? headEnd + HEAD_END.length + Number(length[1]) : -1,
        };
      }
      let end = meta.end;
      if (end === -1) {
        const at = text.indexOf(CHUNKED_END, headEnd);
        if (at === -1) return;
        end = at + CHUNKED_END.length;
      }
      if (text.length < end) return;
      // One request at a time: anything past this answer would be a protocol error.
      text = text.slice(end);
      headEnd = -1;
      const w = waiting;
      waiting = null;
      w?.resolve({ status: meta.status, replayed: meta.replayed, ms: performance.now() - w.started });
    });
    socket.once('connect', () =>
      resolveOpen({
        post(path, headers, body) {
          return new Promise((resolve, reject) => {
            let request = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
            for (const [name, value] of Object.entries(headers)) request += `${name}: ${value}\r\n`;
            waiting = { resolve, reject, started: performance.now() };
            socket.write(`${request}\r\n${body}`);
          });
        },
        close: () => socket.destroy(),
      }),
    );
  });
}
