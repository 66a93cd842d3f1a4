// Word-level tokenizer for the task grammar's instructions.
// Normalization: lowercase, every character that is not a letter or digit
// becomes a space, split on whitespace ("Put the RED cube, please!" ->
// ["put", "the", "red", "cube", "please"]).
// Ids: 0 [PAD], 1 [UNK], 2 [BOS], 3 [EOS], then the vocabulary words in the
// order given (fromCorpus sorts them, so the ids are deterministic).
// encode(text, maxLen) = [BOS] w1 .. wk [EOS] [PAD]...; words beyond maxLen-2
// are dropped (the sequence always ends with [EOS]); unknown words -> [UNK].

export const PAD = '[PAD]';
export const UNK = '[UNK]';
export const BOS = '[BOS]';
export const EOS = '[EOS]';
export const SPECIAL_TOKENS = [PAD, UNK, BOS, EOS] as const;
export const PAD_ID = 0;
export const UNK_ID = 1;
export const BOS_ID = 2;
export const EOS_ID = 3;

/**
 * Words of the default tabletop grammar (templates, colors, shapes, fillers).
 * Callers should build the vocabulary from their own suite with fromCorpus().
 */
export const DEFAULT_VOCAB: string[] = [
  'a', 'ahead', 'and', 'block', 'blue', 'bowl', 'can', 'could', 'cube', 'cylinder', 'down', 'drop', 'go', 'grab',
  'green', 'hexagon', 'in', 'inside', 'into', 'it', 'leave', 'move', 'now', 'of', 'on', 'onto', 'orange', 'over',
  'pick', 'pile', 'place', 'please', 'prism', 'purple', 'put', 'red', 'robot', 'set', 'stack', 'the', 'then',
  'to', 'top', 'transfer', 'tube', 'up', 'yellow', 'you',
];

export function normalizeText(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

export interface TextTokenizerState {
  /** Vocabulary words (without the special tokens), in id order starting at 4. */
  vocab: string[];
}

export interface Encoded {
  /** Token ids, length maxLen. */
  ids: Int32Array;
  /** 1 for real tokens (incl. BOS/EOS), 0 for padding. */
  mask: Float32Array;
  /** Number of non-pad tokens. */
  length: number;
  /** Words that were mapped to [UNK]. */
  unknown: string[];
}

export class TextTokenizer {
  readonly vocab: string[];
  private readonly index = new Map<string, number>();

  constructor(vocab: readonly string[]) {
    this.vocab = [];
    SPECIAL_TOKENS.forEach((t, i) => this.index.set(t, i));
    for (const w of vocab) {
      const n = normalizeText(w);
      if (n.length !== 1 || n[0] !== w) throw new Error(`TextTokenizer: vocabulary entry '${w}' is not a normalized word`);
      if (this.index.has(w)) continue;
      this.index.set(w, SPECIAL_TOKENS.length + this.vocab.length);
      this.vocab.push(w);
    }
  }

  /** Vocabulary of every normalized word in the sentences (sorted), optionally only words seen minCount times. */
  static fromCorpus(sentences: readonly string[], minCount = 1): TextTokenizer {
    const counts = new Map<string, number>();
    for (const s of sentences) for (const w of normalizeText(s)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts].filter(([, c]) => c >= minCount).map(([w]) => w).sort();
    return new TextTokenizer(words);
  }

  get vocabSize(): number {
    return SPECIAL_TOKENS.length + this.vocab.length;
  }

  idOf(word: string): number {
    return this.index.get(word) ?? UNK_ID;
  }

  encode(text: string, maxLen: number): Encoded {
    if (maxLen < 2) throw new Error('TextTokenizer.encode: maxLen must be >= 2 (BOS + EOS)');
    const words = normalizeText(text).slice(0, maxLen - 2);
    const ids = new Int32Array(maxLen); // zeros = [PAD]
    const mask = new Float32Array(maxLen);
    const unknown: string[] = [];
    ids[0] = BOS_ID;
    words.forEach((w, i) => {
      const id = this.idOf(w);
      if (id === UNK_ID) unknown.push(w);
      ids[i + 1] = id;
    });
    ids[words.length + 1] = EOS_ID;
    const length = words.length + 2;
    mask.fill(1, 0, length);
    return { ids, mask, length, unknown };
  }

  /** Batch encode: ids / mask flattened row-major [B, maxLen]. */
  encodeBatch(texts: readonly string[], maxLen: number): { ids: Int32Array; mask: Float32Array } {
    const ids = new Int32Array(texts.length * maxLen);
    const mask = new Float32Array(texts.length * maxLen);
    texts.forEach((t, b) => {
      const e = this.encode(t, maxLen);
      ids.set(e.ids, b * maxLen);
      mask.set(e.mask, b * maxLen);
    });
    return { ids, mask };
  }

  decode(ids: ArrayLike<number>, skipSpecial = true): string {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < SPECIAL_TOKENS.length) {
        if (!skipSpecial) out.push(SPECIAL_TOKENS[id] ?? UNK);
        continue;
      }
      out.push(this.vocab[id - SPECIAL_TOKENS.length] ?? UNK);
    }
    return out.join(' ');
  }

  toJSON(): TextTokenizerState {
    return { vocab: this.vocab.slice() };
  }

  static fromJSON(s: TextTokenizerState): TextTokenizer {
    return new TextTokenizer(s.vocab);
  }
}
