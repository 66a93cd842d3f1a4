// The task interface the env runs. sim/ knows physics, rendering and the
// Gymnasium loop; what an episode is (scene sampling, instruction, typed
// commands, success) comes from a task implementing this interface
// (tasks/env.ts binds a suite's task and split to it), so the floor imports
// nothing from above.
import type { Layout } from './layout.ts';
import type { SimWorld } from './world.ts';

/** What the env needs of an episode: its identity (seeds observation noise), the scene, the instruction, the step budget. */
export interface SimEpisode {
  task: string;
  seed: number;
  layout: Layout;
  /** What observations carry to the policy. */
  instruction: string;
  /** Steps before truncation. */
  maxSteps: number;
}

/** reset()'s options; a task may take more (a typed command, a language probe, ...). */
export interface ResetOptions {
  seed: number;
}

export interface EnvTask<E extends SimEpisode = SimEpisode, R extends ResetOptions = ResetOptions> {
  /**
   * The episode reset(options) starts: a pure function of the options, so the
   * same seed gives the same episode. Throws when an option does not fit the
   * scene (a typed command naming what is not there).
   */
  episode(options: R): E;
  /** The success predicate on the world state (reward 1 and info.success when it holds). */
  isSuccess(world: SimWorld, episode: E): boolean;
}
