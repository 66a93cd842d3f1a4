// The session pool shared by eval and collect (src/runtime/pool.ts), on fake
// sessions: a browser that dies under an item is reopened and the item rerun,
// so every item is delivered exactly once; a stop from onResult and an abort
// end dispatching.
import { describe, expect, it } from 'vitest';
import { openSessions, runPool } from '../../src/runtime/pool.ts';
import type { HeadlessSession } from '../../src/runtime/session.ts';

interface Fake { id: number; connected: boolean; closed: boolean; browser: { isConnected(): boolean }; close(): Promise<void> }
function fakeOpener() {
  const opened: Fake[] = [];
  const open = async () => {
    const f: Fake = {
      id: opened.length, connected: true, closed: false,
      browser: { isConnected: () => f.connected },
      close: async () => { f.closed = true; },
    };
    opened.push(f);
    return f as unknown as HeadlessSession;
  };
  return { opened, open };
}
const fake = (s: HeadlessSession) => s as unknown as Fake;

describe('runPool', () => {
  it('reruns an item whose browser died (thrown or as a result) on a reopened session: each item delivered once', async () => {
    const { opened, open } = fakeOpener();
    const signal = new AbortController().signal;
    const sessions = await openSessions(2, open, signal);
    const died = new Set<number>();
    const got: number[] = [];
    await runPool({
      sessions, open, signal, items: [0, 1, 2, 3, 4, 5, 6, 7],
      run: async (s, item) => {
        await new Promise((r) => setTimeout(r, 1));
        if ((item === 2 || item === 5) && !died.has(item)) {
          died.add(item);
          fake(s).connected = false;
          if (item === 2) throw new Error('Target page, context or browser has been closed');
          return { item, crashed: true };
        }
        return { item, crashed: false };
      },
      onResult: (r) => { got.push(r.item); expect(r.crashed).toBe(false); },
    });
    expect(got.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(opened.length).toBe(4); // two at start, one per death
    expect(opened.filter((f) => f.closed).map((f) => f.connected)).toEqual([false, false]);
    expect(sessions.map(fake).every((f) => f.connected && !f.closed)).toBe(true); // the live ones, for the caller to close
  });

  it('a thrown error on a live browser is the caller\'s error, not a restart', async () => {
    const { opened, open } = fakeOpener();
    const signal = new AbortController().signal;
    const sessions = await openSessions(1, open, signal);
    await expect(runPool({ sessions, open, signal, items: [1], run: async () => { throw new Error('bad episode args'); }, onResult: () => undefined }))
      .rejects.toThrow('bad episode args');
    expect(opened.length).toBe(1);
  });

  it('gives up restarting after maxRestarts and delivers the last result', async () => {
    const { opened, open } = fakeOpener();
    const signal = new AbortController().signal;
    const sessions = await openSessions(1, open, signal);
    const got: string[] = [];
    await runPool({ sessions, open, signal, items: ['a'], maxRestarts: 2, run: async (s) => { fake(s).connected = false; return 'exception record'; }, onResult: (r) => { got.push(r); } });
    expect(got).toEqual(['exception record']);
    expect(opened.length).toBe(3);
  });

  it('stops dispatching when onResult returns false, and when the signal aborts', async () => {
    const { open } = fakeOpener();
    const signal = new AbortController().signal;
    const sessions = await openSessions(1, open, signal);
    const seen: number[] = [];
    await runPool({ sessions, open, signal, items: [0, 1, 2, 3], run: async (_, i) => i, onResult: (i) => { seen.push(i); return i < 1; } });
    expect(seen).toEqual([0, 1]);

    const ac = new AbortController();
    const ran: number[] = [];
    await runPool({ sessions, open, signal: ac.signal, items: [0, 1, 2, 3], run: async (_, i) => { ran.push(i); if (i === 1) ac.abort('SIGINT'); return i; }, onResult: () => undefined });
    expect(ran).toEqual([0, 1]);
    expect(await openSessions(2, open, ac.signal)).toEqual([]);
  });
});
