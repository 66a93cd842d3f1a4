// Issue 19, without a browser: a label means one model and one protocol
// (untrained presets labelled as such, resume/merge refuse mismatches naming
// both sides, merge names missing shards), setup failures of older versions
// are not results, bad --policy/--backend are errors, the split's instructions
// are checked against the policy's tokenizer, and a growing tensor count is seen.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkProtocol, checkResumedRecords, isNotAResult, type EvalProtocol } from '../../src/eval/fingerprint.ts';
import { mergeRuns } from '../../src/eval/merge.ts';
import { appendRecord, evalEpisodes, readRecords, type EpisodeRecord } from '../../src/eval/records.ts';
import { writeOutputs } from '../../src/eval/report.ts';
import { tensorGrowth } from '../../src/eval/runner.ts';
import { planWorkers } from '../../src/runtime/machine.ts';
import { checkBackend, checkInstructions, instructionWarnings, parsePolicySpec, policyPlan } from '../../src/eval/setup.ts';
import { summarize } from '../../src/eval/summary.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { validateSuite } from '../../tasks/suite.ts';

const root = mkdtempSync(join(tmpdir(), 'vlalab-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const P: EvalProtocol = { terminateOnSuccess: false, ignoreTerminate: false, decode: 'checkpoint', backend: 'auto', resolution: 96 };
const rec = (policy: string, seed: number, extra: Partial<EpisodeRecord> = {}): EpisodeRecord => ({
  suite: 'tabletop', suiteVersion: '1', split: 'heldout_layout', task: 'pick_place', seed, instruction: 'x', policy, backbone: 'efficientnet_film_s_96', backend: 'wasm',
  success: seed % 2 === 0, steps: 10, terminated: true, latency: [], warmup: [], wallMs: 1, protocol: P, ...extra,
});

/** A run directory as eval writes it: records + summary.json (meta with the shard and the plan). */
function run(name: string, records: EpisodeRecord[], meta: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const r of records) appendRecord(join(dir, 'episodes.jsonl'), r);
  writeOutputs(dir, records, summarize(records), { suite: 'tabletop', split: 'heldout_layout', ...meta });
  return dir;
}

describe('a label means one model', () => {
  it('labels a registry preset as untrained everywhere, never as the checkpoint of the same name', () => {
    expect(parsePolicySpec('efficientnet-film')).toMatchObject({ label: 'efficientnet-film (untrained)', untrained: true, name: 'efficientnet-film' });
    expect(parsePolicySpec('checkpoints/efficientnet-film')).toMatchObject({ label: 'efficientnet-film', checkpoint: expect.stringMatching(/checkpoints\/efficientnet-film$/) });
    expect(policyPlan(['efficientnet-film'], true).map((s) => s.label)).toEqual(['expert', 'efficientnet-film (untrained)', 'efficientnet-film (untrained)+blind']);
  });

  it('refuses a mistyped --policy path or name and an unknown --backend, naming them', () => {
    expect(() => parsePolicySpec('checkpoints/efficientnet-flim')).toThrow(/--policy checkpoints\/efficientnet-flim: no checkpoint directory .*and no registry preset of that name \(presets: efficientnet-film, efficientnet-film-64, vit-siglip, vit-siglip-openvla;/);
    expect(() => parsePolicySpec('checkpoints/efficientnet-film/config.json')).toThrow(/is a file, not a checkpoint directory/);
    expect(() => checkBackend('nonsense')).toThrow(/--backend must be auto or one of webgpu, webgl, wasm, cpu, got "nonsense"/);
    expect(() => checkBackend('wasm')).not.toThrow();
  });

  it('resume refuses records of another model under the label, naming both sides', () => {
    const ckpt = { label: 'efficientnet-film', sha256: 'a'.repeat(64), checkpoint: '/ck/efficientnet-film' };
    const preset = { label: 'efficientnet-film (untrained)', name: 'efficientnet-film', untrained: true };
    const presetRecs = [rec('efficientnet-film', 1, { preset: 'efficientnet-film', untrained: true })];
    expect(() => checkResumedRecords(presetRecs, [ckpt], 'run/episodes.jsonl')).toThrow(/holds episodes of "efficientnet-film" from untrained preset efficientnet-film, but "efficientnet-film" is now checkpoint sha256 aaaaaaaaaaaa… \(\/ck\/efficientnet-film\)/);
    const ckptRecs = [rec('efficientnet-film (untrained)', 1, { checkpointSha256: 'b'.repeat(64) })];
    expect(() => checkResumedRecords(ckptRecs, [preset], 'f')).toThrow(/from checkpoint sha256 bbbbbbbbbbbb…, but "efficientnet-film \(untrained\)" is now untrained preset efficientnet-film/);
    expect(checkResumedRecords([rec('efficientnet-film (untrained)', 1, { preset: 'efficientnet-film', untrained: true })], [preset], 'f')).toEqual([]);
  });

  it('resume refuses records of another protocol, naming the fields on both sides', () => {
    expect(() => checkProtocol([rec('cnn', 1)], { ...P, terminateOnSuccess: true, backend: 'wasm' }, 'run/episodes.jsonl'))
      .toThrow(/run\/episodes.jsonl holds 1 episodes run under another protocol \(recorded vs now: backend "auto" vs "wasm"; terminateOnSuccess false vs true\)/);
    expect(() => checkProtocol([rec('cnn', 1), rec('cnn', 2, { protocol: undefined })], P, 'f')).not.toThrow();
  });

  it('setup failures and dead page calls of older versions are not results; episode failures are', () => {
    expect(isNotAResult(rec('cnn', 1, { backbone: 'unknown', backend: 'none', success: false, failure: { kind: 'exception', message: 'cannot fetch http://x/ckpt/0/weights.safetensors' } }))).toBe(true);
    expect(isNotAResult(rec('cnn', 1, { backbone: 'unknown', backend: 'auto', failure: { kind: 'exception', message: 'page.evaluate: Target page, context or browser has been closed' } }))).toBe(true);
    expect(isNotAResult(rec('cnn', 1, { failure: { kind: 'nan_action', message: 'action[0] (dx) is NaN at step 3' } }))).toBe(false);
    expect(isNotAResult(rec('cnn', 1, { failure: { kind: 'exception', message: 'inside the policy' } }))).toBe(false);
  });

  it('caps --workers at the machine cores with a note naming them, refuses 0', () => {
    expect(planWorkers(99, 500, 16)).toEqual({ workers: 16, note: "note: --workers 99 is more than this machine's 16 cores (os.availableParallelism()); using 16" });
    expect(planWorkers(4, 2, 16)).toEqual({ workers: 2 }); // never more pages than pending episodes
    expect(() => planWorkers(0, 5, 16)).toThrow(/--workers must be a positive integer, got 0/);
  });

  it('warns when a growing tensor count shows a leak, per label', () => {
    expect(tensorGrowth({ cnn: [[120, 120, 120], [120, 120]], vit: [[300, 301, 305]], one: [[5]] })).toEqual({ vit: 5 });
  });
});

describe('merge', () => {
  it('refuses shards of two models or two protocols under one label, naming both input directories', () => {
    const a = run('m-a', [rec('cnn', 0, { checkpointSha256: 'a'.repeat(64) })], { shard: { index: 0, count: 2 } });
    const b = run('m-b', [rec('cnn', 1, { checkpointSha256: 'b'.repeat(64) })], { shard: { index: 1, count: 2 } });
    expect(() => mergeRuns([a, b], join(root, 'm-out1'))).toThrow(new RegExp(`"cnn" come from two models: checkpoint sha256 aaaaaaaaaaaa… \\(${a}\\) and checkpoint sha256 bbbbbbbbbbbb… \\(${b}\\)`));
    const c = run('m-c', [rec('cnn', 1, { protocol: { ...P, ignoreTerminate: true, terminateOnSuccess: true } })], { shard: { index: 1, count: 2 } });
    const a2 = run('m-a2', [rec('cnn', 0)], { shard: { index: 0, count: 2 } });
    expect(() => mergeRuns([a2, c], join(root, 'm-out2'))).toThrow(new RegExp(`${a2} and ${c} ran under different protocols \\(ignoreTerminate false vs true; terminateOnSuccess false vs true\\)`));
  });

  it('names the missing shards of i/n, refuses a lone shard, and marks a --partial merge as partial', () => {
    const s0 = run('s0', [rec('cnn', 0)], { shard: { index: 0, count: 3 } });
    const s2 = run('s2', [rec('cnn', 2)], { shard: { index: 2, count: 3 } });
    expect(() => mergeRuns([s0], join(root, 'lone'))).toThrow(/shards 1, 2 of 3 are missing \(have 0\/3\)/);
    expect(() => mergeRuns([s0, s2], join(root, 'two'))).toThrow(/shards 1 of 3 are missing \(have 0\/3, 2\/3\).*--partial/);
    const r = mergeRuns([s0, s2], join(root, 'partial'), { partial: true });
    expect(r).toMatchObject({ records: 2, missingShards: [1], shardCount: 3 });
    expect(readRecords(join(root, 'partial', 'episodes.jsonl'))).toHaveLength(2);
    const whole = run('whole', [rec('cnn', 1)]);
    expect(() => mergeRuns([s0, whole], join(root, 'mixed'))).toThrow(/is a whole run but .* is shard 0\/3/);
    // an interrupted shard is not complete either
    const cut = run('cut', [rec('cnn', 1)], { shard: { index: 1, count: 3 }, episodes: 2, policies: [{}], interrupted: true });
    expect(() => mergeRuns([s0, cut, s2], join(root, 'cut-out'))).toThrow(/has 1 of 2 episodes \(interrupted\)/);
  });
});

describe('instructions against the policy tokenizer', () => {
  const cnn = parsePolicySpec('checkpoints/efficientnet-film');
  it('warns about words the shipped policy sees as [UNK] (e.g. "block" in held-out paraphrases)', () => {
    const suite = resolveSuite('tabletop', () => '');
    const episodes = evalEpisodes(suite, 'heldout_paraphrase', 40);
    const [c] = checkInstructions(suite, 'heldout_paraphrase', episodes, [cnn]);
    expect(Object.keys(c.unknownWords).length).toBeGreaterThan(0);
    const w = instructionWarnings([c], episodes.length);
    expect(w[0]).toMatch(/^warning: "efficientnet-film" will see \d+ words? of this split's instructions as \[UNK\]/);
  });

  it('warns when an instruction is longer than maxTextLen allows, naming the dropped words', () => {
    const raw = JSON.parse(readFileSync('tasks/suites/tabletop-v1.json', 'utf8')) as { tasks: { templates: { train: string[] } }[] };
    const long = 'please could you now pick up the {object} and then very carefully put it down right into the {target}';
    raw.tasks.forEach((t) => (t.templates.train = [long]));
    const suite = validateSuite(raw);
    const episodes = evalEpisodes(suite, 'train', 4);
    const [c] = checkInstructions(suite, 'train', episodes, [cnn]);
    expect(c.truncated).toBe(4);
    expect(c.example!.dropped.at(-1)).toBe('bowl');
    expect(instructionWarnings([c], 4).join('\n')).toMatch(/reads at most 14 words \(maxTextLen 16\); 4\/4 instructions are longer and lose their end, e\.g\. ".*" drops ".*bowl"/);
  });
});
