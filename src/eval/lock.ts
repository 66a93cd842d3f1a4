// One writer per run directory: two evals appending to the same episodes.jsonl
// would record episodes twice and could mix checkpoints under one label. The
// lock file holds the owner's pid; a lock whose process is gone (crash,
// kill -9) is taken over, so an interrupted run still resumes.
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock `dir` (which must exist) for this process; returns the release function. */
export function acquireRunLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, me, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8') === me) unlinkSync(path);
        } catch { /* already gone */ }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try { owner = Number(readFileSync(path, 'utf8').trim()); } catch { continue; } // released meanwhile
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new Error(`${dir} is being written by another vlalab process (pid ${owner}); wait for it or stop it, or choose another --out`);
      }
      try { unlinkSync(path); } catch { /* someone else took it over */ }
    }
  }
  throw new Error(`could not lock ${dir} (${path} keeps reappearing)`);
}

/** Run `fn` as the one writer of `dir` (created if missing), releasing the lock however it ends. */
export async function withRunLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const release = acquireRunLock(dir);
  try {
    return await fn();
  } finally {
    release();
  }
}
