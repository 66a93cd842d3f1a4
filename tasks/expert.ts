// Scripted experts that generate demonstrations. They read privileged physics
// state (object poses) and emit the same bounded actions a policy would,
// through a small state machine: approach -> descend -> close -> lift ->
// transport -> lower -> release -> retreat -> (check) terminate, re-planning
// from the current state when a grasp slips. Deterministic: no randomness.
import { ACTION_DIM, ACTION_HIGH, BOWL, GRIPPER, OBJECT, TCP_LIMITS } from '../sim/config.ts';
import { wrapAngle, type SimWorld } from '../sim/world.ts';
import type { EpisodeSpec } from './episode.ts';
import { bodyYaw, isSuccess } from './success.ts';

const HOVER = 0.12; // TCP height for travel (object bottom clears bowls and objects)
const CLOSE_STEPS = 3;
const RELEASE_STEPS = 3;
const MAX_ATTEMPTS = 4;

type Phase = 'approach' | 'descend' | 'close' | 'lift' | 'transport' | 'align' | 'lower' | 'release' | 'retreat' | 'done';

/** Rotational symmetry of the grasp (finger axis) per shape, radians. */
const SYMMETRY: Record<string, number> = { cube: Math.PI / 2, prism: Math.PI / 3, cylinder: Math.PI / 6 };
/** Yaw of the first face normal relative to the object's yaw. */
const FACE_OFFSET: Record<string, number> = { cube: 0, prism: Math.PI / 6, cylinder: 0 };

export interface Expert {
  reset(): void;
  act(sim: SimWorld): Float32Array;
  readonly phase: string;
}

export function createExpert(ep: EpisodeSpec): Expert {
  return new PickAndPlaceExpert(ep);
}

class PickAndPlaceExpert implements Expert {
  phase: Phase = 'approach';
  private counter = 0;
  private attempts = 0;
  private graspYaw = 0;

  constructor(private readonly ep: EpisodeSpec) {}

  reset(): void {
    this.phase = 'approach';
    this.counter = 0;
    this.attempts = 0;
  }

  act(sim: SimWorld): Float32Array {
    const tcp = sim.tcp();
    const obj = sim.bodyState(this.ep.goal.object).pos;
    const [tx, ty, releaseZ] = this.placeTarget(sim);
    let goal: [number, number, number, number] = [tcp.x, tcp.y, tcp.z, tcp.yaw];
    let grip = 0;
    let terminate = 0;
    const at = (g: number[], tol = 0.004) => Math.hypot(g[0] - tcp.x, g[1] - tcp.y) < tol && Math.abs(g[2] - tcp.z) < 0.004 && Math.abs(wrapAngle(g[3] - tcp.yaw)) < 0.03;

    switch (this.phase) {
      case 'approach': {
        this.graspYaw = this.chooseGraspYaw(sim, tcp.yaw);
        // Rise first when low (after a failed attempt), then travel at hover height.
        const far = Math.hypot(obj[0] - tcp.x, obj[1] - tcp.y) > 0.01;
        const rising = tcp.z < HOVER - 0.02 && far;
        goal = rising ? [tcp.x, tcp.y, HOVER, tcp.yaw] : [obj[0], obj[1], HOVER, this.graspYaw];
        if (!rising && at(goal)) this.phase = 'descend';
        break;
      }
      case 'descend': {
        goal = [obj[0], obj[1], Math.max(TCP_LIMITS.zMin, obj[2] + 0.002), this.graspYaw];
        if (at(goal, 0.006)) { this.phase = 'close'; this.counter = 0; }
        break;
      }
      case 'close':
        grip = 1;
        if (++this.counter >= CLOSE_STEPS) this.phase = sim.isGrasped(this.ep.goal.object) ? 'lift' : this.retry();
        break;
      case 'lift':
        grip = 1;
        goal = [tcp.x, tcp.y, HOVER, tcp.yaw];
        if (!sim.isGrasped(this.ep.goal.object)) this.phase = this.retry();
        else if (at(goal)) this.phase = 'transport';
        break;
      case 'transport':
        grip = 1;
        goal = [tx, ty, HOVER, tcp.yaw];
        if (!sim.isGrasped(this.ep.goal.object)) this.phase = this.retry();
        else if (at(goal, 0.004)) { this.phase = 'align'; this.counter = 0; }
        break;
      case 'align': {
        // Stationary now: aim the *object* (not the TCP) at the target, since
        // the grasp rarely centres it between the fingers.
        grip = 1;
        const s = sim.bodyState(this.ep.goal.object);
        goal = [tx - (obj[0] - tcp.x), ty - (obj[1] - tcp.y), HOVER, tcp.yaw];
        const still = Math.hypot(...s.linvel) < 0.03;
        if (!sim.isGrasped(this.ep.goal.object)) this.phase = this.retry();
        else if ((still && at(goal, 0.002)) || ++this.counter > 8) this.phase = 'lower';
        break;
      }
      case 'lower':
        grip = 1;
        goal = [tcp.x, tcp.y, releaseZ, tcp.yaw];
        if (at(goal, 0.004)) { this.phase = 'release'; this.counter = 0; }
        break;
      case 'release':
        goal = [tcp.x, tcp.y, releaseZ, tcp.yaw];
        if (++this.counter >= RELEASE_STEPS) { this.phase = 'retreat'; this.counter = 0; }
        break;
      case 'retreat':
        goal = [tcp.x, tcp.y, HOVER, tcp.yaw];
        if (tcp.z > releaseZ + 0.04) {
          // Two successive successes: a part that is still rocking can slide off.
          this.counter = isSuccess(sim, this.ep) ? this.counter + 1 : 0;
          if (this.counter >= 2) { this.phase = 'done'; terminate = 1; }
          else if (at(goal) && this.counter === 0) this.phase = this.retry();
        }
        break;
      case 'done':
        terminate = 1;
        break;
    }
    return this.toAction(tcp, goal, grip, terminate);
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
