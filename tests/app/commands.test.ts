import { describe, expect, it } from 'vitest';
import { CommandHistory, exampleCommands, previewCommand } from '../../src/app/demo/commands.ts';
import { parseState, stateToSearch } from '../../src/app/demo/urlState.ts';
import { DEFAULT_SUITE, resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { SuiteEnv } from '../../tasks/env.ts';

const suite = resolveSuite(DEFAULT_SUITE);
const tasks = suite.tasks.map((t) => t.name);

describe('command preview and examples', () => {
  it('reads a command as object -> destination before running, or says what is wrong', () => {
    const ep = sampleEpisode(suite, 'pick_place', 'train', 0);
    const obj = ep.layout.objects[0], bowl = ep.layout.bowls[1];
    const p = previewCommand(`please drop the ${obj.color} ${obj.shape === 'cube' ? 'block' : obj.shape} into the ${bowl.color} dish gently`, ep, suite);
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.reading.object).toBe(obj.name);
      expect(p.reading.target).toBe(bowl.name);
      expect(p.line).toMatch(new RegExp(`^${obj.name}.* → ${bowl.name} \\("${bowl.color} dish"\\) · ignored: gently$`));
    }
    const bad = previewCommand('put the purple prism in the bowl', ep, suite);
    expect(bad).toMatchObject({ ok: false });
    if (!bad.ok) expect(bad.error).toMatch(/purple prism|could be/);
    expect(previewCommand('', ep, suite).ok).toBe(false);
  });

  it('offers examples that resolve in the scene, starting with the sampled goal, for both tasks', async () => {
    for (const task of tasks) for (const seed of [0, 5, 11]) {
      const ep = sampleEpisode(suite, task, 'train', seed);
      const ex = exampleCommands(ep, suite);
      expect(ex.length, `${task} ${seed}`).toBeGreaterThanOrEqual(3);
      expect(new Set(ex).size).toBe(ex.length);
      const first = previewCommand(ex[0], ep, suite);
      expect(first.ok && first.reading.object === ep.goal.object && first.reading.target === ep.goal.target).toBe(true);
      const second = previewCommand(ex[1], ep, suite);
      expect(second.ok && second.reading.object === ep.goal.object && second.reading.target === ep.goal.target).toBe(true);
      expect(ex[1]).not.toBe(ex[0]);
      // and the environment accepts every one of them as a typed command (physics only)
      const env = new SuiteEnv({ suite, task, split: 'train' });
      for (const c of ex) {
        const [, { episode }] = await env.reset({ seed, instruction: c });
        expect(episode.command?.text).toBe(c);
      }
      env.close();
    }
  });
});

describe('command history', () => {
  it('walks back with up, forward with down, and restores the draft', () => {
    const store = new Map<string, string>();
    const kv = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const h = new CommandHistory(kv);
    h.push('put the red cube in the blue bowl');
    h.push('stack the red cube on the green prism');
    h.push('stack the red cube on the green prism'); // repeat of the last: kept once
    h.push('  ');
    expect(h.list).toEqual(['put the red cube in the blue bowl', 'stack the red cube on the green prism']);
    expect(h.up('half typed')).toBe('stack the red cube on the green prism');
    expect(h.up('ignored')).toBe('put the red cube in the blue bowl');
    expect(h.up('ignored')).toBeNull();
    expect(h.down()).toBe('stack the red cube on the green prism');
    expect(h.down()).toBe('half typed');
    expect(h.down()).toBeNull();
    // persisted: a new page reads it back; a re-used entry moves to the end
    const again = new CommandHistory(kv);
    again.push('put the red cube in the blue bowl');
    expect(again.list).toEqual(['stack the red cube on the green prism', 'put the red cube in the blue bowl']);
    store.set('vlalab.commands', '{not json');
    expect(new CommandHistory(kv).list).toEqual([]);
  });
});

describe('URL state', () => {
  it('round-trips every field, including a command with spaces and punctuation', () => {
    const s = { task: 'stack', seed: 42, policy: 'ckpt:vit-siglip', backend: 'wasm' as const, command: 'put the red block on the "blue" prism?' };
    const back = parseState(stateToSearch(s), tasks);
    expect(back).toEqual({ state: s, problems: [], given: true });
    expect(parseState('', tasks)).toEqual({ state: { task: 'pick_place', seed: 0, policy: 'expert', backend: 'auto', command: '' }, problems: [], given: false });
  });

  it('names each bad field and keeps its default', () => {
    const r = parseState('?task=juggle&seed=-3&policy=../../etc&backend=tpu&cmd=hi', tasks);
    expect(r.state).toEqual({ task: 'pick_place', seed: 0, policy: 'expert', backend: 'auto', command: 'hi' });
    expect(r.problems).toHaveLength(4);
    expect(r.problems.join('\n')).toMatch(/task "juggle"[^]*seed "-3"[^]*policy "..\/..\/etc"[^]*backend "tpu"/);
  });

  it('carries a remote policy server by its address, and names one that is not HOST:PORT', () => {
    for (const server of ['127.0.0.1:8765', '[::1]:80', 'gpu-box.lan:9000']) {
      const s = { task: 'pick_place', seed: 3, policy: `remote:${server}`, backend: 'auto' as const, command: '' };
      expect(parseState(stateToSearch(s), tasks)).toEqual({ state: s, problems: [], given: true });
    }
    for (const bad of ['remote:127.0.0.1', 'remote:host:99999', 'remote:a/b:80', 'remote:']) {
      const r = parseState(`?policy=${encodeURIComponent(bad)}`, tasks);
      expect(r.state.policy).toBe('expert');
      expect(r.problems).toEqual([`policy "${bad}" is not expert, ckpt:<name>, preset:<name> or remote:HOST:PORT`]);
    }
  });
});
