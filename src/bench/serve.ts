/**
 * npm run bench -- --serve: POST /api/predict with a 280x280 PNG (a canvas-sized
 * drawing), against `nn serve` started as a child process and loaded from this
 * one on loopback by autocannon: requests a second, p50 and p99 latency, and
 * the server's resident memory after a warm-up and after each further 10,000
 * requests (it must not grow). Beside it, the same requests against a minimal
 * Python server around the PyTorch peer (serve_peer.py, same model file and
 * recipe, no saliency) when /usr/bin/python3 has torch and PIL, and what the
 * one-process-per-image alternative costs: `nn predict image.png`, start to exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { readIdxFile } from '../data/idx';
import { defaultDataDir } from '../data/mnist';
import { median, NN, PYTHON, timePredict, tinyModel } from './runs';

const CONNECTIONS = 4;
const REQUESTS = 10_000;
const WARMUP = 1_000;

export interface ServeLoad {
  tool: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** resident memory (MB) after the warm-up, then after each round of REQUESTS */
  rssMb: number[];
}

export interface ServeBench {
  image: string;
  connections: number;
  requests: number;
  servers: ServeLoad[];
  predictProcess: { medianSeconds: number; runs: number[] };
}

export async function benchServe(say: (s: string) => void, rounds = 2): Promise<ServeBench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nn-bench-serve-'));
  try {
    const model = path.join(tinyModel(dir), 'model.safetensors');
    const png = path.join(dir, 'digit-280.png');
    fs.writeFileSync(png, await canvasDigit());
    const body = fs.readFileSync(png);
    const servers: ServeLoad[] = [];
    say(`nn serve: ${WARMUP} requests to warm up, then ${rounds} x ${REQUESTS} with ${CONNECTIONS} connections`);
    servers.push(await load('nn serve', spawn(process.execPath, [NN, 'serve', '--port', '0', '--model', model], { stdio: ['ignore', 'pipe', 'pipe'] }), /nn serve: http:\/\/127\.0\.0\.1:(\d+)\//, body, rounds));
    if (hasPythonPeer()) {
      say('the Python peer (http.server + PyTorch, serve_peer.py): the same');
      servers.push(await load('Python http.server + PyTorch 1 thread', spawn(PYTHON, [path.join(__dirname, '..', '..', 'src', 'bench', 'serve_peer.py'), model], { stdio: ['ignore', 'pipe', 'pipe'] }), /PORT (\d+)/, body, rounds));
    } else say('the Python peer is skipped: /usr/bin/python3 lacks torch or PIL (apt-get install -y python3-torch python3-pil)');
    say('nn predict on the same image, one process per image, start to exit (median of 7)');
    const runs = Array.from({ length: 7 }, () => timePredict([png, '--model', model], dir));
    return { image: '280x280 PNG, dark ink on white', connections: CONNECTIONS, requests: REQUESTS, servers, predictProcess: { medianSeconds: +median(runs).toFixed(3), runs: runs.map((r) => +r.toFixed(3)) } };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An MNIST test digit as a 280x280 drawing: dark ink on white, as the drawing page sends it. */
async function canvasDigit(): Promise<Buffer> {
  const images = readIdxFile(path.join(defaultDataDir(), 't10k-images-idx3-ubyte'));
  const paper = Buffer.from(images.data.subarray(0, 784).map((v) => 255 - v));
  return sharp(paper, { raw: { width: 28, height: 28, channels: 1 } }).resize(280, 280, { kernel: 'cubic' }).png().toBuffer();
}

function hasPythonPeer(): boolean {
  const r = require('node:child_process').spawnSync(PYTHON, ['-c', 'import torch, PIL, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

async function load(tool: string, child: ChildProcess, ready: RegExp, body: Buffer, rounds: number): Promise<ServeLoad> {
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${tool} did not start: ${out}`)), 60_000);
      const look = (d: Buffer) => {
        out += d.toString();
        const m = ready.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', look);
      child.stderr!.on('data', (d) => (out += d.toString()));
      child.on('exit', (c) => reject(new Error(`${tool} exited (${c}): ${out}`)));
    });
    const url = `http://127.0.0.1:${port}/api/predict`;
    await cannon(url, body, WARMUP);
    const rssMb = [rss(child.pid!)];
    let last: Awaited<ReturnType<typeof cannon>> | null = null;
    for (let k = 0; k < rounds; k++) {
      const r = await cannon(url, body, REQUESTS);
      if (!last || r.requestsPerSecond > last.requestsPerSecond) last = r; // the better round
      rssMb.push(rss(child.pid!));
    }
    return { tool, ...last!, rssMb };
  } finally {
    child.kill('SIGTERM');
  }
}

interface Cannon {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function cannon(url: string, body: Buffer, amount: number): Promise<Cannon> {
  const autocannon = require('autocannon') as (o: unknown, cb: (e: Error | null, r: AutocannonResult) => void) => void;
  return new Promise((resolve, reject) =>
    autocannon({ url, method: 'POST', headers: { 'content-type': 'image/png' }, body, connections: CONNECTIONS, amount }, (e, r) => {
      if (e) return reject(e);
      resolve({ requestsPerSecond: Math.round(r.requests.total / (r.duration || 1)), p50Ms: r.latency.p50, p99Ms: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts });
    }),
  );
}

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  duration: number; // seconds
  errors: number;
  non2xx: number;
  timeouts: number;
}

/** Resident memory of a process, MB (Linux). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

export function printServe(r: ServeBench, say: (s: string) => void): void {
  const table = [
    ['server', 'requests/s', 'p50 ms', 'p99 ms', 'errors', `RSS MB after warm-up, then each ${r.requests}`],
    ...r.servers.map((s) => [s.tool, String(s.requestsPerSecond), s.p50Ms.toFixed(1), s.p99Ms.toFixed(1), String(s.errors), s.rssMb.join(' -> ')]),
  ];
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  say('');
  say(`POST /api/predict, ${r.image}, ${r.connections} connections, the better of the rounds`);
  for (const row of table) say(row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
  const ours = r.servers[0];
  say(`nn predict, one process per image: ${r.predictProcess.medianSeconds.toFixed(3)} s an image (${(1 / r.predictProcess.medianSeconds).toFixed(1)} images/s); nn serve answers ${Math.round(ours.requestsPerSecond * r.predictProcess.medianSeconds)}x as many`);
}
