/**
 * nn serve without a browser: every route and error code of the API, its
 * answers against `nn predict --json` on the sample images, the refusals
 * (Host, Origin, size, traversal, token), the address it binds, a server that
 * keeps answering after 1,000 bad requests, live events from a training run,
 * and the command itself (its address line, Ctrl-C, a bad option).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Serving } from '../../src/serve/server';
import { BIN, makeStudy, nn, request, SAMPLES, tinyConfig, workspace } from './fixture';

let work: string;
let server: Serving;
let port: number;
const samples = fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.png')).sort();
const get = (p: string, headers: Record<string, string> = {}) => request(port, 'GET', p, { headers });
const post = (p: string, body: Buffer | string, type: string, headers: Record<string, string> = {}) => request(port, 'POST', p, { body, headers: { 'Content-Type': type, ...headers } });

beforeAll(async () => {
  work = workspace('nn-serve-api-');
  makeStudy(work);
  server = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/tiny'), port: 0, pollMs: 50 });
  port = server.port;
}, 240_000);

afterAll(async () => {
  await server?.close();
});

describe('the address', () => {
  it('binds 127.0.0.1 by default and says where', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${port}/`);
  });
  it('refuses to listen beyond loopback without a token', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, runs: path.join(work, 'runs') })).rejects.toThrow(/--token/);
  });
});

describe('health and model', () => {
  it('GET /api/health', async () => {
    const r = await get('/api/health');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'ok', version: require('../../package.json').version });
  });
  it('GET /api/model names the file, its layers, parameters and test accuracy', async () => {
    const r = await get('/api/model');
    expect(r.json.path).toBe(path.join(work, 'runs/tiny/model.safetensors'));
    expect(r.json.layers).toEqual(['dense 32 relu', 'dense 10 softmax']);
    expect(r.json.parameters).toBe(784 * 32 + 32 + 32 * 10 + 10);
    const metrics = JSON.parse(fs.readFileSync(path.join(work, 'runs/tiny/metrics.json'), 'utf8'));
    expect(r.json.testAccuracy).toBe(metrics.test.accuracy);
  });
});

describe('POST /api/predict', () => {
  it('gives every sample image the digit and probabilities nn predict --json gives', async () => {
    const cli = nn(work, ['predict', SAMPLES, '--model', 'runs/tiny', '--json']);
    expect(cli.status).toBe(0);
    const want = JSON.parse(cli.stdout) as Array<{ image: string; digit: number; probabilities: number[] }>;
    expect(want.length).toBe(samples.length);
    for (const [i, f] of samples.entries()) {
      const r = await post('/api/predict', fs.readFileSync(path.join(SAMPLES, f)), 'image/png');
      expect(r.status).toBe(200);
      expect(r.json.digit).toBe(want[i].digit);
      expect(r.json.probabilities).toEqual(want[i].probabilities);
      expect(r.json.input).toHaveLength(784);
      expect(r.json.saliency).toHaveLength(784);
      expect(Math.max(...r.json.saliency.map(Math.abs))).toBeCloseTo(1, 3); // scaled to -1..1
      r.json.input.forEach((v: number, j: number) => v === 0 && expect(r.json.saliency[j]).toBe(0)); // blank pixels have no share
    }
  });

  it('takes the 28x28 input as JSON pixels, as they are; ?top=K adds the K most likely', async () => {
    const first = await post('/api/predict', fs.readFileSync(path.join(SAMPLES, samples[3])), 'image/png');
    const r = await post('/api/predict?top=3', JSON.stringify({ pixels: first.json.input }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.json.input).toEqual(first.json.input);
    expect(r.json.probabilities).toEqual(first.json.probabilities);
    expect(r.json.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(r.json.top).toHaveLength(3);
    expect(r.json.top[0]).toEqual({ digit: r.json.digit, probability: r.json.confidence });
    expect(r.json.top[1].probability).toBeLessThanOrEqual(r.json.top[0].probability);
    const b64 = await post('/api/predict', JSON.stringify({ image: fs.readFileSync(path.join(SAMPLES, samples[3])).toString('base64') }), 'application/json');
    expect(b64.json.probabilities).toEqual(first.json.probabilities);
  });

  it('answers a JPEG', async () => {
    const jpeg = await sharp(path.join(SAMPLES, samples[7])).flatten({ background: '#fff' }).jpeg({ quality: 95 }).toBuffer();
    const r = await post('/api/predict', jpeg, 'image/jpeg');
    expect(r.status).toBe(200);
    expect(r.json.digit).toBe((await post('/api/predict', fs.readFileSync(path.join(SAMPLES, samples[7])), 'image/png')).json.digit);
  });

  const blank = () => sharp({ create: { width: 40, height: 40, channels: 3, background: '#ffffff' } }).png().toBuffer();
  const cases: Array<[string, () => Promise<[string, Buffer | string, string]>, number, string, RegExp]> = [
    ['bad JSON', async () => ['/api/predict', '{"pixels": [1, 2', 'application/json'], 400, 'bad_json', /not valid JSON/],
    ['a JSON array', async () => ['/api/predict', '[1,2,3]', 'application/json'], 400, 'bad_json', /JSON object/],
    ['too few pixels', async () => ['/api/predict', JSON.stringify({ pixels: [0, 1, 2] }), 'application/json'], 400, 'bad_pixels', /784 numbers.*got 3/],
    ['a pixel out of range', async () => ['/api/predict', JSON.stringify({ pixels: [...Array(783).fill(0), 300] }), 'application/json'], 400, 'bad_pixels', /pixels\[783\].*0 to 255.*300/],
    ['a pixel that is not a number', async () => ['/api/predict', JSON.stringify({ pixels: [...Array(783).fill(0), 'x'] }), 'application/json'], 400, 'bad_pixels', /pixels\[783\]/],
    ['neither pixels nor image', async () => ['/api/predict', JSON.stringify({ digits: [] }), 'application/json'], 400, 'bad_json', /"pixels".*"image"/],
    ['text sent as a PNG', async () => ['/api/predict', 'hello, I am not an image', 'image/png'], 400, 'bad_image', /request body: not an image/],
    ['a truncated PNG', async () => ['/api/predict', fs.readFileSync(path.join(SAMPLES, samples[0])).subarray(0, 100), 'image/png'], 400, 'bad_image', /request body: .*(corrupt|truncated|ends)/],
    ['an empty body', async () => ['/api/predict', '', 'image/png'], 400, 'bad_image', /empty/],
    ['a blank page', async () => ['/api/predict', await blank(), 'image/png'], 400, 'no_ink', /no ink/],
    ['a GIF', async () => ['/api/predict', Buffer.from('GIF89a....'), 'image/png'], 400, 'bad_image', /GIF images are not supported/],
    ['an unsupported type', async () => ['/api/predict', 'x', 'text/plain'], 415, 'unsupported_type', /image\/png, image\/jpeg or application\/json/],
    ['a bad top', async () => ['/api/predict?top=zero', JSON.stringify({ pixels: Array(784).fill(0) }), 'application/json'], 400, 'bad_query', /top: expected a whole number from 1 to 10/],
    ['a batch that is not a list', async () => ['/api/predict/batch', JSON.stringify({ instances: 3 }), 'application/json'], 400, 'bad_json', /instances/],
    ['a batch with a bad instance', async () => ['/api/predict/batch', JSON.stringify({ instances: [{ pixels: Array(784).fill(0) }, { pixels: [1] }] }), 'application/json'], 400, 'bad_pixels', /instances\[1\]\.pixels/],
    ['a batch as an image', async () => ['/api/predict/batch', 'x', 'image/png'], 415, 'unsupported_type', /application\/json/],
  ];
  for (const [what, make, status, code, message] of cases) {
    it(`refuses ${what}: ${status} ${code}, one JSON error naming it`, async () => {
      const [p, body, type] = await make();
      const r = await post(p, body, type);
      expect(r.status).toBe(status);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(Object.keys(r.json)).toEqual(['error']);
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
      expect(r.text).not.toMatch(/\n\s+at /); // no stack trace
    });
  }
});

describe('POST /api/predict/batch', () => {
  it('answers {"predictions": [...]}, each as the single request would', async () => {
    const png = fs.readFileSync(path.join(SAMPLES, samples[5]));
    const single = await post('/api/predict', png, 'image/png');
    const r = await post('/api/predict/batch', JSON.stringify({ instances: [{ image: png.toString('base64') }, { pixels: single.json.input }] }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.json.predictions).toHaveLength(2);
    for (const p of r.json.predictions) expect(p.probabilities).toEqual(single.json.probabilities);
  });
});

describe('routes and methods', () => {
  it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    const a = await get('/api/nothing');
    expect([a.status, a.json.error.code]).toEqual([404, 'not_found']);
    const b = await get('/api/predict');
    expect([b.status, b.json.error.code, b.headers.allow]).toEqual([405, 'method_not_allowed', 'POST']);
    const c = await request(port, 'DELETE', '/api/runs');
    expect([c.status, c.headers.allow]).toEqual([405, 'GET']);
  });
  it('serves the pages and the chart library from memory, gzipped for browsers that take it', async () => {
    for (const p of ['/', '/runs', '/runs/tiny', '/tune/tiny-study', '/static/draw.js', '/static/vega.min.js']) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
    }
    const gz = await get('/static/vega.min.js', { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBeLessThan(fs.statSync(require.resolve('vega/build/vega.min.js')).size / 2);
    const page = await get('/');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from the internet
    expect((await get('/runs/no-such-run')).status).toBe(404);
  });
});

describe('refusals', () => {
  it('403 for a Host that is not the server (DNS rebinding); loopback names pass', async () => {
    const r = await get('/api/health', { Host: 'evil.example' });
    expect([r.status, r.json.error.code]).toEqual([403, 'bad_host']);
    expect((await get('/api/health', { Host: `evil.example:${port}` })).status).toBe(403);
    expect((await get('/api/health', { Host: `localhost:${port}` })).status).toBe(200);
    expect((await get('/api/health', { Host: `[::1]:${port}` })).status).toBe(200);
  });
  it('403 for a POST whose Origin is another site; its own origin passes; no CORS headers', async () => {
    const body = JSON.stringify({ pixels: Array(784).fill(0) });
    const r = await post('/api/predict', body, 'application/json', { Origin: 'http://evil.example' });
    expect([r.status, r.json.error.code]).toEqual([403, 'bad_origin']);
    const other = await post('/api/predict', body, 'application/json', { Origin: `http://127.0.0.1:${port + 1}` });
    expect(other.status).toBe(403);
    const own = await post('/api/predict', body, 'application/json', { Origin: `http://127.0.0.1:${port}` });
    expect(own.status).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBeUndefined();
  });
  it('404 for path traversal, encoded or not', async () => {
    for (const p of ['/%2e%2e/%2e%2e/etc/passwd', '/static/..%2f..%2fpackage.json', '/static/../package.json', '/api/runs/..%2f..%2fetc', '/api/runs/%2e%2e', '/runs/..%2f..%2f', '/api/studies/..%2ftiny-study', '/static/%2e%2e%2fserver.ts']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.text, p).not.toMatch(/"name":|root:|import /);
    }
  });
  it('413 for a declared body over 2 MiB, before reading it', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/png\r\nContent-Length: ${3 * 1024 * 1024}\r\n\r\n`));
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('close', () => resolve(text));
      s.on('error', reject);
      setTimeout(() => s.end(), 2000);
    });
    expect(r).toMatch(/^HTTP\/1\.1 413/);
    expect(r).toMatch(/"code":"too_large"/);
  });
  it('413 for a chunked body that passes 2 MiB', async () => {
    const r = await request(port, 'POST', '/api/predict', { headers: { 'Content-Type': 'image/png', 'Transfer-Encoding': 'chunked' }, body: Buffer.alloc(2 * 1024 * 1024 + 10, 1) });
    expect([r.status, r.json.error.code]).toEqual([413, 'too_large']);
  });
  it('closes a client too slow to send its headers (slowloris), and keeps serving others', async () => {
    const s = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/tiny'), port: 0, headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    try {
      const started = Date.now();
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(s.port, '127.0.0.1', () => sock.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`)); // never ends its headers
        let text = '';
        const drip = setInterval(() => sock.write('X-Slow: 1\r\n'), 200);
        sock.on('data', (d) => (text += d.toString()));
        sock.on('close', () => {
          clearInterval(drip);
          resolve(text);
        });
        sock.on('error', () => {});
        setTimeout(() => reject(new Error('the slow client was never closed')), 8000);
      });
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(900);
      expect(waited).toBeLessThan(6000);
      expect(reply).toMatch(/^(HTTP\/1\.1 408|$)/);
      expect((await request(s.port, 'GET', '/api/health')).status).toBe(200);
    } finally {
      await s.close();
    }
  }, 20_000);
  it('keeps answering after 1,000 bad requests in a row', async () => {
    const bad = [
      () => post('/api/predict', '{', 'application/json'),
      () => post('/api/predict', 'zz', 'image/png'),
      () => get('/api/runs/%zz'),
      () => get('/api/health', { Host: 'x.example' }),
      () => request(port, 'PUT', '/api/predict'),
    ];
    for (let i = 0; i < 1000; i += 20) {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, k) => bad[(i + k) % bad.length]()));
      for (const r of replies) expect(r.status).toBeGreaterThanOrEqual(400);
    }
    expect((await get('/api/health')).status).toBe(200);
  }, 60_000);
});

describe('runs and studies', () => {
  it('lists the runs, with a summary and results', async () => {
    const r = await get('/api/runs');
    const tiny = r.json.runs.find((x: { name: string }) => x.name === 'tiny');
    expect(tiny).toMatchObject({ state: 'finished', epochs: 2, summary: '784-32-10 relu; adam 0.001, batch 64' });
    expect(tiny.testAccuracy).toBeGreaterThan(0.5);
    expect(r.json.runs.some((x: { name: string }) => x.name === 'tune')).toBe(false); // the studies' folder is not a run
  });
  it("gives a run's config, epochs, confusion, per-class table and charts", async () => {
    const r = await get('/api/runs/tiny');
    expect(r.json.history.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(r.json.confusion).toHaveLength(10);
    expect(r.json.perClass).toHaveLength(10);
    expect(r.json.config.model.layers[0].units).toBe(32);
    expect(r.json.charts.curves.$schema).toMatch(/vega\/v5/);
    expect(r.json.charts.confusion.marks.length).toBeGreaterThan(0);
  });
  it("lists the run's misclassified test images, as many as its accuracy says", async () => {
    const r = await get('/api/runs/tiny/misclassified');
    expect(r.status).toBe(200);
    expect(r.json.count).toBe(Math.round(r.json.samples * (1 - r.json.accuracy)));
    const item = r.json.items[0];
    expect(item.label).not.toBe(item.guess);
    expect(Buffer.from(item.pixels, 'base64')).toHaveLength(784);
  }, 60_000);
  it('overlays several runs', async () => {
    const r = await get('/api/runs/overlay?names=tiny');
    expect(r.json.chart.$schema).toMatch(/vega\/v5/);
    expect((await get('/api/runs/overlay?names=tiny,nope')).status).toBe(404);
  });
  it('lists the studies and gives one with its trials and charts', async () => {
    const list = await get('/api/studies');
    expect(list.json.studies).toEqual([expect.objectContaining({ name: 'tiny-study', metric: 'val_accuracy', trials: 2, states: { complete: 2 } })]);
    const s = await get('/api/studies/tiny-study');
    expect(s.json.rows).toHaveLength(2);
    expect(s.json.rows[0].value).toBeGreaterThanOrEqual(s.json.rows[1].value); // best first
    expect(s.json.space).toEqual(['model.layers.0.units']);
    expect(s.json.charts.history.$schema).toMatch(/vega\/v5/);
    expect((await get('/api/studies/nope')).status).toBe(404);
  });
});

describe('GET /api/events', () => {
  it('sends a run and its epochs while nn train writes them', async () => {
    fs.writeFileSync(path.join(work, 'live.json'), JSON.stringify(tinyConfig(3)));
    const events: Array<{ event: string; data: any }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const done = new Promise<void>((resolve, reject) => {
      const req = require('node:http').get({ host: '127.0.0.1', port, path: '/api/events', headers: { Host: `127.0.0.1:${port}` } }, (res: import('node:http').IncomingMessage) => {
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let buf = '';
        res.on('data', (d: Buffer) => {
          buf += d.toString();
          let at;
          while ((at = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, at);
            buf = buf.slice(at + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
            if (events.filter((e) => e.event === 'epoch' && e.data.run === 'live').length === 3 && events.some((e) => e.event === 'run' && e.data.name === 'live' && e.data.state === 'finished')) {
              req.destroy();
              resolve();
            }
          }
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => e.code !== 'ECONNRESET' && reject(e));
    });
    await new Promise((r) => setTimeout(r, 200)); // connected before the run starts
    const train = spawn(process.execPath, [BIN, 'train', '--config', 'live.json', '--no-charts', '--quiet'], { cwd: work });
    const closed = new Promise((r) => train.on('close', r));
    await done;
    expect(await closed).toBe(0);
    expect(events.filter((e) => e.event === 'epoch' && e.data.run === 'live').map((e) => e.data.epoch)).toEqual([1, 2, 3]);
  }, 120_000);
});

describe('a token', () => {
  it('is needed by every request when set: bearer header, or ?token= once and then a cookie', async () => {
    const s = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/tiny'), port: 0, token: 's3cret' });
    try {
      const none = await request(s.port, 'GET', '/api/health');
      expect([none.status, none.json.error.code]).toEqual([401, 'unauthorized']);
      expect((await request(s.port, 'GET', '/api/health', { headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await request(s.port, 'GET', '/api/health', { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
      const first = await request(s.port, 'GET', '/?token=s3cret');
      expect(first.status).toBe(200);
      const cookie = String(first.headers['set-cookie']).split(';')[0];
      expect(cookie).toBe('nn_token=s3cret');
      expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect((await request(s.port, 'GET', '/api/model', { headers: { Cookie: cookie } })).status).toBe(200);
      const page = await request(s.port, 'GET', '/runs');
      expect(page.status).toBe(401);
      expect(page.text).not.toMatch(/s3cret/);
    } finally {
      await s.close();
    }
  });
});

describe('the command', () => {
  it('prints its address, serves, and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--runs', 'runs'], { cwd: work, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d.toString();
        const m = /nn serve: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('exit', () => reject(new Error(`exited: ${out}`)));
    });
    const p = Number(new URL(url).port);
    expect((await request(p, 'GET', '/api/health')).status).toBe(200);
    // the most recent run (live, trained above) is the model
    expect((await request(p, 'GET', '/api/model')).json.path).toMatch(/runs\/(live|tiny)\/model\.safetensors$/);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(out).toMatch(/stopped/);
  });
  it('refuses a bad option or model in one line, exit 2', () => {
    const a = nn(work, ['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/--token/);
    fs.writeFileSync(path.join(work, 'broken.safetensors'), 'not a model');
    const b = nn(work, ['serve', '--model', 'broken.safetensors', '--port', '0']);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/broken\.safetensors/);
    expect(b.stderr).not.toMatch(/\n\s+at /);
    const missing = nn(work, ['serve', '--model', 'missing.safetensors', '--port', '0']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^error: missing\.safetensors: file not found\n$/);
    const c = nn(work, ['serve', '--port', '70000']);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--port/);
  });
});
