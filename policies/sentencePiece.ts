// SentencePiece unigram tokenizer for Universal Sentence Encoder lite
// (policies/sentenceEncoder.ts): a port of the tokenizer of
// @tensorflow-models/universal-sentence-encoder@1.3.3 (itself a port of
// SentencePiece's EncodeAsIds, Kudo & Richardson, arXiv:1808.06226), kept here
// so that package (peer range tfjs ^3) does not enter the project.
//   text -> NFKC -> "▁" + text with every space replaced by "▁"
//   Viterbi over the lattice of vocabulary pieces (score = log-probability;
//   a position no piece starts at becomes id 0, the unknown piece, score 0)
//   consecutive unknowns are merged into one.
// Characters are UTF-16 code units, as in that package's published build
// (its ES5 output iterates strings by index); ASCII text is unaffected.
// The first 6 vocabulary entries are reserved (unk, <s>, </s>, extra ids) and
// never matched. Ids match the reference on the fixtures in
// tests/policies/sentenceEncoder.test.ts.

export const SP_SEPARATOR = '\u2581';
const RESERVED = 6;

/**
 * Vocabulary as shipped in vocab.json: [piece, log-probability] per id. The
 * shipped file has null scores for 5 pieces containing ":" (":", "://", ...);
 * the reference adds them as 0 (JavaScript null + x = x), and so does this port.
 */
export type SentencePieceVocab = [string, number | null][];

interface Node {
  children: Map<string, Node>;
  /** Vocabulary id when a piece ends here, else -1. */
  id: number;
}

export class SentencePieceTokenizer {
  private readonly root: Node = { children: new Map(), id: -1 };

  constructor(readonly vocab: SentencePieceVocab) {
    if (!Array.isArray(vocab) || vocab.length <= RESERVED) throw new Error(`SentencePieceTokenizer: vocabulary must list more than ${RESERVED} [piece, score] entries, got ${Array.isArray(vocab) ? vocab.length : typeof vocab}`);
    vocab.forEach((e, i) => {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || (typeof e[1] !== 'number' && e[1] !== null)) throw new Error(`SentencePieceTokenizer: vocabulary entry ${i} is not [piece, score]: ${JSON.stringify(e)}`);
      if (i < RESERVED) return;
      let node = this.root;
      for (const ch of e[0].split('')) {
        let next = node.children.get(ch);
        if (!next) node.children.set(ch, (next = { children: new Map(), id: -1 }));
        node = next;
      }
      node.id = i;
    });
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** Token ids of one text (empty text -> []). */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    if (normalized.length === 0) return [];
    const s = (SP_SEPARATOR + normalized.replace(/ /g, SP_SEPARATOR)).split('');
    const n = s.length;
    // best[e] / word[e]: best score of a segmentation of s[0..e) and the id of its last piece.
    const best = new Float64Array(n + 1);
    const word = new Int32Array(n + 1);
    // Pieces ending at e, in increasing start order (the reference's tie-breaking: later start wins on equal score).
    const ending: { start: number; id: number; score: number }[][] = Array.from({ length: n + 1 }, () => []);
    for (let i = 0; i < n; i++) {
      let node = this.root.children.get(s[i]);
      let found = false;
      for (let j = i; j < n && node; j++) {
        if (node.id >= 0) { ending[j + 1].push({ start: i, id: node.id, score: this.vocab[node.id][1] ?? 0 }); found = true; }
        node = node.children.get(s[j + 1]);
      }
      if (!found) ending[i + 1].push({ start: i, id: 0, score: 0 });
    }
    for (let e = 1; e <= n; e++) {
      for (const p of ending[e].sort((a, b) => a.start - b.start)) {
        const score = p.score + best[p.start];
        if (best[e] === 0 || score >= best[e]) { best[e] = score; word[e] = p.id; } // as the reference: 0 = unset
      }
    }
    const out: number[] = [];
    for (let e = n; e > 0; e -= this.vocab[word[e]][0].length) out.push(word[e]);
    out.reverse();
    return out.filter((id, k) => !(id === 0 && k > 0 && out[k - 1] === 0));
  }
}
