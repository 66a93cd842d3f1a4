// A suite's task as the env's task (sim/task.ts EnvTask): episode sampling,
// robustness perturbations, typed commands checked against the scene,
// language probes and the success predicate, bound to one (suite, task,
// split). SuiteEnv is the VlaEnv that runs it; the env registry's ids are
// built from it (tasks/envRegistry.ts).
import { VlaEnv, type EnvOptions } from '../sim/env.ts';
import type { EnvTask } from '../sim/task.ts';
import { resolveCommand } from './command.ts';
import { sampleEpisode, type EpisodeSpec } from './episode.ts';
import { applyProbe, type LanguageProbe } from './probes.ts';
import { isSuccess } from './success.ts';
import { getTask, lexiconOf, type SuiteSpec } from './suite.ts';

export interface SuiteEnvOptions extends EnvOptions {
  suite: SuiteSpec;
  task: string;
  split: string;
  /**
   * Changes each sampled episode before its world is built (robustness
   * levels: tasks/perturbation.ts); applied on every reset, before a typed
   * instruction is resolved.
   */
  perturbEpisode?: (ep: EpisodeSpec) => EpisodeSpec;
}

/** Which text of a typed command the policy sees (SuiteEnv.reset). */
export type PolicyInstruction = 'canonical' | 'typed';

/**
 * SuiteEnv.reset's options. `instruction` overrides the sampled one (a typed
 * command): it must resolve to one object and one destination of the scene,
 * else InstructionError (tasks/command.ts). What the policy then sees is
 * `policyInstruction`: 'canonical' (default) the suite's train-template
 * rendering of the resolved goal, for policies whose instruction encoder
 * only knows the suite's templates; 'typed' the text as typed, for a
 * pretrained sentence encoder (policy config textEncoderKind 'use-lite').
 * `probe` (a counterfactual language probe, tasks/probes.ts) instead gives
 * the policy its text unparsed, even garbled or empty, and makes what it
 * names the goal.
 */
export interface SuiteResetOptions {
  seed: number;
  instruction?: string;
  policyInstruction?: PolicyInstruction;
  probe?: LanguageProbe;
}

/** A suite's task and split as an EnvTask. Throws at once on an unknown task. */
export function suiteTask(suite: SuiteSpec, task: string, split: string, perturb?: (ep: EpisodeSpec) => EpisodeSpec): EnvTask<EpisodeSpec, SuiteResetOptions> {
  getTask(suite, task); // fail fast on an unknown task
  return {
    episode: (o) => {
      let ep = sampleEpisode(suite, task, split, o.seed);
      if (perturb) ep = perturb(ep);
      if (o.instruction !== undefined && o.probe !== undefined) throw new Error('reset: pass a typed instruction or a probe, not both');
      if (o.instruction !== undefined) ep = withInstruction(ep, o.instruction, suite, o.policyInstruction);
      if (o.probe !== undefined) ep = applyProbe(ep, o.probe);
      return ep;
    },
    isSuccess,
  };
}

/** The env of one task of a suite, sampling episodes from one split. */
export class SuiteEnv extends VlaEnv<EpisodeSpec, SuiteEnvOptions, SuiteResetOptions> {
  constructor(opts: SuiteEnvOptions) {
    super(suiteTask(opts.suite, opts.task, opts.split, opts.perturbEpisode), opts);
  }
}

/**
 * Replace an episode's instruction by a typed command after resolving it in
 * the scene. The episode's `instruction` (what observations carry to the
 * policy) is the canonical rendering or the typed text (`policyInstruction`);
 * `command` keeps how it was read.
 */
export function withInstruction(ep: EpisodeSpec, instruction: string, suite: SuiteSpec, policyInstruction: PolicyInstruction = 'canonical'): EpisodeSpec {
  if (policyInstruction !== 'canonical' && policyInstruction !== 'typed') throw new Error(`policyInstruction must be 'canonical' or 'typed', got ${JSON.stringify(policyInstruction)}`);
  const task = getTask(suite, ep.task);
  const command = resolveCommand(instruction, {
    lexicon: lexiconOf(suite), family: ep.family, templates: task.templates,
    scene: { objects: ep.layout.objects.map((o) => o.name), bowls: ep.layout.bowls.map((b) => b.name) },
  });
  return { ...ep, instruction: policyInstruction === 'typed' ? instruction : command.canonical, template: '(typed)', goal: { object: command.object, target: command.target }, command };
}
