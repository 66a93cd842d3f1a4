import { describe, expect, it } from 'vitest';
import { defaultLexicon, fillTemplate, InstructionError, parseCommand, parseInstruction, type Lexicon } from '../../tasks/grammar.ts';

const colors = ['red', 'green', 'blue'];
const lex: Lexicon = { colors, shapes: ['cube', 'cylinder', 'prism'], synonyms: { block: 'cube', box: 'cube', dish: 'bowl', crimson: 'red' } };

describe('instruction grammar', () => {
  it('fills templates', () => {
    expect(fillTemplate('put the {object} in the {target}', 'red cube', 'blue bowl')).toBe('put the red cube in the blue bowl');
  });
  it('parses pick-and-place and stacking, with synonyms and punctuation', () => {
    expect(parseInstruction('Put the red cube in the blue bowl.', lex)).toEqual({ family: 'pick_place', object: 'red cube', target: 'blue bowl' });
    expect(parseInstruction('please stack the green block on the red cylinder', lex)).toEqual({ family: 'stack', object: 'green cube', target: 'red cylinder' });
    // Without a suite, the built-in shape synonyms still read canonical text.
    expect(parseInstruction('stack the green block on the red cylinder', defaultLexicon(colors))).toMatchObject({ object: 'green cube', target: 'red cylinder' });
  });
  it('reads any case, punctuation, fillers and extra words, and reports the words it skipped', () => {
    const p = parseCommand("Hey robot, could you PLEASE gently put the Crimson BLOCK into the blue dish?! Thanks", lex);
    expect(p.object).toMatchObject({ color: 'red', shape: 'cube', phrase: 'crimson block', cued: false });
    expect(p.destination).toMatchObject({ color: 'blue', shape: 'bowl', phrase: 'blue dish', cued: true });
    expect(p.ignored).toEqual(['gently']);
    expect(parseCommand('yeet the red cube in the blue bowl', lex).ignored).toEqual(['yeet']);
  });
  it('takes the destination from its preposition, wherever it stands', () => {
    const p = parseCommand('into the blue bowl, put the red cube', lex);
    expect(p.object?.phrase).toBe('red cube');
    expect(p.destination?.phrase).toBe('blue bowl');
    const q = parseCommand('put the red cube on top of the green cylinder', lex);
    expect(q.destination).toMatchObject({ color: 'green', shape: 'cylinder', cued: true });
  });
  it('keeps a colour or a shape named alone for the scene to resolve', () => {
    const p = parseCommand('put the red one in the blue', lex);
    expect(p.object).toMatchObject({ color: 'red', shape: null });
    expect(p.destination).toMatchObject({ color: 'blue', shape: null });
    expect(parseCommand('put the cube in the bowl', lex).object).toMatchObject({ color: null, shape: 'cube' });
  });
  it('a colour is not glued to a shape across a preposition or another colour', () => {
    const p = parseCommand('put red into the blue bowl', lex);
    expect(p.object).toMatchObject({ color: 'red', shape: null, phrase: 'red' });
    expect(p.destination).toMatchObject({ color: 'blue', shape: 'bowl' });
    const w = parseCommand('put the red wooden block in the blue bowl', lex);
    expect(w.object).toMatchObject({ color: 'red', shape: 'cube', phrase: 'red wooden block' });
    expect(w.ignored).toEqual(['wooden']);
  });
  it('refuses, naming the problem: empty, nothing to move, a bowl to move, too many things', () => {
    expect(() => parseCommand('  ', lex)).toThrow(/empty/);
    expect(() => parseCommand('dance for me', lex)).toThrow(InstructionError);
    expect(() => parseCommand('dance for me', lex)).toThrow(/nothing to move in "dance for me"/);
    expect(() => parseCommand('put it in the blue bowl', lex)).toThrow(/nothing to move .* to put in\/on the blue bowl/);
    expect(() => parseCommand('put the blue bowl in the red cube', lex)).toThrow(/must be an object, not a bowl \("blue bowl"/);
    expect(() => parseCommand('put the red cube and the green cube in the blue bowl', lex)).toThrow(/names 3 things \("red cube", "green cube", "blue bowl"\)/);
  });
  it('parseInstruction needs both things fully named when there is no scene', () => {
    expect(() => parseInstruction('put the cube in the blue bowl', lex)).toThrow(/"cube" in "put the cube in the blue bowl" needs both a colour and a shape/);
    expect(() => parseInstruction('put the red cube', lex)).toThrow(/does not name destination/);
  });
});
