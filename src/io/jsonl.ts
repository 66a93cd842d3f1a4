// Durable JSON-lines files: the index of demo datasets and the per-episode
// records of evaluation runs. Appends are fsynced; a torn last line (a crash
// mid-append) is skipped by readers and never glued onto the next record.
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';

/** Append one record as a line, fsynced. */
export function appendJsonl(path: string, record: unknown): void {
  let line = JSON.stringify(record) + '\n';
  if (existsSync(path) && !endsWithNewline(path)) line = '\n' + line;
  appendFileSync(path, line);
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function endsWithNewline(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Records of a JSONL file that parse and pass `valid`; malformed lines are skipped. */
export function readJsonl<T>(path: string, valid: (v: unknown) => v is T): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (valid(v)) out.push(v);
  }
  return out;
}
