import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Progress, StatusLine } from '../../src/runtime/progress.ts';

/** Capture stderr writes with process.stderr.isTTY set as asked. */
function captureStderr(tty: boolean): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const desc = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true));
  return {
    lines,
    restore: () => {
      spy.mockRestore();
      if (desc) Object.defineProperty(process.stderr, 'isTTY', desc);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    },
  };
}

describe('StatusLine', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('on a TTY rewrites one line, throttled, and a forced update ends it when asked', () => {
    const cap = captureStderr(true);
    try {
      const s = new StatusLine({ tty: 100, plain: 5000 });
      let built = 0;
      s.update(() => (built++, 'a'));
      vi.advanceTimersByTime(50);
      s.update(() => (built++, 'b')); // throttled: not even built
      vi.advanceTimersByTime(60);
      s.update(() => (built++, 'c'));
      s.update(() => 'd', { force: true, endLine: true });
      expect(cap.lines).toEqual(['\ra\x1b[K', '\rc\x1b[K', '\rd\x1b[K\n']);
      expect(built).toBe(2);
    } finally {
      cap.restore();
    }
  });

  it('without a TTY prints plain lines at the plain interval', () => {
    const cap = captureStderr(false);
    try {
      const s = new StatusLine({ tty: 100, plain: 5000 });
      s.update(() => 'a');
      vi.advanceTimersByTime(1000);
      s.update(() => 'b');
      vi.advanceTimersByTime(4000);
      s.update(() => 'c');
      s.update(() => 'd', { force: true });
      expect(cap.lines).toEqual(['a\n', 'c\n', 'd\n']);
    } finally {
      cap.restore();
    }
  });
});

describe('Progress', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('prints bar, count, rate per minute and eta; the last update always prints', () => {
    const cap = captureStderr(false);
    try {
      const p = new Progress('eval tabletop/train', 4, 1);
      vi.advanceTimersByTime(60_000);
      p.update(2, 'success 1/1'); // 1 new in 1 min: 1.0/min, 2 left
      p.update(3); // throttled
      p.update(4); // finished
      expect(cap.lines).toEqual([
        'eval tabletop/train [############............] 2/4 1.0/min eta 2.0m success 1/1\n',
        'eval tabletop/train [########################] 4/4 3.0/min eta 0s\n',
      ]);
    } finally {
      cap.restore();
    }
  });
});
