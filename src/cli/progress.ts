// Progress on stderr that does not collide with log lines: on a terminal one bar, redrawn in place, with
// log lines printed above it; elsewhere (CI logs, pipes) no bar, a line at each tenth instead.
export class Progress {
  private active?: { label: string; fraction: number };
  private lastTenth = -1;
  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
  ) {}

  /** An onProgress callback for one piece of work: fractions in [0, 1]. */
  bar(label: string): (fraction: number) => void {
    return (fraction) => {
      const f = Math.min(1, Math.max(0, fraction));
      if (!this.tty) {
        const tenth = Math.floor(f * 10);
        if (this.active?.label !== label) (this.active = { label, fraction: f }), (this.lastTenth = -1);
        if (tenth > this.lastTenth && tenth > 0) this.out.write(`${label}: ${tenth * 10}%\n`);
        this.lastTenth = Math.max(this.lastTenth, tenth);
        if (f >= 1) this.active = undefined;
        return;
      }
      this.active = { label, fraction: f };
      this.draw();
      if (f >= 1) {
        this.out.write('\n');
        this.active = undefined;
      }
    };
  }

  /** A log line, printed above the bar (which is drawn again below it). */
  log(line: string): void {
    if (this.tty && this.active) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    if (this.tty && this.active) this.draw();
  }

  private draw(): void {
    const { label, fraction } = this.active!;
    const width = 30;
    const done = Math.round(fraction * width);
    this.out.write(`\r\x1b[K${label} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0)}%`);
  }
}

export const progress = new Progress();
