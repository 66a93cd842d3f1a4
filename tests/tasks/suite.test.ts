import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveSuite } from '../../tasks/builtin.ts';
import { resolveCommand } from '../../tasks/command.ts';
import { comboLists, sampleEpisode } from '../../tasks/episode.ts';
import { episodeList, episodeOrder, getTask, lexiconOf, parseSuite, SuiteError, validateSuite } from '../../tasks/suite.ts';

const base = JSON.parse(readFileSync('tasks/suites/tabletop-v1.json', 'utf8'));
const clone = () => JSON.parse(JSON.stringify(base));

describe('suite files', () => {
  it('the default suite validates and has the held-out splits', () => {
    const s = validateSuite(base);
    expect(Object.keys(s.splits)).toEqual(['train', 'heldout_layout', 'heldout_combo', 'heldout_paraphrase', 'heldout_language', 'heldout_distractors']);
    expect(s.tasks.map((t) => t.family)).toEqual(['pick_place', 'stack']);
    expect(s.synonyms.cube).toContain('block');
    expect(s.synonyms.bowl).toEqual(expect.arrayContaining(['dish', 'container']));
    // The synonym table is optional (a suite without one reads only canonical words).
    const j = clone();
    delete j.synonyms;
    delete j.splits.heldout_language;
    expect(validateSuite(j).synonyms).toEqual({});
    // so are language templates (and a split's synonyms flag: false)
    for (const t of j.tasks) delete t.templates.language;
    const v = validateSuite(j);
    expect(v.tasks.map((t) => t.templates.language)).toEqual([[], []]);
    expect(v.splits.train.synonyms).toBe(false);
  });

  it('episode lists are fixed: tasks x seeds in suite order', () => {
    const s = validateSuite(base);
    const eps = episodeList(s, 'heldout_layout');
    expect(eps).toHaveLength(200);
    expect(eps[0]).toEqual({ task: 'pick_place', seed: 100000 });
    expect(eps[100]).toEqual({ task: 'stack', seed: 100000 });
    expect(episodeList(s, 'heldout_layout')).toEqual(eps);
  });

  it('the run order goes seed by seed across tasks, is the same set, and names an unknown task', () => {
    const s = validateSuite(base);
    const order = episodeOrder(s, 'heldout_layout');
    expect(order.slice(0, 3)).toEqual([{ task: 'pick_place', seed: 100000 }, { task: 'stack', seed: 100000 }, { task: 'pick_place', seed: 100001 }]);
    const key = (r: { task: string; seed: number }) => `${r.task}-${r.seed}`;
    expect(order.map(key).sort()).toEqual(episodeList(s, 'heldout_layout').map(key).sort());
    expect(episodeOrder(s, 'heldout_layout', ['stack']).slice(0, 2)).toEqual([{ task: 'stack', seed: 100000 }, { task: 'stack', seed: 100001 }]);
    expect(() => episodeOrder(s, 'heldout_layout', ['juggle'])).toThrow(/has no task "juggle" \(tasks: pick_place, stack\)/);
  });

  const cases: [string, (j: any) => void, RegExp][] = [
    ['missing name', (j) => delete j.name, /suite\.name: missing/],
    ['bad version', (j) => (j.version = 'one'), /suite\.version: expected a version/],
    ['unknown color', (j) => (j.colors[2] = 'mauve'), /suite\.colors\[2\]: unknown color "mauve"/],
    ['unknown shape', (j) => (j.shapes[0] = 'sphere'), /suite\.shapes\[0\]: unknown shape "sphere"/],
    ['bad held-out combo', (j) => (j.heldOutCombos[1] = 'pink cube'), /suite\.heldOutCombos\[1\]: "pink cube"/],
    ['unknown family', (j) => (j.tasks[1].family = 'juggle'), /suite\.tasks\[1\]\.family: expected one of pick_place, stack/],
    ['template without slot', (j) => (j.tasks[0].templates.train[2] = 'put it somewhere'), /suite\.tasks\[0\]\.templates\.train\[2\]: .* must contain both \{object\} and \{target\}/],
    ['template slot order', (j) => (j.tasks[0].templates.heldout[0] = 'into the {target} goes the {object}'), /templates\.heldout\[0\]: .* must name \{object\} before \{target\}/],
    ['color word in template', (j) => (j.tasks[0].templates.train[0] = 'put the red {object} in the {target}'), /templates\.train\[0\]: .* uses "red" outside a slot/],
    ['no train split', (j) => delete j.splits.train, /suite\.splits\.train: missing/],
    ['bad seeds', (j) => (j.splits.heldout_layout.seeds = { start: -1, count: 5 }), /suite\.splits\.heldout_layout\.seeds: expected/],
    ['bad distractors', (j) => (j.splits.train.distractors = [3, 1]), /suite\.splits\.train\.distractors: expected \[min, max\]/],
    ['bad combos', (j) => (j.splits.train.combos = 'some'), /suite\.splits\.train\.combos: expected "train", "heldout" or "all"/],
    ['bad split templates', (j) => (j.splits.train.templates = 'typed'), /suite\.splits\.train\.templates: expected "train", "heldout", "all" or "language"/],
    ['language split without language templates', (j) => (j.tasks[1].templates.language = []), /suite\.splits\.heldout_language\.templates: "language", but task "stack" has no language templates/],
    ['unknown template set', (j) => (j.tasks[0].templates.typed = []), /suite\.tasks\[0\]\.templates\.typed: unknown template set/],
    ['colour word in a language template', (j) => (j.tasks[0].templates.language[1] = 'toss the {object} in the blue {target}'), /templates\.language\[1\]: .* uses "blue" outside a slot/],
    ['synonym that is a language-template word', (j) => j.synonyms.bowl.push('toss'), /suite\.synonyms\.bowl\[\d+\]: "toss" is a template word/],
    ['split synonyms not a boolean', (j) => (j.splits.heldout_language.synonyms = 'yes'), /suite\.splits\.heldout_language\.synonyms: expected true or false/],
    ['split synonyms without a table', (j) => delete j.synonyms, /suite\.splits\.heldout_language\.synonyms: true needs the suite's "synonyms" table/],
    ['unknown field', (j) => (j.colour = []), /suite\.colour: unknown field/],
    ['bowls out of range', (j) => (j.bowls = 9), /suite\.bowls: expected an integer from 1 to 4/],
    ['duplicate task', (j) => (j.tasks[1].name = 'pick_place'), /suite\.tasks: duplicate task name "pick_place"/],
    ['synonym of an unknown thing', (j) => (j.synonyms.sphere = ['ball']), /suite\.synonyms\.sphere: "sphere" is not a colour, shape or "bowl" of this suite/],
    ['empty synonym list', (j) => (j.synonyms.cube = []), /suite\.synonyms\.cube: expected a non-empty list of words/],
    ['synonym of two things', (j) => j.synonyms.bowl.push('block'), /suite\.synonyms\.bowl\[\d+\]: "block" is already a synonym of "cube"/],
    ['synonym that is a colour', (j) => j.synonyms.cube.push('red'), /suite\.synonyms\.cube\[\d+\]: "red" is itself a colour or shape/],
    ['synonym that is a template word', (j) => j.synonyms.bowl.push('top'), /suite\.synonyms\.bowl\[\d+\]: "top" is a template word/],
    ['synonym of two words', (j) => (j.synonyms.cube[0] = 'toy block'), /suite\.synonyms\.cube\[0\]: "toy block" must be one lowercase word/],
    ['duplicate seeds', (j) => (j.splits.train.seeds = [1, 2, 2, 3, 1]), /suite\.splits\.train\.seeds: duplicate seeds 2, 1: each seed is one episode per task/],
    // a 10,000-character template is cut in the message, not repeated whole
    ['over-long template', (j) => (j.tasks[0].templates.train[0] = 'put it '.repeat(1500)), /templates\.train\[0\]: "(put it ){17}p\.\.\. \(10500 characters\)" must contain both/],
  ];
  for (const [what, mutate, msg] of cases) {
    it(`rejects ${what} with an error naming the field`, () => {
      const j = clone();
      mutate(j);
      expect(() => validateSuite(j)).toThrow(SuiteError);
      expect(() => validateSuite(j)).toThrow(msg);
      expect(() => validateSuite(j)).toThrow(/^.{0,400}$/s); // never a wall of text
    });
  }

  it('reports invalid JSON and unknown suites clearly', () => {
    expect(() => parseSuite('{"name": ', 'my.json')).toThrow(/my\.json: not valid JSON/);
    expect(() => resolveSuite('nope')).toThrow(/unknown suite "nope"/);
    expect(() => resolveSuite('missing.json', () => { throw new Error('ENOENT'); })).toThrow(/cannot read suite file "missing\.json": ENOENT/);
  });

  it('a user-written suite loads and drives episodes', () => {
    const j = clone();
    j.name = 'mini';
    j.colors = ['cyan', 'pink', 'white'];
    j.heldOutCombos = ['pink prism'];
    j.tasks = [j.tasks[1]];
    j.synonyms = { cube: ['block'] };
    const s = resolveSuite('mini.json', () => JSON.stringify(j));
    const ep = sampleEpisode(s, 'stack', 'train', 7);
    expect(ep.family).toBe('stack');
    for (const o of ep.layout.objects) expect(['cyan', 'pink', 'white']).toContain(o.color);
  });
});

describe('splits', () => {
  const s = validateSuite(base);
  const combos = comboLists(s);
  it('held-out combos never appear in train episodes; the heldout_combo split always moves one', () => {
    for (const task of ['pick_place', 'stack']) {
      for (let seed = 0; seed < 200; seed++) {
        const ep = sampleEpisode(s, task, 'train', seed);
        for (const o of ep.layout.objects) expect(combos.heldout).not.toContain(o.name);
        const h = sampleEpisode(s, task, 'heldout_combo', 200000 + seed);
        expect(combos.heldout).toContain(h.goal.object);
      }
    }
  });

  it('paraphrase split uses only held-out templates; distractor split has 4-5 distractors', () => {
    const pp = s.tasks[0].templates;
    for (let seed = 0; seed < 50; seed++) {
      expect(pp.heldout).toContain(sampleEpisode(s, 'pick_place', 'heldout_paraphrase', 300000 + seed).template);
      expect(pp.train).toContain(sampleEpisode(s, 'pick_place', 'train', seed).template);
      const n = sampleEpisode(s, 'pick_place', 'heldout_distractors', 400000 + seed).layout.objects.length - 1;
      expect(n).toBeGreaterThanOrEqual(4);
      expect(n).toBeLessThanOrEqual(5);
    }
  });

  it('the language split: the layouts and gripper starts of heldout_layout, language templates, synonyms; every instruction resolves to its goal', () => {
    let synonyms = 0;
    for (const task of ['pick_place', 'stack']) {
      const t = getTask(s, task);
      for (let seed = 100000; seed < 100100; seed++) {
        const a = sampleEpisode(s, task, 'heldout_layout', seed);
        const b = sampleEpisode(s, task, 'heldout_language', seed);
        expect(b.layout).toEqual(a.layout);
        expect(b.goal).toEqual(a.goal);
        expect(t.templates.language).toContain(b.template);
        if (!b.instruction.includes(b.goal.object) || !b.instruction.includes(b.goal.target)) synonyms++;
        const r = resolveCommand(b.instruction, { lexicon: lexiconOf(s), family: b.family, templates: t.templates, scene: { objects: b.layout.objects.map((o) => o.name), bowls: b.layout.bowls.map((x) => x.name) } });
        expect([r.object, r.target, r.ignored], b.instruction).toEqual([b.goal.object, b.goal.target, []]);
      }
    }
    // each colour/shape word with synonyms is replaced half the time: most instructions have at least one
    expect(synonyms).toBeGreaterThan(120);
    expect(synonyms).toBeLessThan(200);
    expect(sampleEpisode(s, 'pick_place', 'heldout_language', 100000).instruction).toBe(sampleEpisode(s, 'pick_place', 'heldout_language', 100000).instruction);
  });
});
