// Role auxiliary loss on the instruction embedding (policy config roleAuxWeight).
//
// The FiLM-conditioned CNN sees the instruction only through one sentence
// embedding. Behavior cloning alone left that embedding nearly blind to word
// roles: swapping the object's and the destination's colours moved it less
// than replacing one colour (analyze language-roles: 0.85), and the policy
// picked the destination-coloured object in half its wrong-object episodes.
// This loss asks R = 4 linear heads on the embedding to name, as vocabulary
// words, the commanded object's colour and shape and the destination's colour
// and shape, so the embedding must keep who-is-what: the role probe turned
// into a training signal (auxiliary tasks shaping a shared representation,
// Jaderberg et al., arXiv:1611.05397). Labels come from
// the episode's goal (scene names "<colour> <shape>"), never from the policy's
// inputs at run time: inference does not use the heads.
import * as tf from '@tensorflow/tfjs';
import { type TextTokenizer, UNK_ID } from './textTokenizer.ts';

/** What each role head names, in head order. */
export const ROLE_NAMES = ['object colour', 'object shape', 'destination colour', 'destination shape'] as const;
export const ROLE_HEADS = ROLE_NAMES.length;

/** The four role words of a goal given as scene names ("red cube", "blue bowl"). */
export function roleWords(object: string, target: string): string[] {
  const split = (name: string, what: string) => {
    const w = name.trim().toLowerCase().split(/\s+/);
    if (w.length !== 2) throw new Error(`roleWords: ${what} "${name}" is not a "<colour> <shape>" scene name`);
    return w;
  };
  return [...split(object, 'object'), ...split(target, 'target')];
}

/** Vocabulary ids [B * ROLE_HEADS] of per-sample role words; a word outside the vocabulary is an error. */
export function roleTargetIds(tokenizer: TextTokenizer, roles: readonly (readonly string[])[]): Int32Array {
  const ids = new Int32Array(roles.length * ROLE_HEADS);
  roles.forEach((r, b) => {
    if (r.length !== ROLE_HEADS) throw new Error(`roleTargetIds: sample ${b} has ${r.length} role words, expected ${ROLE_HEADS} (${ROLE_NAMES.join(', ')})`);
    r.forEach((w, k) => {
      const id = tokenizer.idOf(w);
      if (id === UNK_ID) throw new Error(`roleTargetIds: ${ROLE_NAMES[k]} "${w}" of sample ${b} is not in the policy's vocabulary`);
      ids[b * ROLE_HEADS + k] = id;
    });
  });
  return ids;
}

/** Mean cross-entropy of role logits [B,R,V] against ids [B*R]. */
export function roleLoss(logits: tf.Tensor3D, ids: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const [B, R, V] = logits.shape;
    const flat = logits.reshape([B * R, V]); // [B,R,V] -> [B*R,V]
    const onehot = tf.oneHot(tf.tensor1d(ids, 'int32'), V);
    return tf.losses.softmaxCrossEntropy(onehot, flat) as tf.Scalar;
  });
}

/** Share of role heads whose argmax is the right word, per head (length R). */
export async function roleAccuracy(logits: tf.Tensor3D, ids: Int32Array): Promise<number[]> {
  const [B, R] = logits.shape;
  const arg = tf.tidy(() => logits.argMax(-1)); // [B,R]
  const pred = await arg.data();
  arg.dispose();
  return Array.from({ length: R }, (_, k) => {
    let ok = 0;
    for (let b = 0; b < B; b++) if (pred[b * R + k] === ids[b * R + k]) ok++;
    return B ? ok / B : 0;
  });
}
