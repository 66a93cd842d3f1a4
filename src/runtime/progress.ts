// Terminal progress: a single rewritten line on a TTY, periodic plain lines
// otherwise (CI logs, pipes), so long runs show life without flooding logs.
// StatusLine is the one writer (TTY detection, throttle, rewrite); Progress is
// the episode counter of collect and eval, src/train/node.ts prints the
// training step line through it.

/** One status line on stderr, throttled to one print per interval except forced updates. */
export class StatusLine {
  private lastPrint = 0;
  readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly intervalMs: { tty: number; plain: number }) {}

  /**
   * Show `text()` (built only when shown). `force` prints regardless of the
   * throttle (the last update); `endLine` ends a rewritten TTY line with a newline.
   */
  update(text: () => string, opts: { force?: boolean; endLine?: boolean } = {}): void {
    const now = Date.now();
    if (!opts.force && now - this.lastPrint < (this.tty ? this.intervalMs.tty : this.intervalMs.plain)) return;
    this.lastPrint = now;
    const line = text();
    if (this.tty) process.stderr.write(`\r${line}\x1b[K${opts.endLine ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  }
}

/** "label [####....] done/total rate/min eta" for a run of countable items (episodes). */
export class Progress {
  private readonly t0 = Date.now();
  private readonly line = new StatusLine({ tty: 100, plain: 5000 });

  constructor(private readonly label: string, private readonly total: number, private readonly startDone = 0) {}

  update(done: number, extra = ''): void {
    const finished = done >= this.total;
    this.line.update(() => {
      const frac = this.total ? done / this.total : 1;
      const width = 24;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const minutes = (Date.now() - this.t0) / 60000;
      const rate = minutes > 0 ? (done - this.startDone) / minutes : 0;
      const eta = rate > 0 ? (this.total - done) / rate : Infinity;
      const etaStr = Number.isFinite(eta) ? `${eta < 1 ? Math.round(eta * 60) + 's' : eta.toFixed(1) + 'm'}` : '?';
      return `${this.label} [${bar}] ${done}/${this.total} ${rate.toFixed(1)}/min eta ${etaStr}${extra ? ' ' + extra : ''}`;
    }, { force: finished, endLine: finished });
  }
}
