// Issue 19: Ctrl-C never changes a score. The CLI runs in its own process
// group and gets SIGINT the way a terminal sends it (to the whole group);
// Playwright's own handler used to close Chromium under the episode in flight,
// which was then recorded as `exception: ... browser has been closed` and
// never rerun. Now: exit 130, every record is a real episode, summary.json
// covers them, no temporary dist/ copy or browser profile is left behind, and
// a rerun completes the run. SIGTERM (collect) the same.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readIndex } from '../../src/data/demoStore.ts';
import { readRecords } from '../../src/eval/records.ts';
import { ensureBuilt } from '../../src/runtime/build.ts';

const root = mkdtempSync(join(tmpdir(), 'vlalab-interrupt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Run the CLI in its own process group with a private TMPDIR; send `signal` to the group once `ready()` holds. */
async function interrupted(args: string[], ready: () => boolean, signal: NodeJS.Signals, tmp: string) {
  const p = spawn(process.execPath, ['bin/vlalab.mjs', ...args], { detached: true, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  const deadline = Date.now() + 100_000;
  while (!ready() && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  process.kill(-p.pid!, signal);
  const code = await exited;
  return { code, stderr };
}

const leftovers = (tmp: string) => readdirSync(tmp).filter((f) => /^vlalab-dist-|^playwright/.test(f));

describe('Ctrl-C and SIGTERM (CLI, headless Chromium)', () => {
  it('eval: SIGINT mid-run exits 130, records only whole episodes, writes the summary, leaves no temp copies; a rerun completes it', async () => {
    await ensureBuilt(); // not inside the child's time budget
    const out = join(root, 'eval');
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const args = ['eval', '--policy', 'expert', '--no-baselines', '--episodes', '6', '--out', out];
    const file = join(out, 'episodes.jsonl');
    const { code, stderr } = await interrupted(args, () => existsSync(file) && readRecords(file).length >= 1, 'SIGINT', tmp);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted by SIGINT: \d of 6 episodes are in/);
    const records = readRecords(file);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.length).toBeLessThan(6);
    expect(records.filter((r) => r.failure)).toEqual([]); // nothing half done was recorded as a failure
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.meta.interrupted).toBe(true);
    expect(summary.policies[0].episodes).toBe(records.length);
    expect(leftovers(tmp)).toEqual([]);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    // The rerun resumes and runs exactly the rest.
    const rerun = spawn(process.execPath, ['bin/vlalab.mjs', ...args], { stdio: 'ignore' });
    expect(await new Promise((r) => rerun.on('close', r))).toBe(0);
    const all = readRecords(file);
    expect(all).toHaveLength(6);
    expect(all.filter((r) => r.failure)).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).meta.interrupted).toBeUndefined();
  });

  it('analyze: SIGINT during an experiment exits 130 with only whole episodes recorded; a rerun completes it', async () => {
    const out = join(root, 'analyze');
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const args = ['analyze', 'generalization', '--policy', 'checkpoints/efficientnet-film', '--splits', 'heldout_layout', '--episodes', '4', '--workers', '1', '--out', out];
    const file = join(out, 'runs', 'heldout_layout', 'episodes.jsonl');
    const { code, stderr } = await interrupted(args, () => existsSync(file) && readRecords(file).length >= 1, 'SIGINT', tmp);
    expect(code, stderr).toBe(130);
    const records = readRecords(file);
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.filter((r) => r.failure)).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
    const rerun = spawn(process.execPath, ['bin/vlalab.mjs', ...args], { stdio: 'ignore' });
    expect(await new Promise((r) => rerun.on('close', r))).toBe(0);
    const all = readRecords(file);
    expect(new Set(all.map((r) => `${r.policy}/${r.task}/${r.seed}`)).size).toBe(all.length); // nothing repeated
    expect(all.filter((r) => r.failure)).toEqual([]);
  }, 240_000);

  it('collect: SIGTERM exits 130 with only whole episodes indexed and no temp copies', async () => {
    const out = join(root, 'collect');
    const tmp = mkdtempSync(join(root, 'tmp-'));
    const { code, stderr } = await interrupted(['collect', '--split', 'train', '--episodes', '6', '--out', out], () => existsSync(join(out, 'episodes.jsonl')) && readIndex(out).length >= 1, 'SIGTERM', tmp);
    expect(code, stderr).toBe(130);
    const index = readIndex(out);
    expect(index.length).toBeGreaterThanOrEqual(1);
    for (const e of index) expect(existsSync(join(out, e.file))).toBe(true);
    expect(readdirSync(join(out, 'episodes')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
  });
});
