import { describe, expect, it } from 'vitest';
import { fillTemplate, InstructionError, parseInstruction } from '../../tasks/grammar.ts';

const colors = ['red', 'green', 'blue'];
const templates = ['put the {object} in the {target}', 'stack the {object} on the {target}', 'pick up the {object} and put it in the {target}'];

describe('instruction grammar', () => {
  it('fills templates', () => {
    expect(fillTemplate('put the {object} in the {target}', 'red cube', 'blue bowl')).toBe('put the red cube in the blue bowl');
  });
  it('parses pick-and-place and stacking, with synonyms and punctuation', () => {
    expect(parseInstruction('Put the red cube in the blue bowl.', colors, templates)).toMatchObject({ family: 'pick_place', object: 'red cube', target: 'blue bowl' });
    expect(parseInstruction('please stack the green block on the red cylinder', colors, templates)).toMatchObject({ family: 'stack', object: 'green cube', target: 'red cylinder' });
  });
  it('names unknown words', () => {
    expect(() => parseInstruction('yeet the red cube in the blue bowl', colors, templates)).toThrow(InstructionError);
    expect(() => parseInstruction('yeet the red cube in the blue bowl', colors, templates)).toThrow(/unknown word "yeet"/);
  });
  it('rejects colourless shapes, unknown colours, and wrong counts', () => {
    expect(() => parseInstruction('put the cube in the blue bowl', colors, templates)).toThrow(/"cube" needs a color/);
    expect(() => parseInstruction('put the mauve cube in the blue bowl', colors, templates)).toThrow(/unknown color "mauve" in "mauve cube" \(known colors: red, green, blue\)/);
    expect(() => parseInstruction('put the red cube', colors, templates)).toThrow(/names exactly two things/);
    expect(() => parseInstruction('put the blue bowl in the red cube', colors, templates)).toThrow(/must be an object to move/);
    expect(() => parseInstruction('  ', colors, templates)).toThrow(/empty/);
  });
});
