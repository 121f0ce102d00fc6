/**
 * nn serve's HTTP server: the drawing page, the runs and study pages, and the
 * API under them (api.ts), behind the refusals of security.ts. Never prints:
 * the command says what it returns.
 *
 * Every request: Host checked (403), token checked when there is one (401),
 * a changing request's Origin checked (403); then its route. An unknown path is
 * 404, a known one with the wrong method 405 with Allow. A handler's HttpError
 * becomes its JSON error, anything else a 500 whose message names no internals.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { latestModel, resolveModelPath, RUNS_DIR } from '../io/run';
import { UserError } from '../util/errors';
import * as api from './api';
import { loadAssets, type Asset } from './assets';
import { EventHub } from './events';
import { HttpError } from './http-error';
import { Predictor } from './predictor';
import { RunsFolder } from './runs';
import { allowedHosts, checkHost, checkOrigin, checkToken, isLoopback } from './security';
import { StudiesFolder } from './studies';

export interface ServeOptions {
  /** A model file or run folder; undefined: the most recent run, followed as new runs finish. */
  model?: string;
  runs?: string;
  port?: number;
  host?: string;
  token?: string | null;
  /** More names the server may be reached by (behind a proxy, say). */
  allowHosts?: string[];
  /** How often the runs and studies are looked at for live pages (ms). */
  pollMs?: number;
  /** A client's time to send its headers, and its whole request (ms): 10 s and 30 s. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface Serving {
  url: string;
  host: string;
  port: number;
  model: string | null;
  /** Things the user should know (no model yet, bound beyond loopback). */
  notes: string[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, url: URL, name: string) => unknown;
interface Route {
  pattern: RegExp; // on the raw path; a group captures a run or study name (still encoded)
  methods: Partial<Record<'GET' | 'POST', Handler>>;
}

const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function startServer(opts: ServeOptions): Promise<Serving> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token ?? null;
  if (!isLoopback(host) && !token) {
    throw new UserError(`--host ${host}: serving beyond this machine needs --token SECRET (clients send "Authorization: Bearer SECRET", or open the page once with ?token=SECRET)`);
  }
  const version = (require('../../package.json') as { version: string }).version;
  const runs = new RunsFolder(opts.runs ?? RUNS_DIR);
  const studies = new StudiesFolder(path.join(opts.runs ?? RUNS_DIR, 'tune'));
  const hub = new EventHub(runs, studies, opts.pollMs ?? 500);
  const assets = loadAssets();
  const notes: string[] = [];

  // The model: the one named, or the most recent run's, reloaded when a newer run finishes.
  let predictor: Predictor | null = null;
  let following: NodeJS.Timeout | null = null;
  if (opts.model !== undefined) {
    predictor = new Predictor(resolveModelPath(opts.model));
  } else {
    const latest = (): string | null => {
      try {
        return latestModel();
      } catch {
        return null;
      }
    };
    const load = (file: string | null) => {
      if (file && (!predictor || path.resolve(file) !== path.resolve(predictor.modelPath) || changed(file, predictor))) {
        try {
          predictor = new Predictor(file);
        } catch {
          // a model being written or broken: keep the one we have
        }
      }
    };
    load(latest());
    if (!predictor) notes.push('no trained model yet: the drawing page waits for one (train with `nn train --config configs/mlp.yaml`; it is picked up when it finishes)');
    following = setInterval(() => load(latest()), 2000);
    following.unref();
  }
  const ctx: api.ApiContext = { version, predictor: () => predictor, runs, studies };

  const page = (file: string): Handler => () => ({ asset: assets.get(`/static/${file}`)! });
  const routes: Route[] = [
    { pattern: /^\/$/, methods: { GET: page('draw.html') } },
    { pattern: /^\/runs\/?$/, methods: { GET: page('runs.html') } },
    { pattern: /^\/runs\/([^/]+)$/, methods: { GET: (_r, _u, name) => (runs.folderOf(name) ? { asset: assets.get('/static/run.html')! } : pageNotFound(`run ${name}`)) } },
    { pattern: /^\/tune\/?$/, methods: { GET: page('runs.html') } },
    { pattern: /^\/tune\/([^/]+)$/, methods: { GET: (_r, _u, name) => (studies.names().some((s) => s.name === name) ? { asset: assets.get('/static/study.html')! } : pageNotFound(`study ${name}`)) } },
    { pattern: /^\/api\/health$/, methods: { GET: () => api.health(ctx) } },
    { pattern: /^\/api\/model$/, methods: { GET: () => api.model(ctx) } },
    { pattern: /^\/api\/predict$/, methods: { POST: (req, url) => api.predict(ctx, req, url) } },
    { pattern: /^\/api\/predict\/batch$/, methods: { POST: (req, url) => api.predictBatch(ctx, req, url) } },
    { pattern: /^\/api\/runs$/, methods: { GET: () => api.runsList(ctx) } },
    { pattern: /^\/api\/runs\/overlay$/, methods: { GET: (_r, url) => api.runsOverlay(ctx, url) } },
    { pattern: /^\/api\/runs\/([^/]+)$/, methods: { GET: (_r, _u, name) => api.run(ctx, name) } },
    { pattern: /^\/api\/runs\/([^/]+)\/misclassified$/, methods: { GET: (_r, _u, name) => api.runMisclassified(ctx, name) } },
    { pattern: /^\/api\/studies$/, methods: { GET: () => api.studiesList(ctx) } },
    { pattern: /^\/api\/studies\/([^/]+)$/, methods: { GET: (_r, _u, name) => api.study(ctx, name) } },
    { pattern: /^\/api\/events$/, methods: { GET: () => ({ events: true }) } },
  ];

  const allowed = allowedHosts(host, opts.allowHosts);
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = opts.requestTimeoutMs ?? 30_000;
  // Node looks for clients over their time every connectionsCheckingInterval (30 s by default): often enough here
  const checking = Math.max(250, Math.min(1000, headersTimeout / 4));
  const server = http.createServer({ requestTimeout, headersTimeout, keepAliveTimeout: 5_000, connectionsCheckingInterval: checking }, (req, res) => {
    void handle(req, res);
  });
  server.maxHeadersCount = 100;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const isApi = (req.url ?? '').startsWith('/api/');
    try {
      checkHost(req, allowed);
      const url = new URL(req.url ?? '/', 'http://server'); // only its path and query are read
      const { setCookie } = checkToken(req, url, token);
      if (setCookie) res.setHeader('Set-Cookie', setCookie);
      checkOrigin(req);
      const raw = (req.url ?? '/').split('?')[0];
      const asset = req.method === 'GET' || req.method === 'HEAD' ? assets.get(raw) : undefined;
      if (asset) return sendAsset(req, res, asset);
      for (const r of routes) {
        const m = r.pattern.exec(raw);
        if (!m) continue;
        const method = (req.method === 'HEAD' ? 'GET' : req.method) as 'GET' | 'POST';
        const h = r.methods[method];
        if (!h) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${raw}; use ${Object.keys(r.methods).join(' or ')}`, { Allow: Object.keys(r.methods).join(', ') });
        const name = m[1] === undefined ? '' : decodeName(m[1]);
        const out = await h(req, url, name);
        if (isObj(out) && out.events === true) return hub.attach(res);
        if (isObj(out) && 'asset' in out) return sendAsset(req, res, out.asset as Asset);
        return sendJson(res, 200, out);
      }
      throw new HttpError(404, 'not_found', `${raw}: no such page or API route`);
    } catch (e) {
      const err = e instanceof HttpError ? e : null;
      if (!err && !(e instanceof UserError)) process.emitWarning(`nn serve: ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}`); // kept out of the answer
      const status = err?.status ?? (e instanceof UserError ? 400 : 500);
      const body = { error: { code: err?.code ?? (status === 400 ? 'bad_request' : 'internal'), message: err || e instanceof UserError ? (e as Error).message : 'the server could not answer this request (its log says why)' } };
      if (res.headersSent) return void res.destroy();
      for (const [k, v] of Object.entries(err?.headers ?? {})) res.setHeader(k, v);
      if (!isApi && req.method === 'GET' && (status === 404 || status === 401)) return sendErrorPage(res, status, body.error.message);
      sendJson(res, status, body);
    }
  }

  function pageNotFound(what: string): never {
    throw new HttpError(404, 'not_found', `${what}: not found`);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? `port ${opts.port ?? 8080} is in use: choose another with --port` : e.code === 'EACCES' ? `port ${opts.port ?? 8080} needs privileges: choose one above 1023 with --port` : e.code === 'EADDRNOTAVAIL' ? `--host ${host}: not an address of this machine` : (e.message ?? String(e));
      reject(new UserError(why));
    };
    server.once('error', onError);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  if (!isLoopback(host)) notes.push(`listening beyond this machine on ${host}: every request needs the token`);

  let closed = false;
  return {
    url: `http://${shown}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    get model() {
      return predictor?.modelPath ?? null;
    },
    notes,
    async close() {
      if (closed) return;
      closed = true;
      if (following) clearInterval(following);
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await studies.close();
    },
  };
}

function changed(file: string, p: Predictor): boolean {
  try {
    return fs.statSync(file).mtimeMs !== p.loadedMtime;
  } catch {
    return false;
  }
}

function decodeName(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(404, 'not_found', `${s}: not found`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

function sendAsset(req: http.IncomingMessage, res: http.ServerResponse, a: Asset, status = 200): void {
  if (status === 200 && req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, { ETag: a.etag });
    return void res.end();
  }
  const gz = a.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gz ? a.gzip! : a.body;
  res.writeHead(status, {
    'Content-Type': a.type,
    'Content-Length': body.length,
    ETag: a.etag,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': PAGE_CSP,
    'Referrer-Policy': 'no-referrer',
    ...(gz ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendErrorPage(res: http.ServerResponse, status: number, message: string): void {
  const esc = message.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = `<!doctype html><meta charset="utf-8"><title>nn serve: ${status}</title><link rel="stylesheet" href="/static/style.css"><link rel="icon" href="data:,"><main class="narrow"><h1>${status === 404 ? 'Not found' : 'Token needed'}</h1><p>${esc}</p><p><a href="/">Draw a digit</a> · <a href="/runs">Runs</a></p></main>`;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html), 'Content-Security-Policy': PAGE_CSP, 'X-Content-Type-Options': 'nosniff' });
  res.end(html);
}
