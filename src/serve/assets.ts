/**
 * The static files, read once at start-up into a fixed map from URL path to
 * bytes: the pages (src/serve/pages/) and Vega's runtime from node_modules.
 * A request's path is looked up in the map as it came, never joined into a
 * file path, so nothing outside the map can be served. Each file is kept
 * gzipped too, for browsers that take it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The pages' folder: beside this file when run from src/ (tests), in src/ when run from dist/. */
function pagesDir(): string {
  for (const d of [path.join(__dirname, 'pages'), path.join(__dirname, '..', '..', 'src', 'serve', 'pages')]) if (fs.existsSync(d)) return d;
  throw new Error('nn serve: the pages folder src/serve/pages is missing');
}

export function loadAssets(): Map<string, Asset> {
  const files = new Map<string, string>(); // URL path -> file
  const dir = pagesDir();
  for (const f of fs.readdirSync(dir)) files.set(`/static/${f}`, path.join(dir, f));
  files.set('/static/vega.min.js', require.resolve('vega/build/vega.min.js'));
  // Vega compiles its expressions with the Function constructor, which the pages' policy forbids: the interpreter evaluates them instead
  files.set('/static/vega-interpreter.min.js', require.resolve('vega-interpreter/build/vega-interpreter.min.js'));
  const assets = new Map<string, Asset>();
  for (const [url, file] of files) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const body = fs.readFileSync(file);
    assets.set(url, { type, body, gzip: body.length > 1024 ? zlib.gzipSync(body, { level: 9 }) : null, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}
