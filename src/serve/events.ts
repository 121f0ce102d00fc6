/**
 * GET /api/events: Server-Sent Events for the pages to follow runs and
 * studies live, without reloading.
 * - `epoch` {run, epoch, loss, accuracy, val_loss, val_accuracy, lr}: a run wrote an epoch
 *   (nn train rewrites metrics.csv after each);
 * - `run` {name, state}: a run appeared or changed state (training, finished, stopped);
 * - `trial` {study, trials, states}: a study's trials changed (a new one, a report, an end).
 * The folders are looked at every `intervalMs` while at least one page listens.
 */
import type { ServerResponse } from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunsFolder, RunState } from './runs';
import { readCsv } from './runs';
import type { StudiesFolder } from './studies';

const HEARTBEAT_MS = 15_000;

interface Seen {
  epochs: number;
  state: RunState;
  stamp: string;
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly runs = new Map<string, Seen>();
  private readonly studies = new Map<string, string>();
  private polling = false;

  constructor(
    private readonly runsFolder: RunsFolder,
    private readonly studiesFolder: StudiesFolder,
    private readonly intervalMs = 500,
  ) {}

  get listeners(): number {
    return this.clients.size;
  }

  attach(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 2000\n: connected\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (!this.clients.size) this.stop();
    });
    if (!this.timer) this.start();
  }

  /** Ends every stream (the server is stopping). */
  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private start(): void {
    this.baseline();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.heartbeat = setInterval(() => this.send(': keep-alive\n\n'), HEARTBEAT_MS);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = this.heartbeat = null;
  }

  private emit(event: string, data: unknown): void {
    this.send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private send(text: string): void {
    for (const c of this.clients) c.write(text);
  }

  /** What is there when the first page connects: only what changes after is news. */
  private baseline(): void {
    this.runs.clear();
    for (const r of this.runsFolder.list()) this.runs.set(r.name, { epochs: r.epochs, state: r.state, stamp: this.stamp(r.name) });
  }

  private stamp(name: string): string {
    const dir = this.runsFolder.folderOf(name);
    if (!dir) return '';
    return ['metrics.csv', 'metrics.json']
      .map((f) => {
        try {
          const s = fs.statSync(path.join(dir, f));
          return `${s.mtimeMs}:${s.size}`;
        } catch {
          return '-';
        }
      })
      .join('|');
  }

  private async poll(): Promise<void> {
    if (this.polling) return; // a slow database: skip a turn rather than pile up
    this.polling = true;
    try {
      this.pollRuns();
      await this.pollStudies();
    } finally {
      this.polling = false;
    }
  }

  private pollRuns(): void {
    for (const r of this.runsFolder.list()) {
      const stamp = this.stamp(r.name);
      const seen = this.runs.get(r.name);
      if (seen && seen.stamp === stamp && seen.state === r.state) continue;
      if (!seen || seen.state !== r.state) this.emit('run', { name: r.name, state: r.state });
      if (r.epochs > (seen?.epochs ?? 0)) {
        const dir = this.runsFolder.folderOf(r.name)!;
        const rows = readCsv(path.join(dir, 'metrics.csv'));
        for (const e of rows.slice(seen?.epochs ?? 0)) this.emit('epoch', { run: r.name, ...e });
      }
      this.runs.set(r.name, { epochs: r.epochs, state: r.state, stamp });
    }
  }

  private async pollStudies(): Promise<void> {
    for (const { name } of this.studiesFolder.names()) {
      const stamp = await this.studiesFolder.stamp(name).catch(() => '');
      const before = this.studies.get(name);
      this.studies.set(name, stamp);
      if (before === undefined || before === stamp) continue;
      const d = await this.studiesFolder.summary(name).catch(() => null);
      if (d) this.emit('trial', { study: name, trials: d.trials, states: d.states, best: d.best });
    }
  }
}
