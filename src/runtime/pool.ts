// The browser session pool of the long-running commands (eval, collect):
// N headless Chromium sessions pull episodes from one queue until it is
// empty, Ctrl-C aborts the scope, or a result says stop. A browser that dies
// under an episode is not the episode's failure: the pool reopens that
// session and runs the same episode again (at most `maxRestarts` per
// session), so a crash costs time, never a record. Sessions are opened
// honouring the abort signal (a Ctrl-C during a slow launch stops at once).
import { ABORTED, openUnlessAborted, unlessAborted } from './interrupt.ts';
import type { HeadlessSession } from './session.ts';

/** Open up to `n` sessions, stopping early when `signal` aborts. */
export async function openSessions(n: number, open: () => Promise<HeadlessSession>, signal: AbortSignal): Promise<HeadlessSession[]> {
  const sessions: HeadlessSession[] = [];
  for (let i = 0; i < n && !signal.aborted; i++) {
    const s = await openUnlessAborted(open(), signal);
    if (s !== ABORTED) sessions.push(s);
  }
  return sessions;
}

export interface PoolRun<I, R> {
  /** The open sessions; a restarted session replaces its slot here, so the caller's finally closes the live ones. */
  sessions: HeadlessSession[];
  open: () => Promise<HeadlessSession>;
  signal: AbortSignal;
  items: readonly I[];
  /** One item on one session. A dead browser may show as a result or as a thrown error: both are retried. */
  run: (session: HeadlessSession, item: I, slot: number) => Promise<R>;
  /** Each finished item, in completion order; return false to stop dispatching (every slot stops after its current item). */
  onResult: (result: R, item: I, slot: number) => boolean | void | Promise<boolean | void>;
  /** Why the browser died, for the restart line (default: the thrown error's message, or 'disconnected'). */
  diedBecause?: (result: R) => string | undefined;
  maxRestarts?: number;
}

/** Run every item; resolves when all are done, the signal aborted, or onResult said stop. Half-done items are dropped (a rerun resumes them). */
export async function runPool<I, R>(o: PoolRun<I, R>): Promise<void> {
  const maxRestarts = o.maxRestarts ?? 3;
  let next = 0;
  let stopped = false;
  await Promise.all(o.sessions.map(async (_, slot) => {
    let restarts = 0;
    while (!o.signal.aborted && !stopped && next < o.items.length) {
      const item = o.items[next++];
      let r = await attempt(o, slot, item);
      while (r !== ABORTED && !o.sessions[slot].browser.isConnected() && restarts < maxRestarts) {
        restarts++;
        const why = 'error' in r ? r.error instanceof Error ? r.error.message : String(r.error) : o.diedBecause?.(r.value);
        process.stderr.write(`\nbrowser ${slot} died (${why ?? 'disconnected'}); restarting it (${restarts}/${maxRestarts})\n`);
        await o.sessions[slot].close().catch(() => undefined);
        const s = await openUnlessAborted(o.open(), o.signal);
        if (s === ABORTED) { r = ABORTED; break; }
        o.sessions[slot] = s;
        r = await attempt(o, slot, item);
      }
      if (r === ABORTED) break;
      if ('error' in r) throw r.error;
      if ((await o.onResult(r.value, item, slot)) === false) stopped = true;
    }
  }));
}

async function attempt<I, R>(o: PoolRun<I, R>, slot: number, item: I): Promise<typeof ABORTED | { value: R } | { error: unknown }> {
  try {
    const v = await unlessAborted(o.run(o.sessions[slot], item, slot), o.signal);
    return v === ABORTED ? ABORTED : { value: v as R };
  } catch (error) {
    return { error };
  }
}
