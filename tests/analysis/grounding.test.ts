// Grounding analysis (src/analysis/grounding.ts): the pieces that turn a
// policy's attention map into "it looks at the destination", hand-worked,
// and the eval-run readers. The end-to-end run (rendered frames, real
// checkpoints) is in experiments.browser.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CameraSpec } from '../../sim/types.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { useCpu } from '../tf/tensors.ts';
import { type GroundingEpisode, assertGroundable, evalOutcomes, peakCell, pointsAt, projectLayout, tally } from '../../src/analysis/grounding.ts';
import { spatialTargets } from '../../src/train/spatialTargets.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-grounding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A camera straight above the origin looking down (image right = +x, image up = +y).
const TOP: CameraSpec = { name: 'top', mount: 'fixed', position: [0, 0, 1], target: [0, 0, 0], fovDeg: 60 };
const spec = {
  task: 'stack', seed: 1, goal: { object: 'red cube', target: 'blue cylinder' },
  layout: {
    objects: [
      { name: 'red cube', color: 'red', shape: 'cube', x: 0.1, y: 0, yaw: 0 },
      { name: 'blue cylinder', color: 'blue', shape: 'cylinder', x: 0, y: 0.1, yaw: 0 },
      { name: 'green prism', color: 'green', shape: 'prism', x: -0.1, y: -0.1, yaw: 0 },
      { name: 'far cube', color: 'yellow', shape: 'cube', x: 5, y: 0, yaw: 0 },
    ],
    bowls: [{ name: 'purple bowl', color: 'purple', x: 0, y: -0.1, yaw: 0 }],
  },
} as unknown as EpisodeSpec;

describe('grounding pieces', () => {
  it('projects every layout item with its role; items outside the image have no uv; the goal items match the training targets', () => {
    const items = projectLayout(spec, TOP, [0, 0, 0.2, 0]);
    expect(items.map((i) => [i.name, i.role])).toEqual([['red cube', 'object'], ['blue cylinder', 'destination'], ['green prism', 'other'], ['far cube', 'other'], ['purple bowl', 'other']]);
    expect(items[3].uv).toBeNull();
    const [cube, cyl, prism] = items;
    expect(cube.uv![0]).toBeGreaterThan(0.55); // +x to the right
    expect(cyl.uv![1]).toBeLessThan(0.45); // +y up
    expect(prism.uv![0]).toBeLessThan(0.45);
    expect(prism.uv![1]).toBeGreaterThan(0.55);
    // the same projection the spatial auxiliary loss is trained on (step 0: object, destination)
    const st = spatialTargets(spec, [TOP], Float32Array.from([0, 0, 0.2, 0, 0.09, 0]), 6, new Float32Array(6), 6, 4, 1);
    expect(cube.uv![0]).toBeCloseTo(st[0], 6);
    expect(cube.uv![1]).toBeCloseTo(st[1], 6);
    expect(cyl.uv![0]).toBeCloseTo(st[3], 6);
    expect(cyl.uv![1]).toBeCloseTo(st[4], 6);
  });

  it('peak cell centre of a row-major map, and the role of the nearest visible item', () => {
    // 2 x 3 grid after a 2-value offset: the peak is row 1, col 2 -> centre (2.5/3, 1.5/2)
    expect(peakCell([9, 9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5], 2, 2, 3)).toEqual([2.5 / 3, 0.75]);
    const items = [
      { name: 'a', role: 'object' as const, uv: [0.2, 0.2] as [number, number] },
      { name: 'b', role: 'destination' as const, uv: [0.8, 0.8] as [number, number] },
      { name: 'c', role: 'other' as const, uv: null },
    ];
    expect(pointsAt([0.3, 0.25], items)).toBe('object');
    expect(pointsAt([0.6, 0.7], items)).toBe('destination');
    expect(pointsAt([0.5, 0.5], [items[2]])).toBe('none');
  });

  it('tallies looks per camera and map, and crosses the first camera object map with outcomes', () => {
    const eps: GroundingEpisode[] = [
      { task: 'stack', seed: 1, instruction: '', looks: { scene: ['object', 'destination'], wrist: ['other', 'destination'] }, outcome: 'success' },
      { task: 'stack', seed: 2, instruction: '', looks: { scene: ['destination', 'destination'], wrist: ['destination', 'object'] }, outcome: 'wrong_object' },
      { task: 'stack', seed: 3, instruction: '', looks: { scene: ['object', 'other'], wrist: ['object', 'destination'] } },
    ];
    const { counts, byLook } = tally(eps, ['scene', 'wrist']);
    expect(counts.scene.object).toEqual({ object: 2, destination: 1, other: 0, none: 0 });
    expect(counts.scene.destination).toEqual({ object: 0, destination: 2, other: 1, none: 0 });
    expect(counts.wrist.object).toEqual({ object: 1, destination: 1, other: 1, none: 0 });
    expect(byLook).toEqual({ object: { success: 1 }, destination: { wrong_object: 1 }, other: {}, none: {} });
  });

  it('reads outcomes from episodes.jsonl, or from results.csv when that is all a committed run keeps', () => {
    const jsonlDir = join(dir, 'jsonl');
    mkdirSync(jsonlDir);
    const rec = (seed: number, outcome?: string) => JSON.stringify({ split: 'heldout_layout', task: 'stack', seed, policy: 'cnn', success: false, latency: [], ...(outcome ? { outcome: { kind: outcome, targetDistance: 0.1, lifted: [] } } : {}) });
    writeFileSync(join(jsonlDir, 'episodes.jsonl'), [rec(7, 'no_grasp'), rec(8)].join('\n') + '\n'); // an episode without an outcome (errored) is left out
    expect(evalOutcomes(jsonlDir)).toEqual([{ split: 'heldout_layout', task: 'stack', seed: 7, policy: 'cnn', outcome: 'no_grasp' }]);
    const csvDir = join(dir, 'csv');
    mkdirSync(csvDir);
    const header = 'suite,suiteVersion,split,task,seed,policy,backbone,success,failure,outcome,instruction';
    // a quoted failure message with a comma sits before the outcome column (as toCsv writes it)
    const rows = ['tabletop,1.0.0,heldout_layout,stack,100001,cnn,b,false,"timeout: 100 steps, no terminate",wrong_object,stack the red cube on the blue cube', 'tabletop,1.0.0,heldout_layout,pick_place,100002,cnn,b,true,,success,"put it, please, in the bowl"'];
    writeFileSync(join(csvDir, 'results.csv'), [header, ...rows].join('\n') + '\n');
    expect(evalOutcomes(csvDir)).toEqual([
      { split: 'heldout_layout', task: 'stack', seed: 100001, policy: 'cnn', outcome: 'wrong_object' },
      { split: 'heldout_layout', task: 'pick_place', seed: 100002, policy: 'cnn', outcome: 'success' },
    ]);
    writeFileSync(join(csvDir, 'results.csv'), 'suite,split,task,seed,policy,success\n');
    expect(() => evalOutcomes(csvDir)).toThrow(/no "outcome" column/);
    expect(() => evalOutcomes(join(dir, 'nowhere'))).toThrow(/neither episodes.jsonl nor results.csv there/);
  });

  it('refuses a policy whose attention is not spatially supervised', async () => {
    await useCpu();
    const plain = new VlaPolicy({ backbone: 'efficientnet_film_xs_64', imageSize: 32, gptLayers: 1, textDepth: 0, spatialAux: 'off' });
    expect(() => assertGroundable(plain, 'runs/plain')).toThrow(/runs\/plain: policy has spatialAux 'off' .* grounding needs 'tokens' or 'pointer'/);
    plain.dispose();
    const tokens = new VlaPolicy({ backbone: 'efficientnet_film_xs_64', imageSize: 32, gptLayers: 1, textDepth: 0, spatialAux: 'tokens' });
    expect(() => assertGroundable(tokens, 'runs/tokens')).not.toThrow();
    tokens.dispose();
  });
});
