// Instruction grammar: templates with {object} / {target} slots, paraphrases,
// and a parser that maps any instruction (generated or typed by a person) back
// to the objects it names, with clear errors for unknown words or objects.
// Templates come from suite files (tasks/suites/*.json); this file only knows
// the shape nouns and the filler words people type.

export class InstructionError extends Error {
  override name = 'InstructionError';
}

/** Shape nouns and their synonyms (a synonym is itself a paraphrase). */
export const SHAPE_NOUNS: Record<string, string> = {
  cube: 'cube', block: 'cube',
  cylinder: 'cylinder', tube: 'cylinder',
  prism: 'prism', hexagon: 'prism',
  bowl: 'bowl',
};

/** Words people add to commands that carry no meaning for the task. */
const FILLERS = ['please', 'now', 'then', 'robot', 'can', 'you', 'could', 'go', 'ahead', 'and'];

export interface Mention {
  color: string;
  /** Canonical shape: cube | cylinder | prism | bowl. */
  shape: string;
  /** Scene name, "<color> <shape>". */
  name: string;
}

export interface ParsedInstruction {
  mentions: Mention[];
  /** 'pick_place' when the second thing named is a bowl, 'stack' when it is an object. */
  family: 'pick_place' | 'stack';
  object: string;
  target: string;
}

export function normalizeWords(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z\s]/g, ' ').split(/\s+/).filter(Boolean);
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

/**
 * Parse an instruction against a vocabulary (template words + colors + shape
 * nouns + fillers). Throws InstructionError naming unknown words, colourless
 * shape nouns, or a wrong number of mentions.
 */
export function parseInstruction(text: string, colors: readonly string[], templates: readonly string[]): ParsedInstruction {
  const words = normalizeWords(text);
  if (words.length === 0) throw new InstructionError('the instruction is empty');
  const vocab = templateWords(templates);
  FILLERS.forEach((w) => vocab.add(w));
  const colorSet = new Set(colors);
  const mentions: Mention[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (colorSet.has(w)) {
      const next = words[i + 1];
      const shape = next !== undefined ? SHAPE_NOUNS[next] : undefined;
      if (!shape) throw new InstructionError(`"${w}" must be followed by a shape (${Object.keys(SHAPE_NOUNS).join(', ')}) in "${clip(text)}"`);
      mentions.push({ color: w, shape, name: `${w} ${shape}` });
      i++;
    } else if (SHAPE_NOUNS[w] && !vocab.has(w)) {
      const prev = words[i - 1];
      if (prev !== undefined && !vocab.has(prev)) {
        throw new InstructionError(`unknown color "${prev}" in "${clip(`${prev} ${w}`)}" (known colors: ${colors.join(', ')})`);
      }
      throw new InstructionError(`"${w}" needs a color (one of: ${colors.join(', ')}) in "${clip(text)}"`);
    } else if (!vocab.has(w)) {
      unknown.push(w);
    }
  }
  if (unknown.length > 0) {
    throw new InstructionError(`unknown word${unknown.length > 1 ? 's' : ''} ${clip(unknown.map((u) => `"${u}"`).join(', '))} in "${clip(text)}"; known words: ${[...vocab, ...colors, ...Object.keys(SHAPE_NOUNS)].sort().join(' ')}`);
  }
  if (mentions.length !== 2) {
    throw new InstructionError(`an instruction names exactly two things (what to move, and where), found ${mentions.length} in "${clip(text)}"`);
  }
  const [a, b] = mentions;
  if (a.shape === 'bowl') throw new InstructionError(`the first thing named must be an object to move, not "${a.name}"`);
  return { mentions, family: b.shape === 'bowl' ? 'pick_place' : 'stack', object: a.name, target: b.name };
}

/** A user string cut for an error message (a 10,000-character template would otherwise be repeated whole). */
export function clip(s: string, n = 120): string {
  return s.length <= n ? s : `${s.slice(0, n)}... (${s.length} characters)`;
}
