// analyze language-probes end to end in headless Chromium, tiny: a 1-step
// untrained checkpoint and the scripted expert on two held-out layouts under
// the original instruction, the language split, the swap and a garbled
// instruction; one resumable eval run per condition, JSON + HTML.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { type ProbeRow, runLanguageProbes } from '../../src/analysis/languageProbes.ts';
import { readRecords } from '../../src/eval/records.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { makeProbe } from '../../tasks/probes.ts';
import { lexiconOf } from '../../tasks/suite.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-langprobes-'));
const ckpt = join(dir, 'tiny');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('wasm');
  // terminate's bins all above 0.5: every episode of this policy is one step
  const p = new VlaPolicy({ gptLayers: 1, textDepth: 0, actionLow: [...Array.from(ACTION_LOW).slice(0, 5), 0.6], actionHigh: Array.from(ACTION_HIGH) });
  await saveCheckpoint(ckpt, p, { policyName: 'efficientnet-film' });
  p.dispose();
});

describe('analyze language-probes (tiny, headless Chromium)', { timeout: 900_000 }, () => {
  it('runs each condition on the same layouts and reports success and what was moved, per policy with backbone and text encoder', async () => {
    const out = join(dir, 'probes');
    const rows = await runLanguageProbes({ policies: [ckpt], suite: 'tabletop', conditions: ['original', 'language', 'swap', 'garbled'], episodes: 2, backend: 'wasm', out, quiet: true });
    const find = (c: string, p: string, task = 'all') => rows.find((r) => r.condition === c && r.policy === p && r.task === task) as ProbeRow;
    expect([...new Set(rows.map((r) => r.condition))]).toEqual(['original', 'language', 'swap', 'garbled']);
    expect(find('original', 'tiny')).toMatchObject({ backbone: 'efficientnet_film_s_96', textEncoder: 'scratch', episodes: 2 });
    expect(find('original', 'expert')).toMatchObject({ backbone: 'scripted', textEncoder: '-' });
    expect(find('garbled', 'expert')).toBeUndefined(); // the expert reads the goal, not the words
    // the expert solves what each instruction names and moves that object
    for (const c of ['original', 'language', 'swap']) {
      const e = find(c, 'expert');
      expect([c, e.success.k, e.movedNamed.k]).toEqual([c, e.episodes, e.episodes]);
    }
    // the swap applies to the stack layout, not to this pick_place one (no object of the bowl's colour): one episode
    const suite = resolveSuite('tabletop');
    const swapRuns = readRecords(join(out, 'runs', 'swap', 'episodes.jsonl'));
    const st = sampleEpisode(suite, 'stack', 'heldout_layout', 100000);
    expect(makeProbe(sampleEpisode(suite, 'pick_place', 'heldout_layout', 100000), 'swap', lexiconOf(suite))).toBeNull();
    const swapText = makeProbe(st, 'swap', lexiconOf(suite))!.instruction;
    expect(swapRuns.map((r) => [r.policy, r.task, r.seed, r.instruction, r.protocol?.probe]).sort()).toEqual([['expert', 'stack', 100000, swapText, 'swap'], ['tiny', 'stack', 100000, swapText, 'swap']]);
    for (const r of swapRuns) expect(r.probe).toEqual({ kind: 'swap', named: { object: st.goal.target, target: st.goal.object }, original: st.goal });
    // the policy got the garbled text as is; every episode is classified and paired with the original instruction
    const garbled = readRecords(join(out, 'runs', 'garbled', 'episodes.jsonl'));
    expect(garbled.map((r) => r.instruction)).toEqual(garbled.map((r) => makeProbe(sampleEpisode(suite, r.task, 'heldout_layout', r.seed), 'garbled', lexiconOf(suite))!.instruction));
    const g = find('garbled', 'tiny');
    expect([g.episodes, g.moved.named, g.moved.original + g.moved.other + g.moved.none, g.originalSuccess?.n]).toEqual([2, 0, 2, 2]);
    expect(find('language', 'tiny').originalSuccess?.n).toBe(2); // the language split shares the layouts
    expect(readRecords(join(out, 'runs', 'language', 'episodes.jsonl')).every((r) => r.split === 'heldout_language')).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'language_probes.json'), 'utf8'));
    expect(json.rows).toEqual(JSON.parse(JSON.stringify(rows)));
    expect(json.meta).toMatchObject({ experiment: 'language-probes', split: 'heldout_layout', languageSplit: 'heldout_language' });
    const html = readFileSync(join(out, 'language_probes.html'), 'utf8');
    expect(html).toContain('Moved the object the instruction names');
    expect(html).toContain('<td>scratch</td>');
    expect(existsSync(join(out, 'runs', 'original', 'summary.json'))).toBe(true);
  });
});
