// The interrupt scope behind eval/collect's Ctrl-C handling (runtime/interrupt.ts):
// an abort drops the pending result (and its later rejection), and a resource
// that finishes opening after the abort is closed rather than leaked.
import { describe, expect, it } from 'vitest';
import { ABORTED, interruptScope, openUnlessAborted, unlessAborted } from '../../src/runtime/interrupt.ts';

describe('interrupt scope', () => {
  it('a linked abort aborts the scope; the pending result is dropped, its rejection swallowed', async () => {
    const ctl = new AbortController();
    const scope = interruptScope(ctl.signal);
    try {
      let reject!: (e: Error) => void;
      const pending = unlessAborted(new Promise<number>((_, rej) => (reject = rej)), scope.signal);
      ctl.abort('SIGINT');
      expect(await pending).toBe(ABORTED);
      reject(new Error('browser has been closed')); // what the in-flight call does once the browser closes: not an unhandled rejection
      expect(scope.aborted).toBe(true);
      expect(scope.signal.reason).toBe('SIGINT');
      expect(await unlessAborted(Promise.resolve(1), scope.signal)).toBe(ABORTED); // nothing new starts
    } finally {
      scope.dispose();
    }
  });

  it('passes results through while not aborted, and closes what finishes opening after an abort', async () => {
    const ctl = new AbortController();
    const scope = interruptScope(ctl.signal);
    try {
      expect(await unlessAborted(Promise.resolve(7), scope.signal)).toBe(7);
      await expect(unlessAborted(Promise.reject(new Error('real failure')), scope.signal)).rejects.toThrow('real failure');
      let closed = 0, open!: (v: { close(): Promise<void> }) => void;
      const opening = new Promise<{ close(): Promise<void> }>((res) => (open = res));
      const got = openUnlessAborted(opening, scope.signal);
      ctl.abort('SIGTERM');
      expect(await got).toBe(ABORTED);
      open({ close: async () => { closed++; } });
      await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(1);
    } finally {
      scope.dispose();
    }
  });
});
