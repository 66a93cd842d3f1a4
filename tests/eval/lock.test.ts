import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, acquireRunLock } from '../../src/eval/lock.ts';

describe('run directory lock', () => {
  it('refuses a second writer while the first holds the directory, and frees it on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-lock-'));
    const release = acquireRunLock(dir);
    // Another live process owns it: pretend the lock is our parent's (alive for the whole test).
    release();
    writeFileSync(join(dir, LOCK_FILE), String(process.ppid));
    expect(() => acquireRunLock(dir)).toThrow(new RegExp(`another vlalab process \\(pid ${process.ppid}\\)`));
    writeFileSync(join(dir, LOCK_FILE), String(process.pid)); // our own stale lock (a crashed earlier run in this process) is reusable
    const again = acquireRunLock(dir);
    again();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a lock whose process is gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-lock-'));
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    writeFileSync(join(dir, LOCK_FILE), dead.stdout.trim());
    const release = acquireRunLock(dir);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
