// Ctrl-C and SIGTERM for the long-running commands (eval, collect, analyze).
// A signal must never change a score: Playwright's own SIGINT handler would
// close Chromium under the episode in flight, which then came back as an
// `exception: ... browser has been closed` record that a resume never reran.
// So browsers are launched with Playwright's handlers off (browser.ts) and
// the signal only aborts the innermost running scope: it stops dispatching,
// drops what is half done, writes what is done and throws InterruptedError,
// which the CLI turns into exit code 130 (128 + SIGINT, the shell convention).
// A second signal exits at once; the 'exit' hooks still remove the private
// dist/ copies (session.ts) and Playwright's browser profiles.

export class InterruptedError extends Error {
  readonly exitCode = 130;
  constructor(readonly signal: string, what: string) {
    super(`interrupted by ${signal}: ${what}`);
    this.name = 'InterruptedError';
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const scopes = new Set<AbortController>();
let installed = false;
let signalled = 0;
/** Called when a signal arrives and no scope is running (the CLI: close sessions, exit 130). */
let idleHandler: ((signal: string) => void) | null = null;

function onSignal(signal: string): void {
  // Outside a scope, code with its own handler (train's Ctrl-C checkpoint, src/train/node.ts) owns the signal.
  if (scopes.size === 0 && process.listenerCount(signal) > 1) return;
  signalled++;
  if (signalled > 1 || scopes.size === 0) {
    if (idleHandler) return idleHandler(signal);
    if (signalled > 1) process.exit(130);
    return;
  }
  process.stderr.write(`\n${signal}: stopping; episodes in flight are dropped (a rerun resumes them), finished ones are kept. Again to exit at once.\n`);
  for (const c of scopes) c.abort(signal);
}

const handlers = Object.fromEntries(SIGNALS.map((s) => [s, () => onSignal(s)])) as Record<string, () => void>;

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, handlers[s]);
}

function uninstallIfIdle(): void {
  if (!installed || scopes.size > 0 || idleHandler) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, handlers[s]);
}

/** The CLI's handler for a signal outside any scope (or a second one). Installs the listeners for good. */
export function setIdleSignalHandler(fn: (signal: string) => void): void {
  idleHandler = fn;
  install();
}

export interface InterruptScope {
  readonly signal: AbortSignal;
  readonly aborted: boolean;
  /** Stop listening; call in a finally. */
  dispose(): void;
}

/** A scope whose signal aborts on SIGINT/SIGTERM (or when `linked` aborts: tests, embedding callers). */
export function interruptScope(linked?: AbortSignal): InterruptScope {
  const c = new AbortController();
  const follow = () => c.abort(linked?.reason ?? 'abort');
  if (linked?.aborted) follow();
  linked?.addEventListener('abort', follow, { once: true });
  scopes.add(c);
  signalled = 0;
  install();
  return {
    signal: c.signal,
    get aborted() { return c.signal.aborted; },
    dispose() {
      linked?.removeEventListener('abort', follow);
      scopes.delete(c);
      uninstallIfIdle();
    },
  };
}

export const ABORTED: unique symbol = Symbol('aborted');

/** `p`, or ABORTED as soon as `signal` aborts (p's eventual rejection is swallowed: its result is dropped). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const stop = () => resolve(ABORTED);
    signal.addEventListener('abort', stop, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', stop); resolve(v); },
      (e) => { signal.removeEventListener('abort', stop); if (signal.aborted) resolve(ABORTED); else reject(e); },
    );
  });
}

/** Open a resource unless `signal` aborts first; one that finishes opening after the abort is closed at once. */
export async function openUnlessAborted<T extends { close(): Promise<void> }>(opening: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  const r = await unlessAborted(opening, signal);
  if (r === ABORTED) void opening.then((x) => x.close(), () => undefined);
  return r;
}
