// The demo's command box logic, free of the DOM so it is tested in Node:
// how a command reads in the current scene before it runs (object ->
// destination, or the problem), example commands that resolve in the scene,
// and a command history (up/down, kept in localStorage by the page).
import { InstructionError } from '../../../tasks/grammar.ts';
import { resolveCommand, type CommandReading } from '../../../tasks/command.ts';
import type { EpisodeSpec } from '../../../tasks/episode.ts';
import { getTask, lexiconOf, type SuiteSpec } from '../../../tasks/suite.ts';

export type Preview = { ok: true; reading: CommandReading; line: string } | { ok: false; error: string };

/** Reads `text` against the episode's scene, as VlaEnv.reset would; never throws for a bad command. */
export function previewCommand(text: string, ep: EpisodeSpec, suite: SuiteSpec): Preview {
  const task = getTask(suite, ep.task);
  try {
    const reading = resolveCommand(text, {
      lexicon: lexiconOf(suite), family: ep.family, templates: task.templates,
      scene: { objects: ep.layout.objects.map((o) => o.name), bowls: ep.layout.bowls.map((b) => b.name) },
    });
    const q = (phrase: string, name: string) => (phrase === name ? '' : ` ("${phrase}")`);
    const line = `${reading.object}${q(reading.objectPhrase, reading.object)} → ${reading.target}${q(reading.targetPhrase, reading.target)}${reading.ignored.length ? ` · ignored: ${reading.ignored.join(' ')}` : ''}`;
    return { ok: true, reading, line };
  } catch (e) {
    if (e instanceof InstructionError) return { ok: false, error: e.message };
    throw e;
  }
}

/**
 * Up to `n` commands that resolve in this scene: the sampled goal as the
 * suite says it, the same goal in other words (a held-out template and the
 * suite's synonyms), then other goals. Each is checked with previewCommand.
 */
export function exampleCommands(ep: EpisodeSpec, suite: SuiteSpec, n = 4): string[] {
  const task = getTask(suite, ep.task);
  const other = (name: string) => {
    const [color, noun] = name.split(' ');
    const syn = (w: string) => suite.synonyms[w]?.[0] ?? w;
    return `${syn(color)} ${syn(noun)}`;
  };
  const fill = (t: string, o: string, d: string) => t.replaceAll('{object}', o).replaceAll('{target}', d);
  const { object, target } = ep.goal;
  const cands = [
    fill(task.templates.train[0], object, target),
    fill(task.templates.heldout[0] ?? task.templates.train[1] ?? task.templates.train[0], other(object), other(target)),
  ];
  const objects = ep.layout.objects.map((o) => o.name);
  const dests = ep.family === 'pick_place' ? ep.layout.bowls.map((b) => b.name) : objects;
  for (const o of objects) for (const d of dests) {
    if (o === d || (o === object && d === target)) continue;
    cands.push(fill(task.templates.train[(cands.length - 1) % task.templates.train.length], o, d));
  }
  const out: string[] = [];
  for (const c of cands) if (out.length < n && !out.includes(c) && previewCommand(c, ep, suite).ok) out.push(c);
  return out;
}

/** The part of Web Storage the history uses (localStorage in the page, a Map in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Shell-style history: push() appends (skipping a repeat of the last entry),
 * up() walks back from the newest, down() forward and finally back to the
 * text that was being typed before walking.
 */
export class CommandHistory {
  private entries: string[];
  private cursor = -1;
  private draft = '';

  constructor(private readonly store: KeyValueStore | null = null, private readonly key = 'vlalab.commands', private readonly limit = 50) {
    let saved: unknown = [];
    try {
      saved = JSON.parse(store?.getItem(key) ?? '[]');
    } catch { /* a corrupt entry starts an empty history */ }
    this.entries = Array.isArray(saved) ? saved.filter((s): s is string => typeof s === 'string').slice(-limit) : [];
  }

  get list(): readonly string[] {
    return this.entries;
  }

  push(text: string): void {
    const t = text.trim();
    this.cursor = -1;
    if (!t || this.entries[this.entries.length - 1] === t) return;
    this.entries = [...this.entries.filter((e) => e !== t), t].slice(-this.limit);
    try {
      this.store?.setItem(this.key, JSON.stringify(this.entries));
    } catch { /* storage full or blocked: the history still works for this page */ }
  }

  /** The previous entry (older), or null at the oldest; `current` is kept as the draft on the first step. */
  up(current: string): string | null {
    if (this.entries.length === 0) return null;
    if (this.cursor === -1) {
      this.draft = current;
      this.cursor = this.entries.length;
    }
    if (this.cursor === 0) return null;
    return this.entries[--this.cursor];
  }

  /** The next entry (newer); past the newest, the draft typed before walking. Null when not walking. */
  down(): string | null {
    if (this.cursor === -1) return null;
    if (++this.cursor >= this.entries.length) {
      this.cursor = -1;
      return this.draft;
    }
    return this.entries[this.cursor];
  }
}
