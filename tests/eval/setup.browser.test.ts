// Issue 19 in headless Chromium: a checkpoint that cannot load (truncated
// weights, corrupted header, config naming another backbone, a tensor of the
// wrong shape) stops the eval before its first episode, naming the file and
// the problem, with no episode records; records of setup failures left by
// older versions are not resumed into; the run metadata carries the worker's
// tensor count per episode.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords } from '../../src/eval/records.ts';
import { runEval } from '../../src/eval/runner.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-evalsetup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const good = join(dir, 'tiny');
const base = { baselines: false, suite: 'tabletop', split: 'heldout_layout', episodes: 2, quiet: true, backend: 'wasm' };

beforeAll(async () => {
  await initBackend('wasm');
  const p = new VlaPolicy({ gptLayers: 1, textDepth: 0 });
  await saveCheckpoint(good, p, { policyName: 'efficientnet-film' });
  p.dispose();
});

/** A copy of the tiny checkpoint under `name`, damaged by `harm`. */
function damaged(name: string, harm: (d: string) => void): string {
  const d = join(dir, name);
  cpSync(good, d, { recursive: true });
  harm(d);
  return d;
}

describe('eval setup failures (headless Chromium)', () => {
  it('a checkpoint that cannot load stops the run before its first episode, naming the file and the problem', async () => {
    const w = (d: string) => join(d, 'weights.safetensors');
    const cases: [string, (d: string) => void, RegExp][] = [
      ['truncated', (d) => { const b = readFileSync(w(d)); writeFileSync(w(d), b.subarray(0, b.length >> 1)); }, /truncated\/weights\.safetensors/],
      ['bad-header', (d) => { const b = readFileSync(w(d)); b.fill(0x7b, 8, 40); writeFileSync(w(d), b); }, /bad-header\/weights\.safetensors/],
      ['other-backbone', (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        c.policy.config.backbone = 'siglip_tiny_patch8_96';
        writeFileSync(join(d, 'config.json'), JSON.stringify(c));
      }, /other-backbone\/weights\.safetensors/],
      ['wrong-shape', (d) => {
        const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        c.policy.config.gptDim = c.policy.config.gptDim * 2;
        writeFileSync(join(d, 'config.json'), JSON.stringify(c));
      }, /wrong-shape\/weights\.safetensors.*shape/],
    ];
    for (const [name, harm, where] of cases) {
      const ckpt = damaged(name, harm);
      const out = join(dir, `run-${name}`);
      const err = await runEval({ ...base, policies: [ckpt], out }).then(() => null, (e: Error) => e);
      expect(err, name).toBeInstanceOf(Error);
      expect(err!.name, name).toBe('SetupError');
      expect(err!.message, name).toMatch(new RegExp(`^"${name}" cannot run \\(${ckpt}\\): `));
      expect(err!.message, name).toMatch(where); // the local file, not the served URL
      expect(err!.message, name).not.toMatch(/\/ckpt\/\d+\//);
      expect(readRecords(join(out, 'episodes.jsonl')), name).toEqual([]);
    }
  });

  it('drops records of an old setup failure on resume and reruns them; records the worker tensor count per episode', async () => {
    const out = join(dir, 'resume-old');
    mkdirSync(out, { recursive: true });
    // What an older version wrote for a checkpoint that did not load: backbone 'unknown', backend 'none', a 0% row.
    const old = { suite: 'tabletop', suiteVersion: '1.0.0', split: 'heldout_layout', task: 'pick_place', seed: 100000, instruction: '', policy: 'tiny', backbone: 'unknown', backend: 'none',
      success: false, steps: 0, terminated: false, failure: { kind: 'exception', message: 'CheckpointError: http://127.0.0.1:1/ckpt/0/weights.safetensors: truncated' }, latency: [], warmup: [], wallMs: 1 };
    writeFileSync(join(out, 'episodes.jsonl'), JSON.stringify(old) + '\n');
    const r = await runEval({ ...base, policies: [good], out });
    expect(r.records).toHaveLength(2);
    for (const rec of r.records) expect([rec.backbone, rec.failure]).toEqual(['efficientnet_film_s_96', undefined]);
    expect(readFileSync(join(out, 'episodes.dropped.jsonl'), 'utf8')).toContain('"backbone":"unknown"');
    const meta = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).meta;
    const counts = meta.workerTensors.tiny.flat();
    expect(counts).toHaveLength(2);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBe(counts[0]); // a policy episode leaves no tensor behind
    expect(meta.workerTensorGrowth).toBeUndefined();
    expect(meta.protocol).toMatchObject({ backend: 'wasm', terminateOnSuccess: false, decode: 'checkpoint' });
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });
});
