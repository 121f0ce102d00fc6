/**
 * A request's body, read up to a limit. A declared length over the limit is
 * refused before anything is read; a chunked body is counted as it comes and
 * refused as soon as it passes the limit, nothing past it kept. Either way the
 * client gets its 413 and the connection is closed after it.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error';

export const BODY_LIMIT = 2 * 1024 * 1024;

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'too_large', `the request body is larger than ${limit / 1024 / 1024} MiB`, { Connection: 'close' });
}

export function readBody(req: IncomingMessage, limit = BODY_LIMIT): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume(); // read and dropped while the answer goes out, then the connection closes
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        parts.length = 0;
        req.off('data', onData);
        req.resume(); // the rest is drained, not kept
        reject(tooLarge(limit));
        return;
      }
      parts.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(parts, size));
      }
    });
    req.on('error', (e) => {
      if (!done) {
        done = true;
        reject(new HttpError(400, 'bad_body', `the request body could not be read (${e.message})`));
      }
    });
  });
}
