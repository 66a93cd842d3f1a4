// The analysis experiments end to end at their --quick size (headless
// Chromium): sample efficiency (train on N demos -> evaluate), generalization
// across held-out splits, robustness probes. Small, but every stage is the
// real one, and the outputs are checked for structure and consistency.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGeneralization } from '../../src/analysis/generalization.ts';
import { runLooksAt } from '../../src/analysis/looksAt.ts';
import { LOOK_LABELS, evalOutcomes, runGrounding } from '../../src/analysis/grounding.ts';
import { PROBES, runRobustness } from '../../src/analysis/robustness.ts';
import { runSampleEfficiency } from '../../src/analysis/sampleEfficiency.ts';
import { readRecords } from '../../src/eval/records.ts';
import { synthDataset } from '../train/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-analysis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SHIPPED = 'checkpoints/efficientnet-film';

describe('analysis experiments (quick size)', { timeout: 600_000 }, () => {
  it('sample efficiency: one checkpoint per (policy, N demos) with the same step budget, each evaluated', async () => {
    const data = synthDataset({ episodes: 10, steps: 12 }, join(dir, 'demos')); // 4 demos: 3 train episodes x 12 steps >= one batch of 32
    const out = join(dir, 'se');
    const rows = await runSampleEfficiency({ policies: ['efficientnet-film-64'], data, demos: [4, 8], steps: 2, episodes: 1, out, quiet: true });
    expect(rows.map((r) => [r.policy, r.demos, r.episodes])).toEqual([['efficientnet-film-64', 4, 1], ['efficientnet-film-64', 8, 1]]);
    for (const r of rows) {
      const cfg = JSON.parse(readFileSync(join(r.checkpoint, 'config.json'), 'utf8'));
      expect(cfg.training.state.step).toBe(2);
      expect(cfg.training.args.maxEpisodes).toBe(r.demos);
      expect(cfg.dataset.trainEpisodes + cfg.dataset.valEpisodes).toBe(r.demos);
    }
    const recs = readRecords(join(out, 'runs', 'heldout_layout', 'episodes.jsonl'));
    expect(recs.map((r) => r.policy).sort()).toEqual(['efficientnet-film-64-4demos', 'efficientnet-film-64-8demos']);
    expect(readFileSync(join(out, 'sample_efficiency.html'), 'utf8')).toContain('Success vs demos');
    // each point says where its episodes ended, one count per episode
    for (const r of rows) expect(Object.values(r.outcomes).reduce((a, b) => a + b, 0)).toBe(r.episodes);
    // Rerunning resumes: nothing is trained or evaluated twice.
    const again = await runSampleEfficiency({ policies: ['efficientnet-film-64'], data, demos: [4, 8], steps: 2, episodes: 1, out, quiet: true });
    expect(again.map((r) => r.successes)).toEqual(rows.map((r) => r.successes));
    expect(readRecords(join(out, 'runs', 'heldout_layout', 'episodes.jsonl'))).toHaveLength(2);
  });

  it('generalization: every held-out split, with the expert and blind baselines', async () => {
    const out = join(dir, 'gen');
    const rows = await runGeneralization({ policies: [SHIPPED], suite: 'tabletop', episodes: 1, out, quiet: true });
    expect([...new Set(rows.map((r) => r.group))]).toEqual(['heldout_layout', 'heldout_combo', 'heldout_paraphrase', 'heldout_language', 'heldout_distractors']);
    expect([...new Set(rows.map((r) => r.policy))].sort()).toEqual(['efficientnet-film', 'efficientnet-film+blind', 'expert']);
    expect(rows.every((r) => r.episodes === 1)).toBe(true);
    expect(rows.filter((r) => r.policy === 'expert').every((r) => r.successes === 1)).toBe(true); // scripted upper bound on these seeds
    expect(existsSync(join(out, 'generalization.html'))).toBe(true);
  });

  it('robustness: every probe on the same episodes; the run metadata records the probe', async () => {
    const out = join(dir, 'rob');
    const rows = await runRobustness({ policies: [SHIPPED], suite: 'tabletop', episodes: 1, out, quiet: true });
    expect(rows.map((r) => r.group)).toEqual(Object.keys(PROBES));
    const meta = JSON.parse(readFileSync(join(out, 'runs', 'checker_table', 'summary.json'), 'utf8')).meta;
    expect(meta.appearance).toEqual({ tableTexture: 'checker' });
    const seeds = Object.keys(PROBES).map((p) => readRecords(join(out, 'runs', p, 'episodes.jsonl')).map((r) => `${r.task}/${r.seed}`).join());
    expect(new Set(seeds).size).toBe(1);
    // an example policy-camera frame of every probe, each one different, in the report
    const frames = Object.keys(PROBES).map((p) => readFileSync(join(out, 'frames', `${p}.png`)).toString('base64'));
    expect(new Set(frames).size).toBe(frames.length);
    const html = readFileSync(join(out, 'robustness.html'), 'utf8');
    for (const [i, p] of Object.keys(PROBES).entries()) expect(html).toContain(`<img alt="probe ${p}" src="data:image/png;base64,${frames[i]}">`);
    expect(JSON.parse(readFileSync(join(out, 'robustness.json'), 'utf8')).meta.exampleCameras).toEqual(['scene', 'wrist']);
  });

  it('grounding: where each policy looks on a first frame, crossed with the committed eval run', async () => {
    const out = join(dir, 'grounding');
    const res = await runGrounding({ policies: ['checkpoints/efficientnet-film', 'checkpoints/vit-siglip'], episodes: 1, evalDir: 'results/eval-heldout_layout', out });
    expect(res.map((r) => r.label)).toEqual(['efficientnet-film', 'vit-siglip']);
    const csv = evalOutcomes('results/eval-heldout_layout');
    for (const r of res) {
      const [ep] = r.episodes;
      expect([ep.task, ep.seed]).toEqual(['pick_place', 100000]);
      expect(Object.keys(ep.looks)).toEqual(['scene', 'wrist']);
      for (const l of Object.values(ep.looks).flat()) expect(LOOK_LABELS).toContain(l);
      expect(ep.outcome).toBe(csv.find((c) => c.policy === r.label && c.task === 'pick_place' && c.seed === 100000)!.outcome);
      expect(Object.values(r.byLook).flatMap((o) => Object.values(o)).reduce((a, b) => a + b, 0)).toBe(1);
    }
    expect(JSON.parse(readFileSync(join(out, 'grounding.json'), 'utf8')).results).toHaveLength(2);
    expect(readFileSync(join(out, 'grounding.html'), 'utf8')).toContain('Outcome by where the object map pointed');
  });

  it('looks-at: ViT attention distance per layer/head and CNN effective receptive field per stage on a held-out frame', async () => {
    const out = join(dir, 'looks');
    const [cnn, vit] = await runLooksAt({ policies: ['checkpoints/efficientnet-film', 'checkpoints/vit-siglip'], episodes: 1, out });
    const erf = cnn.frames[0].erf!;
    expect(erf.map((s) => s.stage)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (const s of erf) expect(s.map.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(erf[6].erfSize).toBeGreaterThan(erf[0].erfSize); // deeper stages integrate a wider area
    expect(erf[0].theoreticalSize).toBe(7); // stem 3x3/2 + one 3x3 depthwise: 1 + 2 + 2*2
    const att = vit.frames[0].attention!;
    expect(att).toHaveLength(4); // siglip_tiny depth
    for (const l of att) {
      expect(l.headDistances).toHaveLength(4);
      for (const d of l.headDistances) {
        expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThan(96 * Math.SQRT2); // the image diagonal
      }
      expect(l.received.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    }
    expect(readFileSync(join(out, 'looks_at.html'), 'utf8')).toContain('Mean attention distance per head');
  });
});
