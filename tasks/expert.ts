// Scripted experts that generate demonstrations. They read privileged physics
// state (object poses) and emit the same bounded actions a policy would,
// through a small state machine: approach -> descend -> close -> lift ->
// transport -> lower -> release -> retreat -> (check) terminate, re-planning
// from the current state when a grasp slips. Phase changes take no control
// step of their own (no idle actions). Deterministic: no randomness.
import { ACTION_DIM, ACTION_HIGH, BOWL, GRIPPER, OBJECT, TCP_LIMITS } from '../sim/config.ts';
import { wrapAngle, type SimWorld } from '../sim/world.ts';
import type { EpisodeSpec } from './episode.ts';
import { bodyYaw, isSuccess } from './success.ts';

const HOVER = 0.12; // TCP height for travel (object bottom clears bowls and objects)
const CLOSE_STEPS = 3;
const RELEASE_STEPS = 3;
/** Finger gap (m) at which an opening gripper clears a released 4 cm part. */
const OPEN_GAP = 0.088;
const MAX_ATTEMPTS = 4;
/** Steps the expert waits up at hover for a released part to come to rest before re-planning. */
const SETTLE_STEPS = 4;
/** sync(): the TCP counts as over the part within this horizontal distance (m). */
const SYNC_OVER = 0.008;
/** sync(): a closed gripper narrower than this (m) holds nothing (the part is 4 cm). */
const MISSED_GAP = 0.03;

type Phase = 'approach' | 'descend' | 'close' | 'lift' | 'transport' | 'lower' | 'release' | 'retreat' | 'done';

/** Rotational symmetry of the grasp (finger axis) per shape, radians. */
const SYMMETRY: Record<string, number> = { cube: Math.PI / 2, prism: Math.PI / 3, cylinder: Math.PI / 6 };
/** Yaw of the first face normal relative to the object's yaw. */
const FACE_OFFSET: Record<string, number> = { cube: 0, prism: Math.PI / 6, cylinder: 0 };

export interface Expert {
  reset(): void;
  act(sim: SimWorld): Float32Array;
  /**
   * Re-derive the phase from the world after someone else acted (DAgger,
   * Ross et al. 2011: the expert labels states a learned policy reached).
   * Keeps the phase when it is consistent with the state, so a call after the
   * expert's own action changes nothing.
   */
  sync(sim: SimWorld): void;
  readonly phase: string;
}

export interface ExpertOptions {
  /**
   * Turn the fingers normal to a pair of the part's faces (and away from
   * neighbours) before grasping. Off by default: a 9 cm opening closes on a
   * 4 cm part at any yaw (measured on the first 300 train seeds: pick_place
   * 99.7%, stack 98.7% without; 99.3% and 99.3% with), and the part's yaw is
   * 1-2 pixels of evidence at a policy's 64-96 px input, so demos that turn
   * would teach a cloned policy an action it cannot infer from what it sees.
   */
  alignYaw?: boolean;
}

export function createExpert(ep: EpisodeSpec, opts: ExpertOptions = {}): Expert {
  return new PickAndPlaceExpert(ep, opts.alignYaw ?? false);
}

class PickAndPlaceExpert implements Expert {
  phase: Phase = 'approach';
  private counter = 0;
  private attempts = 0;
  private graspYaw = 0;
  private waited = 0;

  constructor(private readonly ep: EpisodeSpec, private readonly alignYaw: boolean) {}

  reset(): void {
    this.phase = 'approach';
    this.counter = 0;
    this.attempts = 0;
  }

  sync(sim: SimWorld): void {
    const name = this.ep.goal.object;
    const tcp = sim.tcp();
    const obj = sim.bodyState(name).pos;
    const held = sim.isGrasped(name);
    const over = Math.hypot(obj[0] - tcp.x, obj[1] - tcp.y) < SYNC_OVER;
    const set = (p: Phase) => {
      if (p === this.phase) return;
      this.phase = p;
      this.counter = 0;
      this.waited = 0;
    };
    if (isSuccess(sim, this.ep) && !held) {
      if (this.phase !== 'retreat' && this.phase !== 'done' && this.phase !== 'release') set('retreat');
      return;
    }
    this.attempts = 0; // retries are the policy's business: the expert never gives up on a state it is asked about
    if (held) {
      if (!['close', 'lift', 'transport', 'lower'].includes(this.phase)) set('lift');
      return;
    }
    switch (this.phase) {
      case 'release':
      case 'retreat':
        // Just let go: the part may still be falling or rocking, and retreat re-plans itself when it is not placed.
        return;
      case 'close':
        // Fingers closed on nothing (missed) or away from the part: open and start over.
        if (!over || (sim.gripperCommand > 0.5 && sim.gap() < MISSED_GAP)) set('approach');
        return;
      case 'descend':
        if (!over) set('approach');
        return;
      case 'approach':
        // Already above the part with the gripper open: go down, not back up to hover first.
        if (over && sim.gripperCommand < 0.5 && tcp.z < HOVER - 0.01) set('descend');
        return;
      default:
        set('approach'); // lift / transport / lower / done without the part: re-plan
    }
  }

  act(sim: SimWorld): Float32Array {
    // A phase that is complete hands over to the next one within the same
    // control step, so the expert never emits an idle step at a phase boundary.
    // Idle steps make demos non-Markovian (the same observation is followed by
    // "wait" once and by "move" the next time), and a behaviour-cloned policy
    // that picks "wait" there stalls forever.
    for (let hop = 0; hop < 8; hop++) {
      const r = this.plan(sim);
      if ('next' in r) this.phase = r.next;
      else return r.action;
    }
    throw new Error(`expert: phase machine did not settle (phase ${this.phase})`);
  }

  /** The action of the current phase, or the phase to switch to now. */
  private plan(sim: SimWorld): { action: Float32Array } | { next: Phase } {
    const tcp = sim.tcp();
    const name = this.ep.goal.object;
    const obj = sim.bodyState(name).pos;
    const [tx, ty, releaseZ] = this.placeTarget(sim);
    const at = (g: number[], tol = 0.004) => Math.hypot(g[0] - tcp.x, g[1] - tcp.y) < tol && Math.abs(g[2] - tcp.z) < 0.004 && Math.abs(wrapAngle(g[3] - tcp.yaw)) < 0.03;
    const move = (goal: number[], grip: number, terminate = 0) => ({ action: this.toAction(tcp, goal, grip, terminate) });
    const stay = [tcp.x, tcp.y, tcp.z, tcp.yaw];

    switch (this.phase) {
      case 'approach': {
        this.graspYaw = this.alignYaw ? this.chooseGraspYaw(sim, tcp.yaw) : tcp.yaw;
        // Rise first when low (after a failed attempt), then travel at hover height.
        const far = Math.hypot(obj[0] - tcp.x, obj[1] - tcp.y) > 0.01;
        if (tcp.z < HOVER - 0.02 && far) return move([tcp.x, tcp.y, HOVER, tcp.yaw], 0);
        const goal = [obj[0], obj[1], HOVER, this.graspYaw];
        return at(goal) ? { next: 'descend' } : move(goal, 0);
      }
      case 'descend': {
        const goal = [obj[0], obj[1], Math.max(TCP_LIMITS.zMin, obj[2] + 0.002), this.graspYaw];
        if (at(goal, 0.006)) {
          this.counter = 0;
          return { next: 'close' };
        }
        return move(goal, 0);
      }
      case 'close':
        // Lift as soon as the fingers hold the part (one step of closing is
        // usually enough); re-plan when they still do not after CLOSE_STEPS.
        if (sim.gripperCommand > 0.5 && sim.isGrasped(name)) return { next: 'lift' };
        if (this.counter++ >= CLOSE_STEPS) return { next: this.retry() };
        return move(stay, 1);
      case 'lift': {
        if (!sim.isGrasped(name)) return { next: this.retry() };
        const goal = [tcp.x, tcp.y, HOVER, tcp.yaw];
        return at(goal) ? { next: 'transport' } : move(goal, 1);
      }
      case 'transport': {
        // Aim the *object* (not the TCP) at the target: the grasp rarely
        // centres it between the fingers.
        if (!sim.isGrasped(name)) return { next: this.retry() };
        const goal = [tx - (obj[0] - tcp.x), ty - (obj[1] - tcp.y), HOVER, tcp.yaw];
        if (!at(goal, 0.003)) return move(goal, 1);
        this.counter = 0;
        return { next: 'lower' };
      }
      case 'lower': {
        // Keep the part aimed at the target on the way down (corrects drift).
        const goal = [tx - (obj[0] - tcp.x), ty - (obj[1] - tcp.y), releaseZ, tcp.yaw];
        if (!at(goal)) return move(goal, 1);
        // Down: let a part that still swings from the transport settle
        // (rarely more than a step) before opening.
        const still = Math.hypot(...sim.bodyState(name).linvel) < 0.03;
        if (!still && ++this.counter <= 8) return move(goal, 1);
        this.counter = 0;
        return { next: 'release' };
      }
      case 'release':
        // Open until the fingers clear the part, then retreat.
        if ((sim.gripperCommand < 0.5 && sim.gap() > OPEN_GAP) || this.counter++ >= RELEASE_STEPS) {
          this.counter = 0;
          this.waited = 0;
          return { next: 'retreat' };
        }
        return move(stay, 0);
      case 'retreat': {
        // Rise to hover height; terminate after two successive successful
        // checks on the way (a part that is still rocking can slide off),
        // re-plan when the part is not placed once up.
        const goal = [tcp.x, tcp.y, HOVER, tcp.yaw];
        if (tcp.z > releaseZ + 0.02) this.counter = isSuccess(sim, this.ep) ? this.counter + 1 : 0;
        if (this.counter >= 2) return { next: 'done' };
        if (!at(goal)) return move(goal, 0);
        // Up, not placed (yet): give a rocking part a few steps, then re-plan.
        return this.counter === 0 && ++this.waited > SETTLE_STEPS ? { next: this.retry() } : move(goal, 0);
      }
      case 'done':
        return move(stay, 0, 1);
    }
  }

  private retry(): Phase {
    this.attempts++;
    return this.attempts >= MAX_ATTEMPTS ? 'done' : 'approach';
  }

  /** Where to put the object: bowl centre, or on top of the base object. */
  private placeTarget(sim: SimWorld): [number, number, number] {
    if (this.ep.family === 'pick_place') {
      const b = sim.layout.bowls.find((x) => x.name === this.ep.goal.target)!;
      return [b.x, b.y, BOWL.wallHeight + OBJECT.half + 0.02];
    }
    const base = sim.bodyState(this.ep.goal.target).pos;
    return [base[0], base[1], base[2] + 2 * OBJECT.half + 0.006];
  }

  /**
   * Grasp yaw: the finger axis must be normal to a pair of parallel faces.
   * Among symmetric choices, keep the fingers furthest from neighbours, then
   * the one closest to the current yaw.
   */
  private chooseGraspYaw(sim: SimWorld, current: number): number {
    const o = sim.layout.objects.find((x) => x.name === this.ep.goal.object)!;
    const sym = SYMMETRY[o.shape];
    const base = bodyYaw(sim, o.name) + FACE_OFFSET[o.shape];
    const objPos = sim.bodyState(o.name).pos;
    const neighbours = [
      ...sim.layout.objects.filter((x) => x.name !== o.name).map((x) => ({ p: sim.bodyState(x.name).pos, r: OBJECT.half * 1.5 })),
      ...sim.layout.bowls.map((b) => ({ p: [b.x, b.y, 0], r: (BOWL.innerHalf + BOWL.wall) * Math.SQRT2 })),
    ];
    const reach = GRIPPER.maxOpening / 2 + 2 * GRIPPER.fingerHalf[0];
    let best = current, bestScore = -Infinity;
    for (let k = 0; k * sym < Math.PI - 1e-9; k++) {
      const yaw = wrapAngle(base + k * sym);
      // Fingers are pi-symmetric: pick the equivalent yaw nearest the current one.
      const y = Math.abs(wrapAngle(yaw - current)) <= Math.PI / 2 ? yaw : wrapAngle(yaw + Math.PI);
      let clearance = 0.05;
      for (const side of [-1, 1]) {
        const fx = objPos[0] + side * reach * Math.cos(y), fy = objPos[1] + side * reach * Math.sin(y);
        for (const n of neighbours) clearance = Math.min(clearance, Math.hypot(fx - n.p[0], fy - n.p[1]) - n.r);
      }
      const score = Math.min(clearance, 0.03) * 100 - Math.abs(wrapAngle(y - current));
      if (score > bestScore) { bestScore = score; best = y; }
    }
    return best;
  }

  private toAction(tcp: { x: number; y: number; z: number; yaw: number }, goal: number[], grip: number, terminate: number): Float32Array {
    const a = new Float32Array(ACTION_DIM);
    const clip = (v: number, i: number) => Math.max(-ACTION_HIGH[i], Math.min(ACTION_HIGH[i], v));
    a[0] = clip(goal[0] - tcp.x, 0);
    a[1] = clip(goal[1] - tcp.y, 1);
    a[2] = clip(goal[2] - tcp.z, 2);
    a[3] = clip(wrapAngle(goal[3] - tcp.yaw), 3);
    a[4] = grip;
    a[5] = terminate;
    return a;
  }
}
