import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { policyEmbedder, roleProbe, type Embedder } from '../../src/analysis/languageRoles.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { PLAIN_OPENVLA } from '../policies/plain.ts';

const suite = resolveSuite('tabletop');
const words = [...new Set(suite.tasks.flatMap((t) => t.templates.train.join(' ').split(/\W+/)).concat(suite.colors, suite.shapes, ['bowl']))];
const oneHot = (w: string): number[] => words.map((x) => (x === w ? 1 : 0));
const split = (t: string) => t.split(' ');

describe('language role probe', () => {
  beforeAll(async () => { await initBackend('cpu'); });

  it('a bag of words cannot see a role swap: distance 0, one replaced word sqrt(2)', () => {
    const bag: Embedder = (texts) => texts.map((t) => split(t).map(oneHot).reduce((a, b) => a.map((v, i) => v + b[i])));
    for (const r of roleProbe(bag, suite)) {
      expect(r.roleSwap).toBe(0);
      expect(r.objectColor).toBeCloseTo(Math.SQRT2, 12);
      expect(r.ratio).toBe(0);
      // every train template x ordered color pair x shape
      expect(r.pairs).toBe(suite.tasks.find((t) => t.name === r.task)!.templates.train.length * 6 * 5 * 3);
    }
  });

  it('a word-per-position encoding sees both swapped words: distance 2 against sqrt(2), ratio sqrt(2)', () => {
    const L = 12;
    const positional: Embedder = (texts) => texts.map((t) => Array.from({ length: L }, (_, i) => oneHot(split(t)[i] ?? '')).flat());
    for (const r of roleProbe(positional, suite)) {
      expect(r.roleSwap).toBeCloseTo(2, 12);
      expect(r.ratio).toBeCloseTo(Math.SQRT2, 12);
    }
  });

  it("a policy's instruction encoder without position embeddings is a bag of words; with them it is not", () => {
    const p = new VlaPolicy({ textDepth: 0, gptLayers: 1 });
    const before = tf.memory().numTensors;
    const withPos = roleProbe(policyEmbedder(p), suite);
    expect(tf.memory().numTensors).toBe(before); // no leak
    for (const r of withPos) expect(r.roleSwap).toBeGreaterThan(0);
    const wpe = (p.textEncoder as unknown as { wpe: tf.Variable }).wpe;
    wpe.assign(tf.zerosLike(wpe));
    for (const r of roleProbe(policyEmbedder(p), suite)) {
      expect(r.roleSwap).toBeLessThan(1e-5);
      expect(r.objectColor).toBeGreaterThan(1e-3);
    }
    p.dispose();
  });

  it('token-conditioned policies are probed on their language tokens, which see word order', () => {
    const p = new VlaPolicy({ ...PLAIN_OPENVLA, gptLayers: 1, imageSize: 32, backboneOverrides: { depth: 1 } });
    const e = policyEmbedder(p)(['put the red cube in the blue bowl']);
    expect(e[0]).toHaveLength(p.config.maxTextLen * p.config.textDim);
    for (const r of roleProbe(policyEmbedder(p), suite)) expect(r.roleSwap).toBeGreaterThan(0);
    p.dispose();
  });
});
