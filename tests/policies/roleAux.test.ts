// Role auxiliary loss (policies/roleAux.ts): labels from goal scene names,
// hand-worked loss values, and a small training run showing that the slot
// pool + role heads learn to tell a role swap apart.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROLE_HEADS, roleAccuracy, roleLoss, roleTargetIds, roleWords } from '../../policies/roleAux.ts';
import { InstructionEncoder } from '../../policies/textEncoder.ts';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const tok = new TextTokenizer(['blue', 'bowl', 'cube', 'in', 'on', 'put', 'red', 'stack', 'the', 'green', 'yellow']);

describe('role labels', () => {
  it('splits goal scene names into object colour, object shape, destination colour, destination shape', () => {
    expect(roleWords('red cube', 'blue bowl')).toEqual(['red', 'cube', 'blue', 'bowl']);
    expect(roleWords('Green  prism', 'yellow cube')).toEqual(['green', 'prism', 'yellow', 'cube']);
    expect(() => roleWords('cube', 'blue bowl')).toThrow(/object "cube" is not a "<colour> <shape>" scene name/);
  });

  it('maps role words to vocabulary ids (special tokens come first: ids start at 4) and names a word outside it', () => {
    // vocab ids: blue 4, bowl 5, cube 6, in 7, on 8, put 9, red 10, stack 11, the 12, green 13, yellow 14
    expect(Array.from(roleTargetIds(tok, [['red', 'cube', 'blue', 'bowl'], ['blue', 'cube', 'red', 'cube']]))).toEqual([10, 6, 4, 5, 4, 6, 10, 6]);
    expect(() => roleTargetIds(tok, [['red', 'cube', 'purple', 'bowl']])).toThrow(/destination colour "purple" of sample 0 is not in the policy's vocabulary/);
    expect(() => roleTargetIds(tok, [['red', 'cube']])).toThrow(/2 role words, expected 4/);
  });
});

describe('role loss', () => {
  it('uniform logits give ln V; a confident right answer ~0; accuracy per head', async () => {
    const V = 5;
    const ids = Int32Array.from([1, 2, 3, 4]);
    const uniform = tf.zeros([1, 4, V]) as tf.Tensor3D;
    const l0 = roleLoss(uniform, ids);
    expect(l0.dataSync()[0]).toBeCloseTo(Math.log(V), 5);
    // heads 0 and 1 right by a margin of 20, heads 2 and 3 point at word 0
    const logits = tf.tensor3d([[[0, 20, 0, 0, 0], [0, 0, 20, 0, 0], [20, 0, 0, 0, 0], [20, 0, 0, 0, 0]]]);
    const l1 = roleLoss(logits, ids);
    // two heads ~0, two heads -log(e^0 / (e^20 + 4)) ~ 20: mean ~10
    expect(l1.dataSync()[0]).toBeCloseTo((2 * Math.log(Math.exp(20) + 4)) / 4, 3);
    expect(await roleAccuracy(logits, ids)).toEqual([1, 1, 0, 0]);
    tf.dispose([uniform, l0, logits, l1]);
  });
});

describe('role heads learn roles', () => {
  it('after a short fit the embedding names object and destination, also for instructions that swap them', async () => {
    const colours = ['red', 'blue', 'green', 'yellow'];
    // Every ordered pair of distinct colours, so each colour is the object in some and the destination in others.
    const cases = colours.flatMap((a) => colours.filter((b) => b !== a).map((b) => ({ text: `put the ${a} cube in the ${b} bowl`, roles: [a, 'cube', b, 'bowl'] })));
    const stack = colours.flatMap((a) => colours.filter((b) => b !== a).map((b) => ({ text: `stack the ${a} cube on the ${b} cube`, roles: [a, 'cube', b, 'cube'] })));
    const all = [...cases, ...stack];
    const L = 10;
    // Binding a colour to its role needs the block (a linear read-out of a mean pool is a bag of words + a bag of positions).
    const enc = new InstructionEncoder({ vocabSize: tok.vocabSize, maxLen: L, dim: 16, depth: 1, heads: 2, pool: 'mean', roleHeads: ROLE_HEADS, seed: 1 });
    const { ids, mask } = tok.encodeBatch(all.map((c) => c.text), L);
    const idT = tf.tensor2d(ids, [all.length, L], 'int32');
    const maskT = tf.tensor2d(mask, [all.length, L]);
    const target = roleTargetIds(tok, all.map((c) => c.roles));
    const opt = tf.train.adam(0.01);
    const before = tf.tidy(() => enc.roleLogits(enc.forward(idT, maskT).embedding));
    expect((await roleAccuracy(before, target)).every((a) => a < 1)).toBe(true);
    before.dispose();
    for (let i = 0; i < 350; i++) {
      const cost = opt.minimize(() => {
        const e = enc.forward(idT, maskT);
        return roleLoss(enc.roleLogits(e.embedding), target);
      }, true);
      cost?.dispose();
    }
    const n0 = tf.memory().numTensors;
    const e = enc.forward(idT, maskT);
    const logits = enc.roleLogits(e.embedding);
    expect(await roleAccuracy(logits, target)).toEqual([1, 1, 1, 1]);
    tf.dispose([e.embedding, e.tokens, e.mask, logits]);
    expect(tf.memory().numTensors).toBe(n0); // no leak
    tf.dispose([idT, maskT]);
    opt.dispose();
    enc.dispose();
  });
});
