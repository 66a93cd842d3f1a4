import { describe, expect, it } from 'vitest';
import { ActionTokenizer, fitQuantileBounds, quantile } from '../../policies/actionTokenizer.ts';
import { BOS_ID, EOS_ID, PAD_ID, TextTokenizer, UNK_ID, normalizeText } from '../../policies/textTokenizer.ts';

describe('ActionTokenizer (bins with centers)', () => {
  it('hand-worked: [0.1, 0.5, -0.8] in [-1, 1] with 10 bins -> [5, 7, 1]', () => {
    // w = (1 - (-1)) / 10 = 0.2; bin i covers [-1 + 0.2 i, -1 + 0.2 (i+1))
    //  0.1: (0.1 + 1) / 0.2 = 5.5 -> floor 5   (bin 5 = [0.0, 0.2))
    //  0.5: (0.5 + 1) / 0.2 = 7.5 -> floor 7   (bin 7 = [0.4, 0.6))
    // -0.8: (-0.8 + 1) / 0.2 = 1.0 -> floor 1  (exactly on the lower edge of bin 1 = [-0.8, -0.6);
    //       in binary floating point it is 0.9999999999999998, the 1e-6 boundary tolerance puts it in bin 1)
    const t = new ActionTokenizer({ bins: 10, low: -1, high: 1, dim: 3 });
    expect(t.tokenize([0.1, 0.5, -0.8])).toEqual([5, 7, 1]);
    // RT-1's reference grid would give [4, 6, 0]: int((x + 1) / 2 * 9) = int(4.95), int(6.75), int(0.9).
  });

  it('hand-worked: edges, clipping and the upper bound', () => {
    const t = new ActionTokenizer({ bins: 10, low: -1, high: 1, dim: 1 });
    expect(t.tokenize([-1])).toEqual([0]); // lower bound -> first bin
    expect(t.tokenize([-0.81])).toEqual([0]); // 0.19 / 0.2 = 0.95 -> 0
    expect(t.tokenize([0])).toEqual([5]); // 1.0 / 0.2 = 5 -> 5 (left edge of bin 5)
    expect(t.tokenize([-1e-3])).toEqual([4]); // 4.995 -> bin 4 = [-0.2, 0)
    expect(t.tokenize([-1e-8])).toEqual([5]); // 4.99999995: within the 1e-6-bin tolerance of the edge -> bin 5
    expect(t.tokenize([0.99])).toEqual([9]); // 9.95 -> 9
    expect(t.tokenize([1])).toEqual([9]); // upper bound -> last bin (10 clamped to 9)
    expect(t.tokenize([3.7])).toEqual([9]); // clipped to 1
    expect(t.tokenize([-42])).toEqual([0]); // clipped to -1
    expect(() => t.tokenize([NaN])).toThrow(/NaN/);
  });

  it('hand-worked: detokenize returns bin centers', () => {
    // center(i) = -1 + (i + 0.5) * 0.2
    const t = new ActionTokenizer({ bins: 10, low: -1, high: 1, dim: 3 });
    const c = t.detokenize([5, 7, 1]);
    expect(c[0]).toBeCloseTo(0.1, 12); // -1 + 5.5 * 0.2
    expect(c[1]).toBeCloseTo(0.5, 12); // -1 + 7.5 * 0.2
    expect(c[2]).toBeCloseTo(-0.7, 12); // -1 + 1.5 * 0.2
    const d = t.detokenize([0, 9, 4]); // -1 + 0.5 * 0.2, -1 + 9.5 * 0.2, -1 + 4.5 * 0.2
    [-0.9, 0.9, -0.1].forEach((v, i) => expect(d[i]).toBeCloseTo(v, 12));
    expect(() => t.detokenize([10, 0, 0])).toThrow(/out of range/);
  });

  it('per-dimension bounds, 256 bins, round-trip error <= w/2, chunks and JSON', () => {
    const low = [-0.025, -0.025, -0.025, -0.25, 0, 0];
    const high = [0.025, 0.025, 0.025, 0.25, 1, 1];
    const t = new ActionTokenizer({ low, high });
    expect(t.bins).toBe(256);
    expect(t.dim).toBe(6);
    // dim 4 (gripper in [0, 1]): w = 1/256; 0.5 -> 128, center 128.5/256 = 0.501953125
    expect(t.tokenize([0, 0, 0, 0, 0.5, 1])).toEqual([128, 128, 128, 128, 128, 255]);
    expect(t.detokenize([0, 0, 0, 0, 128, 255])[4]).toBe(128.5 / 256);
    for (let i = 0; i < 50; i++) {
      const a = low.map((l, d) => l + ((i * 37 + d * 11) % 101) / 100 * (high[d] - l));
      const back = t.detokenize(t.tokenize(a));
      back.forEach((v, d) => expect(Math.abs(v - a[d])).toBeLessThanOrEqual(t.binWidth(d) / 2 + 1e-12));
    }
    const chunk = [...[0, 0, 0, 0, 0, 0], ...[0.025, -0.025, 0, 0.25, 1, 0]];
    expect(t.tokenize(chunk).slice(6)).toEqual([255, 0, 128, 255, 255, 0]);
    const u = ActionTokenizer.fromJSON(JSON.parse(JSON.stringify(t)));
    expect(u.tokenize(chunk)).toEqual(t.tokenize(chunk));
    expect(() => t.tokenize([1, 2, 3])).toThrow(/multiple of dim/);
    expect(() => new ActionTokenizer({ low: [0], high: [0] })).toThrow(/must exceed/);
  });

  it('quantile bounds (OpenVLA 1st / 99th percentile), hand-worked', () => {
    // numpy-style linear quantile: position q * (n - 1)
    // values 0..100 (n = 101): q = 0.01 -> position 1 -> 1; q = 0.99 -> position 99 -> 99
    const col = Array.from({ length: 101 }, (_, i) => i);
    expect(quantile(col, 0.01)).toBe(1);
    expect(quantile(col, 0.99)).toBe(99);
    // values 0..9 (n = 10): q = 0.25 -> position 2.25 -> 2.25
    expect(quantile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.25)).toBeCloseTo(2.25, 12);
    const actions = col.map((i) => [i, -2 * i, 5]); // dim 2 constant -> widened
    const { low, high } = fitQuantileBounds(actions, 0.01);
    expect(low[0]).toBeCloseTo(1, 12);
    expect(high[0]).toBeCloseTo(99, 12);
    expect(low[1]).toBeCloseTo(-198, 12);
    expect(high[1]).toBeCloseTo(-2, 12);
    expect(low[2]).toBeCloseTo(4.999, 12);
    expect(high[2]).toBeCloseTo(5.001, 12);
    const t = new ActionTokenizer({ bins: 10, low, high });
    expect(t.tokenize([0, 0, 5])).toEqual([0, 9, 5]); // 0 is an outlier below the 1st percentile -> clipped
  });
});

describe('TextTokenizer', () => {
  const tok = TextTokenizer.fromCorpus(['put the {object} in the {target}', 'Stack the red cube on the blue bowl.']);

  it('normalizes: lowercase, punctuation -> space', () => {
    expect(normalizeText('  Put the RED cube, please!  ')).toEqual(['put', 'the', 'red', 'cube', 'please']);
    expect(normalizeText("robot's arm")).toEqual(['robot', 's', 'arm']);
  });

  it('vocabulary is sorted and deterministic; specials first', () => {
    // words: blue bowl cube in object on put red stack target the -> sorted
    expect(tok.vocab).toEqual(['blue', 'bowl', 'cube', 'in', 'object', 'on', 'put', 'red', 'stack', 'target', 'the']);
    expect(tok.vocabSize).toBe(4 + 11);
    expect([PAD_ID, UNK_ID, BOS_ID, EOS_ID]).toEqual([0, 1, 2, 3]);
    expect(tok.idOf('blue')).toBe(4);
    expect(tok.idOf('the')).toBe(14);
  });

  it('encode: [BOS] words [EOS] [PAD]..., unknown words -> [UNK], truncation keeps [EOS]', () => {
    const e = tok.encode('Put the purple cube in the bowl!', 10);
    // put=10 the=14 purple=UNK(1) cube=6 in=7 the=14 bowl=5
    expect(Array.from(e.ids)).toEqual([2, 10, 14, 1, 6, 7, 14, 5, 3, 0]);
    expect(Array.from(e.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(e.length).toBe(9);
    expect(e.unknown).toEqual(['purple']);
    const short = tok.encode('put the red cube in the blue bowl', 5);
    expect(Array.from(short.ids)).toEqual([2, 10, 14, 11, 3]); // 3 words + BOS + EOS
    expect(tok.decode(e.ids)).toBe('put the cube in the bowl');
    expect(tok.decode(e.ids, false)).toBe('[BOS] put the [UNK] cube in the bowl [EOS] [PAD]');
    const empty = tok.encode('!!!', 4);
    expect(Array.from(empty.ids)).toEqual([2, 3, 0, 0]);
  });

  it('batch encode and JSON state', () => {
    const b = tok.encodeBatch(['put the cube', 'stack'], 6);
    expect(Array.from(b.ids)).toEqual([2, 10, 14, 6, 3, 0, 2, 12, 3, 0, 0, 0]);
    const t2 = TextTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(Array.from(t2.encode('put the red cube', 8).ids)).toEqual(Array.from(tok.encode('put the red cube', 8).ids));
    expect(() => new TextTokenizer(['Hello'])).toThrow(/normalized/);
  });
});
