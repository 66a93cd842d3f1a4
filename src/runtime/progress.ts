// Terminal progress: a single rewritten line on a TTY, periodic plain lines
// otherwise (CI logs, pipes), so long runs show life without flooding logs.
export class Progress {
  private readonly t0 = Date.now();
  private lastPrint = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number, private readonly startDone = 0) {}

  update(done: number, extra = ''): void {
    const now = Date.now();
    const finished = done >= this.total;
    if (!this.tty && !finished && now - this.lastPrint < 5000) return;
    if (this.tty && !finished && now - this.lastPrint < 100) return;
    this.lastPrint = now;
    const frac = this.total ? done / this.total : 1;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const minutes = (now - this.t0) / 60000;
    const rate = minutes > 0 ? (done - this.startDone) / minutes : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const etaStr = Number.isFinite(eta) ? `${eta < 1 ? Math.round(eta * 60) + 's' : eta.toFixed(1) + 'm'}` : '?';
    const line = `${this.label} [${bar}] ${done}/${this.total} ${rate.toFixed(1)}/min eta ${etaStr}${extra ? ' ' + extra : ''}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${finished ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  }
}
