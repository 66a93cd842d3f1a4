import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointSha256 } from '../../src/eval/fingerprint.ts';
import { mergeRuns } from '../../src/eval/merge.ts';
import { readRecords } from '../../src/eval/records.ts';
import { parsePolicySpec, policyPlan, runEval } from '../../src/eval/runner.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-evalrun-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const outcome = (path: string) => readRecords(path).map((r) => `${r.policy}|${r.task}|${r.seed}|${r.success}|${r.steps}`).sort();

describe('eval runner (headless Chromium, scripted expert)', () => {
  it('plans baselines and labels', () => {
    // a registry name is an untrained preset, and its label says so
    expect(policyPlan(['vit-siglip'], true).map((s) => s.label)).toEqual(['expert', 'vit-siglip (untrained)', 'vit-siglip (untrained)+blind']);
    expect(policyPlan(['expert'], false).map((s) => s.label)).toEqual(['expert']);
    // a decode override is part of every learned policy's label (not the expert's)
    const med = policyPlan(['vit-siglip', 'blind:efficientnet-film'], true, 'median');
    expect(med.map((s) => s.label)).toEqual(['expert', 'vit-siglip (untrained)@median', 'efficientnet-film (untrained)@median+blind', 'vit-siglip (untrained)@median+blind']);
    expect(med.map((s) => s.decodePoint)).toEqual([undefined, 'median', 'median', 'median']);
    expect(parsePolicySpec('blind:efficientnet-film')).toMatchObject({ label: 'efficientnet-film (untrained)+blind', blind: true, name: 'efficientnet-film', untrained: true });
    expect(() => parsePolicySpec(dir)).toThrow(/not a checkpoint directory \(no config\.json\)/);
  });

  const full = join(dir, 'full');
  it('writes records, summary, CSV and report; resumes after a crash without duplicates or losses', async () => {
    const r = await runEval({ policies: ['expert'], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 6, out: full, quiet: true });
    expect(r.records).toHaveLength(6);
    const before = outcome(join(full, 'episodes.jsonl'));
    expect(readFileSync(join(full, 'results.csv'), 'utf8').split('\n')[0]).toMatch(/^suite,suiteVersion,split,task,seed,policy/);
    const summary = JSON.parse(readFileSync(join(full, 'summary.json'), 'utf8'));
    expect(summary.meta.versions.chromium).toBeTruthy();
    expect(summary.meta.machine.gitCommit === null || typeof summary.meta.machine.gitCommit === 'string').toBe(true);
    expect(summary.policies[0].success.n).toBe(6);
    // every episode that ran to its end carries its outcome, consistent with success
    for (const rec of r.records) expect(rec.outcome?.kind === 'success').toBe(rec.success);
    expect(summary.policies[0].outcomes.success).toBe(r.records.filter((x) => x.success).length);
    // Crash: keep 3 records and a torn fourth line, as a killed run would leave it.
    const resumed = join(dir, 'resumed');
    const lines = readFileSync(join(full, 'episodes.jsonl'), 'utf8').split('\n').filter(Boolean);
    rmSync(resumed, { recursive: true, force: true });
    mkdirSync(resumed);
    writeFileSync(join(resumed, 'episodes.jsonl'), lines.slice(0, 3).join('\n') + '\n' + lines[3].slice(0, 40));
    const r2 = await runEval({ policies: ['expert'], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 6, out: resumed, quiet: true });
    expect(r2.records).toHaveLength(6);
    expect(outcome(join(resumed, 'episodes.jsonl'))).toEqual(before);
  });

  it('a browser killed mid-run is restarted; no episode is lost or recorded as a failure', async () => {
    const out = join(dir, 'killed');
    let killed = false;
    const r = await runEval({
      policies: ['expert'], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 6, out, quiet: true,
      afterEpisode: async (n, session) => { if (n === 2 && !killed) { killed = true; await session.browser.close(); } },
    });
    expect(killed).toBe(true);
    expect(r.records.filter((x) => x.failure)).toEqual([]);
    expect(outcome(join(out, 'episodes.jsonl'))).toEqual(outcome(join(full, 'episodes.jsonl')));
  });

  it('sharded runs merged equal the unsharded run on the same episode list', async () => {
    const shards = [0, 1, 2].map((i) => join(dir, `shard${i}`));
    for (const [i, d] of shards.entries()) {
      await runEval({ policies: ['expert'], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 6, out: d, shard: { index: i, count: 3 }, quiet: true });
      expect(readRecords(join(d, 'episodes.jsonl'))).toHaveLength(2);
    }
    const merged = join(dir, 'merged');
    expect(mergeRuns(shards, merged).records).toBe(6);
    expect(outcome(join(merged, 'episodes.jsonl'))).toEqual(outcome(join(full, 'episodes.jsonl')));
    const a = JSON.parse(readFileSync(join(merged, 'summary.json'), 'utf8')).policies[0].success;
    const b = JSON.parse(readFileSync(join(full, 'summary.json'), 'utf8')).policies[0].success;
    expect(a).toEqual(b);
  });

  it('--ignore-terminate (LIBERO protocol): a policy that always terminates runs to the step limit instead', async () => {
    // untrained policy whose terminate bins all decode to >= 0.6: it ends every episode at its first step
    await initBackend('wasm');
    const ckpt = join(dir, 'always-terminates');
    const p = new VlaPolicy({ gptLayers: 1, textDepth: 0, actionLow: [...Array.from(ACTION_LOW).slice(0, 5), 0.6], actionHigh: Array.from(ACTION_HIGH) });
    await saveCheckpoint(ckpt, p, { policyName: 'efficientnet-film' });
    p.dispose();
    const base = { policies: [ckpt], baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 1, quiet: true };
    const ends = (await runEval({ ...base, out: join(dir, 'terminates') })).records[0];
    expect([ends.steps, ends.terminated]).toEqual([1, true]);
    // one step cannot lift anything: the policy's episodes carry their outcome too
    expect(ends.outcome).toMatchObject({ kind: 'no_grasp', lifted: [] });
    expect(ends.outcome!.targetDistance).toBeGreaterThan(0.05);
    expect(ends.checkpointSha256).toBe(checkpointSha256(ckpt)); // which weights ran it
    // Rerun with every episode done: nothing runs, and the summary keeps the policy's params and FLOPs.
    const info = () => JSON.parse(readFileSync(join(dir, 'terminates', 'summary.json'), 'utf8')).policies[0];
    const first = info();
    expect(first.params).toBeGreaterThan(0);
    expect((await runEval({ ...base, out: join(dir, 'terminates') })).records).toHaveLength(1);
    expect(info()).toMatchObject({ policy: 'always-terminates', params: first.params, flopsPerFrame: first.flopsPerFrame });
    // Retrained in place (same directory, other weights): resuming into the old run directory is refused, the old records kept.
    const before = readFileSync(join(dir, 'terminates', 'episodes.jsonl'), 'utf8');
    const w = readFileSync(join(ckpt, 'weights.safetensors'));
    w[w.length - 1] ^= 0x80; // flip the sign of the last weight (little-endian F32: its top byte)
    writeFileSync(join(ckpt, 'weights.safetensors'), w);
    await expect(runEval({ ...base, episodes: 2, out: join(dir, 'terminates') })).rejects.toThrow(/holds 1 episodes of "always-terminates" run with other weights/);
    expect(readFileSync(join(dir, 'terminates', 'episodes.jsonl'), 'utf8')).toBe(before);
    const r = await runEval({ ...base, out: join(dir, 'ignored'), ignoreTerminate: true, terminateOnSuccess: true });
    expect(r.records[0].terminated).toBe(r.records[0].success); // only success can end it early
    if (!r.records[0].success) expect(r.records[0].steps).toBe(100); // the suite's step limit
    expect(JSON.parse(readFileSync(join(dir, 'ignored', 'summary.json'), 'utf8')).meta).toMatchObject({ ignoreTerminate: true, terminateOnSuccess: true });
    // --decode reaches the worker's checkpoint loader (a bad point estimate would fail the load) and labels the run
    const med = await runEval({ ...base, out: join(dir, 'median'), decodePoint: 'median' });
    expect(med.records.map((x) => [x.policy, x.steps, x.terminated, x.failure ?? null])).toEqual([['always-terminates@median', 1, true, null]]);
    const decoded = (d: string) => JSON.parse(readFileSync(join(dir, d, 'summary.json'), 'utf8')).policies.map((p: { decodePoint?: string }) => p.decodePoint);
    expect([decoded('median'), decoded('terminates')]).toEqual([['median'], ['argmax']]); // as the worker loaded it
    // --video: what the policy saw, step by step, with the actions it took (its first episode only here).
    const video = join(dir, 'video');
    await runEval({ ...base, episodes: 2, out: join(dir, 'with-video'), video, videoEpisodes: 1 });
    const epDir = join(video, 'always-terminates', 'pick_place-100000');
    const meta = JSON.parse(readFileSync(join(epDir, 'episode.json'), 'utf8'));
    expect(meta).toMatchObject({ policy: 'always-terminates', steps: 1, terminated: true, cameras: ['scene', 'wrist'] });
    expect(meta.actions).toHaveLength(1);
    expect(meta.actions[0][5]).toBeGreaterThanOrEqual(0.6);
    const frames = readdirSync(epDir).filter((f) => f.endsWith('.png'));
    expect(frames).toEqual(['frame_0000.png', 'frame_0001.png']); // the frame it acted on, and the one after
    expect(readFileSync(join(epDir, frames[0])).subarray(1, 4).toString()).toBe('PNG');
    expect(existsSync(join(video, 'always-terminates', 'stack-100000'))).toBe(false);
  });
});
