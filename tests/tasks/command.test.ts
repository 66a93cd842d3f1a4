import { describe, expect, it } from 'vitest';
import { resolveSuite } from '../../tasks/builtin.ts';
import { describeReading, resolveCommand, type CommandContext } from '../../tasks/command.ts';
import { InstructionError } from '../../tasks/grammar.ts';
import { getTask, lexiconOf } from '../../tasks/suite.ts';

const suite = resolveSuite('tabletop');
const scene = { objects: ['red cube', 'green cube', 'blue cylinder'], bowls: ['blue bowl', 'yellow bowl'] };
const ctx = (family: 'pick_place' | 'stack'): CommandContext => ({ lexicon: lexiconOf(suite), family, templates: getTask(suite, family).templates, scene });

describe('typed commands in a scene', () => {
  it('resolves synonyms, fillers and punctuation to one object and one destination, with the canonical sentence', () => {
    const r = resolveCommand('Please put the red block into the blue dish.', ctx('pick_place'));
    expect(r).toMatchObject({ object: 'red cube', target: 'blue bowl', family: 'pick_place', objectPhrase: 'red block', targetPhrase: 'blue dish', ignored: [] });
    expect(r.canonical).toBe(`${suite.tasks[0].templates.train[0].replace('{object}', 'red cube').replace('{target}', 'blue bowl')}`);
    expect(r.canonical).toBe('put the red cube in the blue bowl');
    expect(describeReading(r)).toBe('object: red cube ("red block") · destination: blue bowl ("blue dish")');
    const s = resolveCommand('could you stack the green box onto the blue tube now', ctx('stack'));
    expect(s).toMatchObject({ object: 'green cube', target: 'blue cylinder', canonical: 'stack the green cube on the blue cylinder' });
  });
  it('a colour or a shape alone is enough when the scene has one such thing', () => {
    expect(resolveCommand('move the cylinder to the yellow one', ctx('pick_place'))).toMatchObject({ object: 'blue cylinder', target: 'yellow bowl' });
    expect(resolveCommand('green into yellow', ctx('pick_place'))).toMatchObject({ object: 'green cube', target: 'yellow bowl' });
  });
  it('refuses an object that is not there, naming it and the scene', () => {
    expect(() => resolveCommand('put the purple prism in the blue bowl', ctx('pick_place'))).toThrow(InstructionError);
    expect(() => resolveCommand('put the purple prism in the blue bowl', ctx('pick_place'))).toThrow(/there is no purple prism in the scene \(objects: red cube, green cube, blue cylinder; bowls: blue bowl, yellow bowl\)/);
    expect(() => resolveCommand('put the red cube in the green bowl', ctx('pick_place'))).toThrow(/there is no green bowl to put the red cube in/);
  });
  it('an over-long command is cut in the message, not repeated whole', () => {
    const long = 'please '.repeat(1500) + 'put the purple prism in the blue bowl';
    let msg = '';
    try { resolveCommand(long, ctx('pick_place')); } catch (e) { msg = (e as Error).message; }
    expect(msg).toMatch(/there is no purple prism/);
    expect(msg).toMatch(/\(10537 characters\)/);
    expect(msg.length).toBeLessThan(600);
  });
  it('refuses two candidates, naming both', () => {
    expect(() => resolveCommand('put the cube in the blue bowl', ctx('pick_place'))).toThrow(/"cube" could be the red cube or the green cube: say which/);
    expect(() => resolveCommand('put the red cube in the bowl', ctx('pick_place'))).toThrow(/"bowl" could be the blue bowl or the yellow bowl/);
  });
  it('refuses nothing to move, no destination, the wrong family, and stacking on itself', () => {
    expect(() => resolveCommand('please tidy up', ctx('pick_place'))).toThrow(/nothing to move/);
    expect(() => resolveCommand('pick up the red cube', ctx('pick_place'))).toThrow(/where should the red cube go\? .*bowls: blue bowl, yellow bowl/);
    expect(() => resolveCommand('stack the red cube on the blue cylinder', ctx('pick_place'))).toThrow(/is a stack instruction .* but the task is pick_place/);
    expect(() => resolveCommand('put the red cube in the blue bowl', ctx('stack'))).toThrow(/is a pick_place instruction .* but the task is stack/);
    expect(() => resolveCommand('stack the red cube on the red cube', ctx('stack'))).toThrow(/cannot stack the red cube on itself/);
  });
  it('reports words it did not read', () => {
    const r = resolveCommand('yeet the red cube into the yellow bowl', ctx('pick_place'));
    expect(r.ignored).toEqual(['yeet']);
    expect(describeReading(r)).toMatch(/ignored: yeet$/);
  });
});
