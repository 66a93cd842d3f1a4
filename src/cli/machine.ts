// Run metadata: what machine and software produced a result.
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
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
