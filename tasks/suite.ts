// Suites are data (LIBERO / VIMA-Bench style): a JSON file names the task
// families, objects, colors, instruction templates, and splits with fixed,
// versioned seed lists, so every evaluation of a suite runs the same episodes.
// validateSuite() checks every field and names the offending one.
// "synonyms" (optional) maps a colour, shape or "bowl" of the suite to the
// other words people type for it ({"cube": ["block", "box"], "bowl": ["dish"]});
// typed commands are read through it (tasks/grammar.ts, tasks/command.ts),
// and a split with "synonyms": true phrases its instructions with it.
import { COLORS, SHAPES } from '../sim/config.ts';
import { SHAPE_NOUNS, clip, normalizeWords, templateWords, type Lexicon } from './grammar.ts';

export class SuiteError extends Error {
  override name = 'SuiteError';
}

export const FAMILIES = ['pick_place', 'stack'] as const;
export type FamilyName = (typeof FAMILIES)[number];

export interface TaskSpec {
  /** Unique within the suite; used in env ids and reports. */
  name: string;
  family: FamilyName;
  /** Episode budget in control steps. */
  maxSteps: number;
  /**
   * Instruction templates with {object} and {target} slots; the object slot
   * comes first. `language` (optional in the file, default none): phrasings as
   * people type them (fillers, politeness, unseen verbs) for language splits.
   */
  templates: { train: string[]; heldout: string[]; language: string[] };
}

export interface SplitSpec {
  /** Episode seeds: an explicit list, or a range {start, count}. Each task runs every seed. */
  seeds: number[] | { start: number; count: number };
  /** Inclusive range of distractor objects beyond those the instruction names. */
  distractors: [number, number];
  /** Which color–shape combinations may appear: train (held-out ones excluded), heldout (goal object is a held-out combo), all. */
  combos: 'train' | 'heldout' | 'all';
  /** Which templates phrase the instruction ('all': train and heldout). */
  templates: 'train' | 'heldout' | 'all' | 'language';
  /**
   * Name colours and shapes with the suite's synonyms ("scarlet block" for
   * "red cube"), each word with probability 1/2 (drawn after everything else,
   * so layouts equal those of a split with the same seeds and settings).
   */
  synonyms: boolean;
  description?: string;
}

export interface SuiteSpec {
  name: string;
  /** Semantic version: bump the major version whenever episodes change. */
  version: string;
  description?: string;
  colors: string[];
  shapes: string[];
  /** Color–shape combinations never seen in the train split, e.g. "green cylinder". */
  heldOutCombos: string[];
  /** Bowls per scene (the target bowl included for pick-and-place). */
  bowls: number;
  tasks: TaskSpec[];
  splits: Record<string, SplitSpec>;
  /** Canonical colour / shape / "bowl" -> other words for it (typed commands only; episodes never use them). */
  synonyms: Record<string, string[]>;
}

/** One episode of a split: a task and a seed. */
export interface EpisodeRef {
  task: string;
  seed: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function req<T>(o: Obj, key: string, path: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (v === undefined) throw new SuiteError(`${path}.${key}: missing (expected ${what})`);
  if (!check(v)) throw new SuiteError(`${path}.${key}: expected ${what}, got ${JSON.stringify(v)}`);
  return v;
}
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Validate parsed JSON as a suite; throws SuiteError naming the field. */
export function validateSuite(raw: unknown, source = 'suite'): SuiteSpec {
  if (!isObj(raw)) throw new SuiteError(`${source}: expected a JSON object at the top level`);
  const p = source;
  const name = req(raw, 'name', p, isStr, 'a non-empty string');
  const version = req(raw, 'version', p, (v): v is string => isStr(v) && /^\d+\.\d+\.\d+$/.test(v), 'a version "MAJOR.MINOR.PATCH"');
  const colors = req(raw, 'colors', p, isStrArr, 'a list of color names');
  colors.forEach((c, i) => { if (!COLORS[c]) throw new SuiteError(`${p}.colors[${i}]: unknown color "${c}" (known: ${Object.keys(COLORS).join(', ')})`); });
  const shapes = req(raw, 'shapes', p, isStrArr, 'a list of shape names');
  shapes.forEach((s, i) => { if (!(SHAPES as readonly string[]).includes(s)) throw new SuiteError(`${p}.shapes[${i}]: unknown shape "${s}" (known: ${SHAPES.join(', ')})`); });
  const heldOutCombos = req(raw, 'heldOutCombos', p, isStrArr, 'a list of "<color> <shape>" strings');
  heldOutCombos.forEach((c, i) => {
    const [col, sh, extra] = c.split(' ');
    if (extra !== undefined || !colors.includes(col) || !shapes.includes(sh)) throw new SuiteError(`${p}.heldOutCombos[${i}]: "${c}" is not "<color> <shape>" with a color and shape of this suite`);
  });
  const bowls = req(raw, 'bowls', p, (v): v is number => isInt(v) && v >= 1 && v <= 4, 'an integer from 1 to 4');
  const tasksRaw = req(raw, 'tasks', p, (v): v is unknown[] => Array.isArray(v) && v.length > 0, 'a non-empty list of tasks');
  const tasks = tasksRaw.map((t, i) => validateTask(t, `${p}.tasks[${i}]`, colors));
  const dup = tasks.find((t, i) => tasks.findIndex((u) => u.name === t.name) !== i);
  if (dup) throw new SuiteError(`${p}.tasks: duplicate task name "${dup.name}"`);
  const splitsRaw = req(raw, 'splits', p, isObj, 'an object of named splits');
  if (!splitsRaw.train) throw new SuiteError(`${p}.splits.train: missing (every suite needs a train split)`);
  const splits: Record<string, SplitSpec> = {};
  const synonyms = raw.synonyms === undefined ? {} : validateSynonyms(raw.synonyms, `${p}.synonyms`, colors, shapes, tasks);
  for (const [k, v] of Object.entries(splitsRaw)) splits[k] = validateSplit(v, `${p}.splits.${k}`, heldOutCombos, tasks, synonyms);
  const known = new Set(['name', 'version', 'description', 'colors', 'shapes', 'heldOutCombos', 'bowls', 'tasks', 'splits', 'synonyms']);
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new SuiteError(`${p}.${k}: unknown field (known: ${[...known].join(', ')})`);
  return { name, version, description: typeof raw.description === 'string' ? raw.description : undefined, colors, shapes, heldOutCombos, bowls, tasks, splits, synonyms };
}

function validateSynonyms(raw: unknown, p: string, colors: string[], shapes: string[], tasks: TaskSpec[]): Record<string, string[]> {
  if (!isObj(raw)) throw new SuiteError(`${p}: expected an object {"<colour or shape>": ["word", ...]}`);
  const canonical = [...colors, ...shapes, 'bowl'];
  const tplWords = templateWords(tasks.flatMap((t) => [...t.templates.train, ...t.templates.heldout, ...t.templates.language]));
  const owner = new Map<string, string>();
  const out: Record<string, string[]> = {};
  for (const [key, words] of Object.entries(raw)) {
    if (!canonical.includes(key)) throw new SuiteError(`${p}.${key}: "${key}" is not a colour, shape or "bowl" of this suite (known: ${canonical.join(', ')})`);
    if (!isStrArr(words) || words.length === 0) throw new SuiteError(`${p}.${key}: expected a non-empty list of words, got ${JSON.stringify(words)}`);
    words.forEach((w, i) => {
      const where = `${p}.${key}[${i}]`;
      if (!/^[a-z]+$/.test(w)) throw new SuiteError(`${where}: "${w}" must be one lowercase word (a-z)`);
      if (canonical.includes(w)) throw new SuiteError(`${where}: "${w}" is itself a colour or shape of this suite`);
      if (tplWords.has(w)) throw new SuiteError(`${where}: "${w}" is a template word; a synonym must not be read as one`);
      const prev = owner.get(w);
      if (prev !== undefined) throw new SuiteError(`${where}: "${w}" is already a synonym of "${prev}"`);
      owner.set(w, key);
    });
    out[key] = words.slice();
  }
  return out;
}

/** The words a suite's typed commands are read with (tasks/grammar.ts Lexicon). */
export function lexiconOf(suite: SuiteSpec): Lexicon {
  const synonyms: Record<string, string> = {};
  for (const [key, words] of Object.entries(suite.synonyms)) for (const w of words) synonyms[w] = key;
  return { colors: suite.colors, shapes: suite.shapes, synonyms };
}

function validateTask(raw: unknown, p: string, colors: string[]): TaskSpec {
  if (!isObj(raw)) throw new SuiteError(`${p}: expected an object`);
  const name = req(raw, 'name', p, isStr, 'a non-empty string');
  const family = req(raw, 'family', p, (v): v is FamilyName => (FAMILIES as readonly unknown[]).includes(v), `one of ${FAMILIES.join(', ')}`);
  const maxSteps = req(raw, 'maxSteps', p, (v): v is number => isInt(v) && v >= 10 && v <= 1000, 'an integer from 10 to 1000');
  const tpl = req(raw, 'templates', p, isObj, 'an object {train: [...], heldout: [...], language?: [...]}');
  const templates = {
    train: req(tpl, 'train', `${p}.templates`, (v): v is string[] => isStrArr(v) && v.length > 0, 'a non-empty list of templates'),
    heldout: req(tpl, 'heldout', `${p}.templates`, isStrArr, 'a list of templates'),
    language: tpl.language === undefined ? [] : req(tpl, 'language', `${p}.templates`, isStrArr, 'a list of templates'),
  };
  for (const k of Object.keys(tpl)) if (!['train', 'heldout', 'language'].includes(k)) throw new SuiteError(`${p}.templates.${k}: unknown template set (known: train, heldout, language)`);
  for (const split of ['train', 'heldout', 'language'] as const) {
    templates[split].forEach((t, i) => {
      const where = `${p}.templates.${split}[${i}]`;
      const io = t.indexOf('{object}'), it = t.indexOf('{target}');
      if (io < 0 || it < 0) throw new SuiteError(`${where}: "${clip(t)}" must contain both {object} and {target}`);
      if (io > it) throw new SuiteError(`${where}: "${clip(t)}" must name {object} before {target}`);
      const clash = normalizeWords(t.replace(/\{(object|target)\}/g, ' ')).find((w) => colors.includes(w) || (SHAPE_NOUNS[w] && w !== 'bowl'));
      if (clash) throw new SuiteError(`${where}: "${clip(t)}" uses "${clash}" outside a slot (colors and shape nouns belong in the slots)`);
    });
  }
  return { name, family, maxSteps, templates };
}

function validateSplit(raw: unknown, p: string, heldOutCombos: string[], tasks: TaskSpec[], synonyms: Record<string, string[]>): SplitSpec {
  if (!isObj(raw)) throw new SuiteError(`${p}: expected an object`);
  const seeds = req(raw, 'seeds', p, (v): v is SplitSpec['seeds'] =>
    (Array.isArray(v) && v.length > 0 && v.every(isInt)) || (isObj(v) && isInt(v.start) && isInt(v.count) && (v.count as number) > 0),
  'a non-empty list of non-negative integers or {start, count}');
  if (Array.isArray(seeds)) {
    const dup = seeds.filter((x, i) => seeds.indexOf(x) !== i);
    if (dup.length) throw new SuiteError(`${p}.seeds: duplicate seed${dup.length > 1 ? 's' : ''} ${[...new Set(dup)].slice(0, 10).join(', ')}: each seed is one episode per task, a repeat would run it twice`);
  }
  const distractors = req(raw, 'distractors', p, (v): v is [number, number] =>
    Array.isArray(v) && v.length === 2 && isInt(v[0]) && isInt(v[1]) && v[0] <= v[1] && v[1] <= 6, '[min, max] with 0 <= min <= max <= 6');
  const combos = req(raw, 'combos', p, (v): v is SplitSpec['combos'] => v === 'train' || v === 'heldout' || v === 'all', '"train", "heldout" or "all"');
  if (combos === 'heldout' && heldOutCombos.length === 0) throw new SuiteError(`${p}.combos: "heldout" needs a non-empty heldOutCombos list`);
  const templates = req(raw, 'templates', p, (v): v is SplitSpec['templates'] => v === 'train' || v === 'heldout' || v === 'all' || v === 'language', '"train", "heldout", "all" or "language"');
  const bare = tasks.find((t) => (templates === 'all' ? t.templates.train.length + t.templates.heldout.length : t.templates[templates].length) === 0);
  if (bare) throw new SuiteError(`${p}.templates: "${templates}", but task "${bare.name}" has no ${templates} templates`);
  const syn = raw.synonyms ?? false;
  if (typeof syn !== 'boolean') throw new SuiteError(`${p}.synonyms: expected true or false, got ${JSON.stringify(syn)}`);
  if (syn && Object.keys(synonyms).length === 0) throw new SuiteError(`${p}.synonyms: true needs the suite's "synonyms" table`);
  return { seeds, distractors, combos, templates, synonyms: syn, description: typeof raw.description === 'string' ? raw.description : undefined };
}

/** The split's seeds as an explicit list. */
export function splitSeeds(split: SplitSpec): number[] {
  const s = split.seeds;
  return Array.isArray(s) ? s.slice() : Array.from({ length: s.count }, (_, i) => s.start + i);
}

/** The fixed episode list of a split: every task runs every seed, tasks in suite order. */
export function episodeList(suite: SuiteSpec, splitName: string): EpisodeRef[] {
  const split = getSplit(suite, splitName);
  const seeds = splitSeeds(split);
  return suite.tasks.flatMap((t) => seeds.map((seed) => ({ task: t.name, seed })));
}

/**
 * The order a split's episodes run in (eval, collect, the analyze
 * experiments): seed by seed, every task (or only `tasks`, in that order) at
 * each seed, so any prefix is balanced across tasks.
 */
export function episodeOrder(suite: SuiteSpec, splitName: string, tasks: string[] = suite.tasks.map((t) => t.name)): EpisodeRef[] {
  for (const t of tasks) getTask(suite, t);
  const seeds = splitSeeds(getSplit(suite, splitName));
  return seeds.flatMap((seed) => tasks.map((task) => ({ task, seed })));
}

export function getSplit(suite: SuiteSpec, name: string): SplitSpec {
  const s = suite.splits[name];
  if (!s) throw new SuiteError(`suite "${suite.name}" has no split "${name}" (splits: ${Object.keys(suite.splits).join(', ')})`);
  return s;
}

export function getTask(suite: SuiteSpec, name: string): TaskSpec {
  const t = suite.tasks.find((x) => x.name === name);
  if (!t) throw new SuiteError(`suite "${suite.name}" has no task "${name}" (tasks: ${suite.tasks.map((x) => x.name).join(', ')})`);
  return t;
}

/** Parse a suite from JSON text, naming the source in errors. */
export function parseSuite(text: string, source = 'suite'): SuiteSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SuiteError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return validateSuite(raw, source);
}
