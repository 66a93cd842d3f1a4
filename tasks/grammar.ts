// Instruction grammar: templates with {object} / {target} slots, and a
// lenient parser for commands as people type them ("Please put the red block
// into the blue dish!"). Parsing is two steps:
//   parseCommand(text, lexicon)   words -> mentions (colour? + shape?) with roles,
//                                 scene-free; ignores case, punctuation, fillers
//                                 and words it does not know (reported in `ignored`)
//   resolveCommand (tasks/command.ts)  mentions -> one object and one destination
//                                 of a scene, or an InstructionError naming the problem
// The lexicon comes from the suite file: its colours, shapes and synonym table
// (tasks/suites/*.json "synonyms", validated by tasks/suite.ts). Role of a
// mention: one after a destination word ("in", "into", "on", "onto", "to",
// "inside", ...) is the destination; otherwise the first thing named is the
// object and the second the destination.

export class InstructionError extends Error {
  override name = 'InstructionError';
}

/** Built-in shape-noun synonyms, used when no suite lexicon is given (policies parsing canonical text). */
export const SHAPE_NOUNS: Record<string, string> = {
  cube: 'cube', block: 'cube',
  cylinder: 'cylinder', tube: 'cylinder',
  prism: 'prism', hexagon: 'prism',
  bowl: 'bowl',
};

/** Words before a mention that make it the destination. */
const DEST_CUES = new Set(['in', 'into', 'inside', 'on', 'onto', 'to', 'atop', 'over', 'within', 'top']);
/** Words that may sit between a cue and its mention ("in the", "on top of the"). */
const ARTICLES = new Set(['the', 'a', 'an', 'of', 'that', 'this']);
/** Function words and fillers: never reported as ignored (they carry no meaning for the task). */
const FUNCTION_WORDS = new Set([
  'please', 'now', 'then', 'robot', 'can', 'you', 'could', 'would', 'go', 'ahead', 'and', 'i', 'want', 'need', 'like', 'to', 'it', 'its',
  'the', 'a', 'an', 'of', 'that', 'this', 'one', 'thanks', 'thank', 'kindly', 'hey', 'ok', 'okay', 'just', 'me', 'for', 'up', 'down', 'so',
  'is', 'be', 'will', 'my', 'your', 'there', 'here', 'object', 'thing',
  // common manipulation verbs (the task family comes from the destination, not the verb)
  'put', 'place', 'move', 'stack', 'pick', 'set', 'drop', 'grab', 'take', 'bring', 'lift', 'carry', 'get',
]);

/** Colours, shapes and synonyms a parser knows (from a suite: lexiconOf in tasks/suite.ts). */
export interface Lexicon {
  colors: readonly string[];
  /** Object shape names (the bowl is always known). */
  shapes: readonly string[];
  /** Word -> canonical colour or shape ("block" -> "cube", "dish" -> "bowl"). */
  synonyms: Readonly<Record<string, string>>;
  /** Words of the suite's templates (never reported as ignored). */
  templateWords?: ReadonlySet<string>;
}

export interface Mention {
  /** Canonical colour, or null when only a shape was named ("the cube"). */
  color: string | null;
  /** Canonical shape (cube | cylinder | prism | bowl), or null when only a colour was named ("the red one"). */
  shape: string | null;
  /** The words as typed (after lowercasing), e.g. "red block". */
  phrase: string;
  /** True when a destination word comes before it. */
  cued: boolean;
}

export interface CommandParse {
  /** Normalized words of the command. */
  words: string[];
  /** Thing to move, or null when none was named. */
  object: Mention | null;
  /** Where it goes, or null when none was named. */
  destination: Mention | null;
  /** Words the parser skipped that are not fillers or template words (shown so a person sees what was not read). */
  ignored: string[];
}

export interface ParsedInstruction {
  family: 'pick_place' | 'stack';
  /** Scene names, "<color> <shape>". */
  object: string;
  target: string;
}

export function normalizeWords(text: string): string[] {
  return text.toLowerCase().replace(/['’]/g, '').replace(/[^a-z\s]/g, ' ').split(/\s+/).filter(Boolean);
}

/** Fill a template: "put the {object} in the {target}". */
export function fillTemplate(template: string, object: string, target: string): string {
  return template.replaceAll('{object}', object).replaceAll('{target}', target);
}

/** Words a set of templates uses outside their slots. */
export function templateWords(templates: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const t of templates) for (const w of normalizeWords(t.replace(/\{(object|target)\}/g, ' '))) out.add(w);
  return out;
}

/** The lexicon of the built-in shapes and synonyms for the given colours. */
export function defaultLexicon(colors: readonly string[]): Lexicon {
  return { colors, shapes: ['cube', 'cylinder', 'prism'], synonyms: SHAPE_NOUNS };
}

/**
 * Read a command's mentions and roles. Throws InstructionError only when the
 * text has no words, names more than two things, or no object to move; what
 * cannot be resolved in a scene is resolveCommand's to report.
 */
export function parseCommand(text: string, lex: Lexicon): CommandParse {
  const words = normalizeWords(text);
  if (words.length === 0) throw new InstructionError('the instruction is empty: say what to move and where, e.g. "put the red cube in the blue bowl"');
  const colors = new Set(lex.colors);
  const shapes = new Set([...lex.shapes, 'bowl']);
  const canon = (w: string) => lex.synonyms[w] ?? w;
  const isColor = (w: string) => colors.has(canon(w));
  const isShape = (w: string) => shapes.has(canon(w));
  const mentions: Mention[] = [];
  const ignored: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!isColor(w) && !isShape(w)) {
      if (!FUNCTION_WORDS.has(w) && !DEST_CUES.has(w) && !lex.templateWords?.has(w)) ignored.push(w);
      continue;
    }
    let j = i;
    let color: string | null = null;
    let shape: string | null = null;
    if (isColor(w)) {
      color = canon(w);
      // A shape noun may follow the colour, after up to two unknown words ("red wooden block").
      for (let k = i + 1; k <= i + 3 && k < words.length; k++) {
        const v = words[k];
        if (isShape(v)) { shape = canon(v); j = k; break; }
        if (isColor(v) || DEST_CUES.has(v) || ARTICLES.has(v) || lex.templateWords?.has(v)) break;
      }
    } else {
      shape = canon(w);
    }
    let cued = false;
    for (let k = i - 1; k >= 0 && k >= i - 4; k--) {
      if (DEST_CUES.has(words[k])) { cued = true; break; }
      if (!ARTICLES.has(words[k])) break;
    }
    mentions.push({ color, shape, phrase: words.slice(i, j + 1).join(' '), cued });
    for (let k = i + 1; k < j; k++) if (!FUNCTION_WORDS.has(words[k])) ignored.push(words[k]);
    i = j;
  }
  if (mentions.length > 2) {
    throw new InstructionError(`"${clip(text)}" names ${mentions.length} things (${mentions.map((m) => `"${m.phrase}"`).join(', ')}): name one object to move and one destination`);
  }
  let object: Mention | null;
  let destination: Mention | null;
  if (mentions.length === 2) {
    const [a, b] = mentions;
    [object, destination] = a.cued && !b.cued ? [b, a] : [a, b];
  } else if (mentions.length === 1) {
    [object, destination] = mentions[0].cued ? [null, mentions[0]] : [mentions[0], null];
  } else {
    object = destination = null;
  }
  if (!object) {
    const where = destination ? ` to put ${destination.cued ? 'in/on ' : ''}the ${destination.phrase}` : '';
    throw new InstructionError(`nothing to move in "${clip(text)}": name the object${where} by colour and shape, e.g. "the red cube"`);
  }
  if (object.shape === 'bowl') throw new InstructionError(`the thing to move must be an object, not a bowl ("${object.phrase}" in "${clip(text)}")`);
  return { words, object, destination, ignored };
}

/**
 * Scene-free parse of a fully specified instruction (both things named by
 * colour and shape), e.g. the canonical rendering the policy sees.
 */
export function parseInstruction(text: string, lex: Lexicon): ParsedInstruction {
  const p = parseCommand(text, lex);
  const name = (m: Mention | null, what: string) => {
    if (!m) throw new InstructionError(`"${clip(text)}" does not name ${what}`);
    if (!m.color || !m.shape) throw new InstructionError(`"${m.phrase}" in "${clip(text)}" needs both a colour and a shape to name the ${what} without a scene`);
    return `${m.color} ${m.shape}`;
  };
  const object = name(p.object, 'object');
  const target = name(p.destination, 'destination');
  return { family: target.endsWith(' bowl') ? 'pick_place' : 'stack', object, target };
}

/** A user string cut for an error message (a 10,000-character template would otherwise be repeated whole). */
export function clip(s: string, n = 120): string {
  return s.length <= n ? s : `${s.slice(0, n)}... (${s.length} characters)`;
}
