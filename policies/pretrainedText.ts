// Instruction encoding through the frozen pretrained sentence encoder
// (policy config textEncoderKind 'use-lite'; policies/sentenceEncoder.ts).
// RT-1 (arXiv:2212.06817) conditions FiLM on Universal Sentence Encoder
// embeddings; here a trainable linear map projects the frozen features to the
// FiLM width:
//   features(instruction) = concat of USE(part) over the input's parts   [F]
//     'roles'          [object phrase | destination phrase]     F = 1024
//     'sentence'       [whole instruction]                      F = 512
//     'roles+sentence' [object | destination | instruction]     F = 1536
//   embedding = features @ W + b                                  [B,F] -> [B,D]
// Why roles: whole-sentence USE vectors barely see who is what — "put the red
// cube in the blue bowl" vs "put the blue cube in the red bowl" have cosine
// 0.96 — while the role concatenation of the same pair has cosine 0.79
// (tests/policies/sentenceEncoder.test.ts). The phrases come from parsing the
// instruction with the task grammar (tasks/grammar.ts parseInstruction, the
// simulator's colours and the built-in shape nouns): the canonical sentences
// the env hands the policy (tasks/env.ts) always parse. An instruction that does not parse
// (a garbled or empty probe) uses the whole text for both roles, so the policy
// still acts instead of throwing.
// The features are host-side (USE runs asynchronously, once per distinct
// string): prepare() / setFeatures() fill the table before the synchronous
// forward pass, which only looks them up.
import * as tf from '@tensorflow/tfjs';
import { Module, linear, truncNormal, zeros } from '../backbones/nn.ts';
import { COLORS } from '../sim/config.ts';
import { defaultLexicon, parseInstruction } from '../tasks/grammar.ts';
import { USE_LITE_DIM, type SentenceEncoder } from './sentenceEncoder.ts';
import type { TextEncoding } from './textEncoder.ts';

export const TEXT_ENCODER_KINDS = ['scratch', 'use-lite'] as const;
export type TextEncoderKind = (typeof TEXT_ENCODER_KINDS)[number];
export const PRETRAINED_TEXT_INPUTS = ['roles', 'sentence', 'roles+sentence'] as const;
export type PretrainedTextInput = (typeof PRETRAINED_TEXT_INPUTS)[number];

const lexicon = defaultLexicon(Object.keys(COLORS));

/** The texts whose embeddings make up an instruction's features, in order. */
export function instructionParts(instruction: string, input: PretrainedTextInput): string[] {
  if (input === 'sentence') return [instruction];
  let roles: string[];
  try {
    const p = parseInstruction(instruction, lexicon);
    roles = [p.object, p.target];
  } catch {
    roles = [instruction, instruction];
  }
  return input === 'roles' ? roles : [...roles, instruction];
}

export function featureDim(input: PretrainedTextInput): number {
  return (input === 'sentence' ? 1 : input === 'roles' ? 2 : 3) * USE_LITE_DIM;
}

/**
 * Features of each distinct instruction (training precomputes them for the
 * whole, finite, instruction set of its data): instruction -> Float32Array [F].
 */
export async function precomputeFeatures(encoder: SentenceEncoder, instructions: Iterable<string>, input: PretrainedTextInput): Promise<Map<string, Float32Array>> {
  const distinct = [...new Set(instructions)];
  const parts = distinct.map((t) => instructionParts(t, input));
  const vecs = await encoder.embed([...new Set(parts.flat())]);
  const byText = new Map([...new Set(parts.flat())].map((t, i) => [t, vecs[i]]));
  const out = new Map<string, Float32Array>();
  distinct.forEach((t, i) => {
    const f = new Float32Array(featureDim(input));
    parts[i].forEach((p, k) => f.set(byText.get(p)!, k * USE_LITE_DIM));
    out.set(t, f);
  });
  return out;
}

/** Trainable projection of frozen sentence-encoder features to the FiLM width. */
export class PretrainedTextEncoder extends Module {
  readonly featureDim: number;
  private readonly w: tf.Variable;
  private readonly b: tf.Variable;
  private readonly features = new Map<string, Float32Array>();
  private encoder: SentenceEncoder | null = null;

  constructor(readonly input: PretrainedTextInput, readonly dim: number, seed = 0) {
    super('text_use', seed);
    if (!(PRETRAINED_TEXT_INPUTS as readonly string[]).includes(input)) throw new Error(`PretrainedTextEncoder: input must be ${PRETRAINED_TEXT_INPUTS.join(', ')}, got ${JSON.stringify(input)}`);
    this.featureDim = featureDim(input);
    this.w = this.store.add('proj.w', [this.featureDim, dim], truncNormal(0.02));
    this.b = this.store.add('proj.b', [dim], zeros);
  }

  /** The sentence encoder prepare() embeds missing instructions with. */
  attach(encoder: SentenceEncoder): void {
    this.encoder = encoder;
  }

  /** Add precomputed features (precomputeFeatures); they must have featureDim values. */
  setFeatures(table: ReadonlyMap<string, Float32Array>): void {
    for (const [t, f] of table) {
      if (f.length !== this.featureDim) throw new Error(`PretrainedTextEncoder: features of "${t}" have ${f.length} values, expected ${this.featureDim} (input '${this.input}')`);
      this.features.set(t, f);
    }
  }

  has(instruction: string): boolean {
    return this.features.has(instruction);
  }

  /** Compute the features of instructions not yet in the table (needs attach()). */
  async prepare(instructions: readonly string[]): Promise<void> {
    const missing = instructions.filter((t) => !this.features.has(t));
    if (missing.length === 0) return;
    if (!this.encoder) throw new Error(`PretrainedTextEncoder: no sentence encoder attached to embed "${missing[0]}" (policy.attachSentenceEncoder)`);
    this.setFeatures(await precomputeFeatures(this.encoder, missing, this.input));
  }

  /** Embedding [B,D]; tokens [B,1,D] (the embedding as one language token) and mask [B,1]. Caller owns them. */
  forward(instructions: readonly string[]): TextEncoding {
    const B = instructions.length;
    const F = this.featureDim;
    const host = new Float32Array(B * F);
    instructions.forEach((t, i) => {
      const f = this.features.get(t);
      if (!f) throw new Error(`PretrainedTextEncoder: no sentence-encoder features for "${t}": await policy.prepareInstructions([...]) before the forward pass`);
      host.set(f, i * F);
    });
    return tf.tidy(() => {
      const embedding = linear(tf.tensor2d(host, [B, F]), this.w, this.b) as tf.Tensor2D; // [B,F] -> [B,D]
      return { embedding, tokens: embedding.reshape([B, 1, this.dim]), mask: tf.ones([B, 1]) } as unknown as tf.TensorContainer; // [B,D] -> [B,1,D]
    }) as unknown as TextEncoding;
  }
}
