// Eval records carry their checkpoint's SHA-256 so a run directory never mixes
// two models' episodes under one label on resume.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkResumedRecords, checkpointSha256 } from '../../src/eval/fingerprint.ts';
import type { EpisodeRecord } from '../../src/eval/records.ts';
import { policyPlan } from '../../src/eval/runner.ts';

const root = mkdtempSync(join(tmpdir(), 'vlalab-fp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function checkpoint(name: string, weights: number[]): string {
  const dir = join(root, name);
  cpSync('checkpoints/efficientnet-film/config.json', join(dir, 'config.json'));
  writeFileSync(join(dir, 'weights.safetensors'), new Uint8Array(weights));
  return dir;
}

const rec = (policy: string, seed: number, sha?: string) => ({ policy, task: 'pick_place', seed, ...(sha ? { checkpointSha256: sha } : {}) }) as EpisodeRecord;

describe('checkpoint fingerprints in eval records', () => {
  it('hashes config + weights: equal for a copy, different when a weight byte changes', () => {
    const a = checkpoint('a/cnn', [1, 2, 3]);
    const b = checkpoint('b/cnn', [1, 2, 3]);
    const c = checkpoint('c/cnn', [1, 2, 4]);
    expect(checkpointSha256(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(checkpointSha256(b)).toBe(checkpointSha256(a));
    expect(checkpointSha256(c)).not.toBe(checkpointSha256(a));
  });

  it('policyPlan stamps the checkpoint hash on the policy and its blind baseline, not on the expert', () => {
    const dir = checkpoint('d/cnn', [9, 9]);
    const specs = policyPlan([dir], true);
    expect(specs.map((s) => [s.label, s.sha256])).toEqual([['expert', undefined], ['cnn', checkpointSha256(dir)], ['cnn+blind', checkpointSha256(dir)]]);
  });

  it('refuses to resume records of a label run with other weights, naming the file, label and both hashes', () => {
    const specs = [{ label: 'cnn', sha256: 'a'.repeat(64), checkpoint: '/ck/cnn' }, { label: 'expert' }];
    const same = [rec('cnn', 1, 'a'.repeat(64)), rec('expert', 1), rec('cnn', 2, 'a'.repeat(64))];
    expect(checkResumedRecords(same, specs, 'run/episodes.jsonl')).toEqual([]);
    const mixed = [...same, rec('cnn', 3, 'b'.repeat(64))];
    expect(() => checkResumedRecords(mixed, specs, 'run/episodes.jsonl')).toThrow(
      /run\/episodes.jsonl holds 1 episodes of "cnn" run with other weights \(checkpoint sha256 bbbbbbbbbbbb…, \/ck\/cnn now has aaaaaaaaaaaa…\).*use another --out/);
    // Records of another label with other weights are not this spec's business.
    expect(checkResumedRecords([rec('vit', 1, 'c'.repeat(64))], specs, 'f')).toEqual([]);
  });

  it('counts records written before fingerprints as unverified instead of refusing them', () => {
    const specs = [{ label: 'cnn', sha256: 'a'.repeat(64) }];
    expect(checkResumedRecords([rec('cnn', 1), rec('cnn', 2), rec('cnn', 3, 'a'.repeat(64))], specs, 'f')).toEqual([{ label: 'cnn', unverified: 2 }]);
  });
});
