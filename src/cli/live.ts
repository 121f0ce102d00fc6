/**
 * A block of live lines at the bottom of a terminal (one per running trial, and
 * a summary), redrawn in place at most 10 times a second, with finished lines
 * printed above it for good. Only for terminals: elsewhere callers print plain lines.
 */
export class LiveBlock {
  private lines: string[] = [];
  private drawn = 0; // lines on screen now
  private timer: NodeJS.Timeout | null = null;

  /** Draws on `out` (a terminal); finished lines go to `logTo`, which may be the same terminal or a file. */
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly logTo: NodeJS.WritableStream = process.stdout,
  ) {}

  /** Replaces the live lines (drawn on the next tick). */
  set(lines: string[]): void {
    this.lines = lines;
    this.timer ??= setTimeout(() => this.draw(), 100);
  }

  /** Prints `text` above the block, for good. */
  log(text: string): void {
    this.clear();
    this.logTo.write(text.endsWith('\n') ? text : text + '\n');
    this.draw();
  }

  /** Removes the block from the screen (at the end). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clear();
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clear();
    const width = Math.max(20, (this.out.columns || 100) - 1);
    const text = this.lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
    if (text.length) this.out.write(text.join('\n') + '\n');
    this.drawn = text.length;
  }
}
