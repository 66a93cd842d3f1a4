// The Rapier world of one episode: table, bowls, objects and a parallel-jaw
// gripper on a floating (kinematic) palm. Built from a Layout; rebuilt on every
// reset (~ms), which is both fast and trivially deterministic.
//
// The gripper design follows the measured prototype in shared/notes: dynamic
// fingers on prismatic joints driven by force-limited velocity motors grasp 4 cm
// parts reliably at 60–240 Hz, where strong position motors push fingers through.
import RAPIER from '@dimforge/rapier3d-compat';
import {
  BOWL, CONTACT_NATURAL_FREQUENCY, GRIPPER, OBJECT, PHYSICS_HZ, SUBSTEPS, TABLE, TCP_HOME,
} from './config.ts';
import { bodyVisuals, colliderDescsFor, shapeVisual, type Layout } from './layout.ts';
import type { Quat, SceneDescription, Vec3 } from './types.ts';

let initPromise: Promise<void> | null = null;
/** Loads Rapier's wasm once per JS realm. Every entry point awaits this. */
export function initPhysics(): Promise<void> {
  initPromise ??= RAPIER.init();
  return initPromise;
}

export const yawQuat = (yaw: number): Quat => [0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)];
export function quatYaw(q: { x: number; y: number; z: number; w: number }): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}
export const wrapAngle = (a: number): number => {
  const t = (a + Math.PI) % (2 * Math.PI);
  return (t <= 0 ? t + 2 * Math.PI : t) - Math.PI;
};

export interface BodyState {
  pos: Vec3;
  quat: Quat;
  linvel: Vec3;
}

/** Tool pose: TCP position and yaw about world z. */
export interface TcpPose {
  x: number;
  y: number;
  z: number;
  yaw: number;
}

export class SimWorld {
  readonly world: RAPIER.World;
  readonly layout: Layout;
  private readonly palm: RAPIER.RigidBody;
  private readonly fingers: [RAPIER.RigidBody, RAPIER.RigidBody];
  private readonly fingerJoints: [RAPIER.PrismaticImpulseJoint, RAPIER.PrismaticImpulseJoint];
  private readonly fingerColliders: [RAPIER.Collider, RAPIER.Collider];
  /** Bodies in SceneDescription order (renderer contract). */
  private readonly bodies: RAPIER.RigidBody[] = [];
  private readonly names: string[] = [];
  readonly objectBodies = new Map<string, RAPIER.RigidBody>();
  readonly objectColliders = new Map<string, RAPIER.Collider>();
  private tcpPose: TcpPose;
  private lastGripperCmd = 0;
  private freed = false;

  /** Call `await initPhysics()` first. */
  constructor(layout: Layout) {
    this.layout = layout;
    const world = new RAPIER.World({ x: 0, y: 0, z: -9.81 });
    world.timestep = 1 / PHYSICS_HZ;
    world.integrationParameters.contact_natural_frequency = CONTACT_NATURAL_FREQUENCY;
    world.integrationParameters.numSolverIterations = 8;
    this.world = world;

    const table = world.createRigidBody(RAPIER.RigidBodyDesc.fixed().setTranslation(0, 0, -TABLE.thickness / 2));
    world.createCollider(RAPIER.ColliderDesc.cuboid(TABLE.halfX, TABLE.halfY, TABLE.thickness / 2).setFriction(0.8), table);
    this.track('table', table);

    for (const b of layout.bowls) {
      const body = world.createRigidBody(RAPIER.RigidBodyDesc.fixed().setTranslation(b.x, b.y, 0).setRotation(q(yawQuatObj(b.yaw))));
      for (const d of colliderDescsFor({ type: 'bowl', ...BOWL })) world.createCollider(d.setFriction(0.6), body);
      this.track(b.name, body);
    }
    for (const o of layout.objects) {
      const body = world.createRigidBody(
        RAPIER.RigidBodyDesc.dynamic()
          .setTranslation(o.x, o.y, OBJECT.half + 1e-4)
          .setRotation(yawQuatObj(o.yaw))
          .setCanSleep(false) // a moving kinematic palm does not wake sleepers (notes, pitfall 3)
          .setAngularDamping(2),
      );
      const [desc] = colliderDescsFor(shapeVisual(o.shape));
      const col = world.createCollider(desc.setMass(OBJECT.mass).setFriction(OBJECT.friction).setRestitution(OBJECT.restitution), body);
      this.objectBodies.set(o.name, body);
      this.objectColliders.set(o.name, col);
      this.track(o.name, body);
    }

    // Gripper: kinematic palm + two dynamic fingers on prismatic joints along the palm's x axis.
    const start = layout.gripperStart ?? { x: TCP_HOME[0], y: TCP_HOME[1], z: TCP_HOME[2], yaw: 0 };
    this.tcpPose = { ...start };
    const palmPos = { x: start.x, y: start.y, z: start.z + GRIPPER.tcpBelowPalm };
    this.palm = world.createRigidBody(
      RAPIER.RigidBodyDesc.kinematicPositionBased().setTranslation(palmPos.x, palmPos.y, palmPos.z).setRotation(yawQuatObj(start.yaw)),
    );
    const [phx, phy, phz] = GRIPPER.palmHalf;
    world.createCollider(RAPIER.ColliderDesc.cuboid(phx, phy, phz), this.palm);
    this.track('palm', this.palm);

    const [fhx, fhy, fhz] = GRIPPER.fingerHalf;
    const below = -(phz + fhz);
    const fingers: RAPIER.RigidBody[] = [];
    const joints: RAPIER.PrismaticImpulseJoint[] = [];
    const cols: RAPIER.Collider[] = [];
    for (const side of [-1, 1] as const) {
      const off = side * (GRIPPER.maxOpening / 2 + fhx);
      const c = Math.cos(start.yaw), s = Math.sin(start.yaw);
      const body = world.createRigidBody(
        RAPIER.RigidBodyDesc.dynamic()
          .setTranslation(palmPos.x + c * off, palmPos.y + s * off, palmPos.z + below)
          .setRotation(yawQuatObj(start.yaw))
          .setCanSleep(false)
          .setGravityScale(0), // the joint carries the finger; gravity only adds sag
      );
      const col = world.createCollider(
        RAPIER.ColliderDesc.cuboid(fhx, fhy, fhz).setMass(GRIPPER.fingerMass).setFriction(GRIPPER.fingerFriction)
          .setFrictionCombineRule(RAPIER.CoefficientCombineRule.Max),
        body,
      );
      const jd = RAPIER.JointData.prismatic({ x: 0, y: 0, z: below }, { x: 0, y: 0, z: 0 }, { x: 1, y: 0, z: 0 });
      jd.limitsEnabled = true;
      jd.limits = side < 0 ? [-(GRIPPER.maxOpening / 2 + fhx), -fhx] : [fhx, GRIPPER.maxOpening / 2 + fhx];
      const joint = world.createImpulseJoint(jd, this.palm, body, true) as RAPIER.PrismaticImpulseJoint;
      joint.setContactsEnabled(false);
      joint.configureMotorModel(RAPIER.MotorModel.ForceBased);
      joint.setMotorMaxForce(GRIPPER.motorMaxForce);
      fingers.push(body);
      joints.push(joint);
      cols.push(col);
      this.track(side < 0 ? 'finger_l' : 'finger_r', body);
    }
    this.fingers = [fingers[0], fingers[1]];
    this.fingerJoints = [joints[0], joints[1]];
    this.fingerColliders = [cols[0], cols[1]];
    // Let the scene settle (objects were placed 0.1 mm above the table).
    for (let i = 0; i < 6; i++) this.stepPhysics(this.tcpPose, 0);
  }

  private track(name: string, body: RAPIER.RigidBody): void {
    this.names.push(name);
    this.bodies.push(body);
  }

  /** Static visual description for renderers, bodies in PoseBuffer order. */
  describe(): SceneDescription {
    return { bodies: bodyVisuals(this.layout, this.names) };
  }

  /** Current poses of all bodies (7 floats each), in describe() order. */
  poses(out?: Float32Array): Float32Array {
    const buf = out ?? new Float32Array(this.bodies.length * 7);
    this.bodies.forEach((b, i) => {
      const t = b.translation(), r = b.rotation();
      buf.set([t.x, t.y, t.z, r.x, r.y, r.z, r.w], i * 7);
    });
    return buf;
  }

  tcp(): TcpPose {
    return { ...this.tcpPose };
  }

  /** Gap between the finger inner faces, metres. */
  gap(): number {
    return this.fingerCoordinate(1) - this.fingerCoordinate(0) - 2 * GRIPPER.fingerHalf[0];
  }

  get gripperCommand(): number {
    return this.lastGripperCmd;
  }

  /** Finger centre along the palm x axis, in the palm frame. */
  private fingerCoordinate(i: 0 | 1): number {
    const p = this.palm.translation(), f = this.fingers[i].translation();
    const yaw = quatYaw(this.palm.rotation());
    return (f.x - p.x) * Math.cos(yaw) + (f.y - p.y) * Math.sin(yaw);
  }

  /**
   * Advance one control step: move the TCP linearly to `target` over SUBSTEPS
   * physics steps while the finger motors track the commanded gap.
   */
  control(target: TcpPose, gripperCmd: number): void {
    const from = this.tcpPose;
    const dyaw = wrapAngle(target.yaw - from.yaw);
    for (let k = 1; k <= SUBSTEPS; k++) {
      const a = k / SUBSTEPS;
      this.stepPhysics(
        { x: from.x + a * (target.x - from.x), y: from.y + a * (target.y - from.y), z: from.z + a * (target.z - from.z), yaw: from.yaw + a * dyaw },
        gripperCmd,
      );
    }
    this.tcpPose = { ...target, yaw: wrapAngle(from.yaw + dyaw) };
    this.lastGripperCmd = gripperCmd;
  }

  private stepPhysics(tcp: TcpPose, gripperCmd: number): void {
    this.palm.setNextKinematicTranslation({ x: tcp.x, y: tcp.y, z: tcp.z + GRIPPER.tcpBelowPalm });
    this.palm.setNextKinematicRotation(yawQuatObj(tcp.yaw));
    const targetGap = (1 - gripperCmd) * GRIPPER.maxOpening;
    for (const i of [0, 1] as const) {
      const side = i === 0 ? -1 : 1;
      const targetCoord = side * (targetGap / 2 + GRIPPER.fingerHalf[0]);
      const err = targetCoord - this.fingerCoordinate(i);
      const v = Math.max(-GRIPPER.motorMaxSpeed, Math.min(GRIPPER.motorMaxSpeed, GRIPPER.motorGain * err));
      // ForceBased: force = factor * (v - v_finger), capped at motorMaxForce (see GRIPPER in config.ts).
      this.fingerJoints[i].configureMotorVelocity(v, GRIPPER.motorDamping);
    }
    this.world.step();
  }

  bodyState(name: string): BodyState {
    const b = this.objectBodies.get(name);
    if (!b) throw new Error(`no object named "${name}" in this scene (objects: ${[...this.objectBodies.keys()].join(', ')})`);
    const t = b.translation(), r = b.rotation(), v = b.linvel();
    return { pos: [t.x, t.y, t.z], quat: [r.x, r.y, r.z, r.w], linvel: [v.x, v.y, v.z] };
  }

  /** True when both fingers touch the object. */
  isGrasped(name: string): boolean {
    const col = this.objectColliders.get(name);
    if (!col) return false;
    return this.fingerColliders.every((f) => this.touching(f, col));
  }

  /** True when either finger touches the object. */
  isTouchedByGripper(name: string): boolean {
    const col = this.objectColliders.get(name);
    if (!col) return false;
    return this.fingerColliders.some((f) => this.touching(f, col));
  }

  private touching(a: RAPIER.Collider, b: RAPIER.Collider): boolean {
    // Manifolds read from the world can be stale (shared notes, pitfall 4): ask for a fresh distance.
    const c = a.contactCollider(b, 0.003);
    return c !== null && c.distance < 0.002;
  }

  /** True when every body position is finite (NaN/Inf means the simulation blew up). */
  isFinite(): boolean {
    return this.bodies.every((b) => {
      const t = b.translation();
      return Number.isFinite(t.x) && Number.isFinite(t.y) && Number.isFinite(t.z);
    });
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.world.free();
  }
}

function yawQuatObj(yaw: number): { x: number; y: number; z: number; w: number } {
  return q(yawQuat(yaw));
}
function q(v: Quat | { x: number; y: number; z: number; w: number }): { x: number; y: number; z: number; w: number } {
  return Array.isArray(v) ? { x: v[0], y: v[1], z: v[2], w: v[3] } : v;
}
