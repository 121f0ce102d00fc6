/**
 * What the server refuses before any route runs, as Jupyter and the fixes to
 * MLflow, Ray and Gradio do:
 * - a Host header that is not one of the server's own names (DNS rebinding: a
 *   page on evil.example whose name resolves to 127.0.0.1 would otherwise talk
 *   to this server as if it were the same site): 403;
 * - a request that changes something (any method but GET and HEAD) whose Origin is
 *   another site: 403 (no CORS headers are ever sent, so no other site reads answers);
 * - with a token (required beyond loopback), a request without it: 401. The token
 *   comes as `Authorization: Bearer T`, or once as `?token=T`, after which a
 *   cookie carries it.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as os from 'node:os';
import { HttpError } from './http-error';

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const TOKEN_COOKIE = 'nn_token';

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The names a browser may use for this server: loopback, the bound address, and (bound to all) the machine's own names and addresses. */
export function allowedHosts(bound: string, extra: string[] = []): Set<string> {
  const names = new Set([...LOOPBACK_NAMES, ...extra.map((h) => h.toLowerCase())]);
  if (bound === '0.0.0.0' || bound === '::') {
    names.add(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) names.add(a.address.toLowerCase());
  } else names.add(bound.toLowerCase());
  return names;
}

/** The host name of a Host header or an origin's authority, without its port and brackets. */
export function hostName(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') > 0 ? a.indexOf(']') : undefined);
  const colon = a.lastIndexOf(':');
  return colon > 0 && a.indexOf(':') === colon ? a.slice(0, colon) : a;
}

export function checkHost(req: IncomingMessage, allowed: Set<string>): void {
  const host = req.headers.host;
  if (!host) throw new HttpError(400, 'bad_host', 'the request has no Host header');
  const name = hostName(host);
  if (!allowed.has(name) && !isLoopback(name)) throw new HttpError(403, 'bad_host', `Host ${JSON.stringify(host)} is not this server's name (requests through another name are refused: DNS rebinding)`);
}

export function checkOrigin(req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const origin = req.headers.origin;
  if (origin === undefined) return; // not from a browser page (curl, scripts)
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new HttpError(403, 'bad_origin', `Origin ${JSON.stringify(origin)} is not this server`);
  }
  if (url.host.toLowerCase() !== String(req.headers.host).toLowerCase()) {
    throw new HttpError(403, 'bad_origin', `a page of ${origin} may not send requests to this server`);
  }
}

/**
 * With a token: whether the request carries it (bearer header, ?token=, or the cookie).
 * Returns `set-cookie` when it came in the query, so the page keeps it.
 */
export function checkToken(req: IncomingMessage, url: URL, token: string | null): { setCookie?: string } {
  if (!token) return {};
  const given = bearer(req) ?? url.searchParams.get('token') ?? cookie(req, TOKEN_COOKIE);
  if (given === null || !same(given, token)) throw new HttpError(401, 'unauthorized', 'this server needs its token: send "Authorization: Bearer <token>" or open the page once with ?token=<token>', { 'WWW-Authenticate': 'Bearer' });
  return url.searchParams.has('token') ? { setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` } : {};
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m ? m[1] : null;
}

function cookie(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) {
      try {
        return decodeURIComponent(v.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
