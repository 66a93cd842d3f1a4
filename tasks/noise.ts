// DART-style noise injection for demonstration collection (Laskey et al.,
// "DART: Noise Injection for Robust Imitation Learning", arXiv:1703.09327).
// The robot executes the expert's action plus Gaussian noise on the motion
// dimensions, while the dataset records the expert's clean action as the
// label. The demos then visit states slightly off the expert's path, each
// labelled with the correction back to it: exactly the states a cloned policy
// drifts into, so it learns to recover instead of compounding its errors.
// The expert re-plans from the current state every step, so its labels stay
// correct under the perturbation.
import { ACTION_HIGH } from '../sim/config.ts';
import { Rng } from '../sim/rng.ts';

/** Motion dimensions perturbed: dx, dy, dz, dyaw (gripper and terminate stay clean). */
export const NOISE_DIMS = [0, 1] as const;

export class ActionNoise {
  private readonly rng: Rng;

  /**
   * @param scale noise standard deviation as a fraction of each motion
   *   dimension's bound (0.2 = 5 mm per step on dx/dy/dz, 0.05 rad on dyaw);
   *   0 disables it.
   * @param seed the episode seed: the same episode always gets the same noise.
   */
  constructor(readonly scale: number, seed: number) {
    if (!(scale >= 0) || scale > 1) throw new Error(`noise scale must be in [0, 1], got ${scale}`);
    this.rng = new Rng((seed ^ 0x5eed0d47) >>> 0);
  }

  /** The action to execute: `label` plus noise (terminating actions are executed as they are). */
  perturb(label: Float32Array): Float32Array {
    const a = label.slice();
    if (this.scale === 0 || a[5] > 0.5) return a;
    for (const d of NOISE_DIMS) a[d] += this.scale * ACTION_HIGH[d] * this.gauss();
    return a;
  }

  /** Standard normal (Box-Muller). */
  private gauss(): number {
    const u = 1 - this.rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.rng.next());
  }
}
