// Typed commands against a scene: parseCommand's mentions (tasks/grammar.ts)
// -> exactly one object and one destination of the episode's layout, or an
// InstructionError naming the problem (an object not present, two candidates,
// nothing to move, the wrong kind of destination for the task).
// The reading says how the command was understood (object, destination,
// ignored words) so a page can show it before running, and gives the suite's
// canonical rendering of it: the first train template of the task filled with
// the resolved names ("put the red cube in the blue bowl"). That canonical
// sentence is what a policy with the from-scratch instruction encoder should
// see, since it was trained on the suite's templates only (sim/env.ts
// `policyInstruction`).
import { InstructionError, clip, fillTemplate, parseCommand, templateWords, type Lexicon, type Mention } from './grammar.ts';
import type { FamilyName } from './suite.ts';

export interface SceneNames {
  /** Scene names of the movable objects, "<color> <shape>". */
  objects: readonly string[];
  /** Scene names of the bowls, "<color> bowl". */
  bowls: readonly string[];
}

export interface CommandReading {
  /** The command as typed. */
  text: string;
  family: FamilyName;
  /** Scene name of the object to move. */
  object: string;
  /** Scene name of the destination (a bowl for pick_place, an object for stack). */
  target: string;
  /** The words that named them, as typed ("red block", "blue dish"). */
  objectPhrase: string;
  targetPhrase: string;
  /** Words that were not read (neither fillers, template words, colours nor shapes). */
  ignored: string[];
  /** The task's first train template filled with object and target. */
  canonical: string;
}

export interface CommandContext {
  lexicon: Lexicon;
  family: FamilyName;
  /** The task's templates: train[0] renders the canonical sentence; all of them are known words. */
  templates: { train: readonly string[]; heldout: readonly string[]; language?: readonly string[] };
  scene: SceneNames;
}

const matches = (m: Mention, name: string) => {
  const [color, shape] = name.split(' ');
  return (m.color === null || m.color === color) && (m.shape === null || m.shape === shape);
};
const describe = (m: Mention) => [m.color, m.shape ?? 'thing'].filter(Boolean).join(' ');
const inScene = (s: SceneNames) => `objects: ${s.objects.join(', ')}; bowls: ${s.bowls.join(', ')}`;
const either = (names: string[]) => names.length === 2 ? `the ${names[0]} or the ${names[1]}` : names.map((n) => `the ${n}`).join(', ');

/** Resolve a typed command in a scene; throws InstructionError naming what could not be resolved. */
export function resolveCommand(text: string, ctx: CommandContext): CommandReading {
  const lex = { ...ctx.lexicon, templateWords: templateWords([...ctx.templates.train, ...ctx.templates.heldout, ...(ctx.templates.language ?? [])]) };
  const p = parseCommand(text, lex);
  const { scene } = ctx;
  const o = p.object!;
  const objects = scene.objects.filter((n) => matches(o, n));
  if (objects.length === 0) throw new InstructionError(`there is no ${describe(o)} in the scene (${inScene(scene)}): "${o.phrase}" in "${clip(text)}"`);
  if (objects.length > 1) throw new InstructionError(`"${o.phrase}" could be ${either(objects)}: say which (${inScene(scene)})`);
  const object = objects[0];
  const d = p.destination;
  const wantBowl = ctx.family === 'pick_place';
  if (!d) {
    throw new InstructionError(`where should the ${object} go? "${clip(text)}" names no destination (${wantBowl ? `bowls: ${scene.bowls.join(', ')}` : `objects: ${scene.objects.filter((n) => n !== object).join(', ')}`})`);
  }
  if (d.shape !== null && (d.shape === 'bowl') !== wantBowl) {
    const kind = d.shape === 'bowl' ? 'pick_place' : 'stack';
    throw new InstructionError(`"${clip(text)}" is a ${kind} instruction (the destination "${d.phrase}" is ${d.shape === 'bowl' ? 'a bowl' : 'an object'}) but the task is ${ctx.family}`);
  }
  const pool = wantBowl ? scene.bowls : scene.objects.filter((n) => n !== object);
  const targets = pool.filter((n) => matches(d, n));
  if (targets.length === 0) {
    if (!wantBowl && d.color !== null && `${d.color} ${d.shape}` === object) throw new InstructionError(`cannot stack the ${object} on itself`);
    throw new InstructionError(`there is no ${describe(d.shape === null ? { ...d, shape: wantBowl ? 'bowl' : null } : d)} to put the ${object} ${wantBowl ? 'in' : 'on'} (${inScene(scene)}): "${d.phrase}" in "${clip(text)}"`);
  }
  if (targets.length > 1) throw new InstructionError(`"${d.phrase}" could be ${either(targets)}: say which (${inScene(scene)})`);
  const target = targets[0];
  return {
    text, family: ctx.family, object, target, objectPhrase: o.phrase, targetPhrase: d.phrase, ignored: p.ignored,
    canonical: fillTemplate(ctx.templates.train[0], object, target),
  };
}

/** One line saying how a command was read, for a page: 'object: red cube ("red block") · destination: blue bowl ("blue dish")'. */
export function describeReading(r: CommandReading): string {
  const q = (phrase: string, name: string) => (phrase === name ? '' : ` ("${phrase}")`);
  return `object: ${r.object}${q(r.objectPhrase, r.object)} · destination: ${r.target}${q(r.targetPhrase, r.target)}${r.ignored.length ? ` · ignored: ${r.ignored.join(' ')}` : ''}`;
}
