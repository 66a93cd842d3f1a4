// Run metadata: what machine and software produced a result.
import { execSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';
import pkg from '../../package.json';

export function gitCommit(): string | null {
  try {
    return execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

export function machineInfo() {
  const c = cpus();
  return {
    vlalab: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    gitCommit: gitCommit(),
    date: new Date().toISOString(),
  };
}

/**
 * How many headless pages to start: --workers, refused below 1, capped at the
 * machine's cores (each page runs physics, rendering and inference: more only
 * thrash) and at the pending episodes. `note` says when it was capped.
 */
export function planWorkers(asked: number, pending: number, cores = availableParallelism()): { workers: number; note?: string } {
  if (!(Number.isInteger(asked) && asked >= 1)) throw new Error(`--workers must be a positive integer, got ${asked}`);
  const note = asked > cores ? `note: --workers ${asked} is more than this machine's ${cores} cores (os.availableParallelism()); using ${cores}` : undefined;
  return { workers: Math.max(1, Math.min(asked, cores, pending || 1)), ...(note ? { note } : {}) };
}
