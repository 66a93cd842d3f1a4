// Materials and set dressing of the demo's viewer camera (orbitScene.ts):
// matte wood for the table, glossy plastic for parts and bowls, anodized and
// brushed metal for the gripper, a floor, table legs and models of the two
// policy cameras, and the visual 6-DoF arm (ArmModel: cylinders for links
// and joint housings, placed every frame from forward kinematics of the
// joint angles ik.ts solves for the palm pose). None of it exists in the policy renderer
// (sim/render/babylonRenderer.ts): the shipped policies were trained on the
// flat look, so only people see this one.
import type { Scene } from '@babylonjs/core/scene';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial';
import { DynamicTexture } from '@babylonjs/core/Materials/Textures/dynamicTexture';
import { Color3 } from '@babylonjs/core/Maths/math.color';
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector';
import { CreateBox } from '@babylonjs/core/Meshes/Builders/boxBuilder';
import { CreateCylinder } from '@babylonjs/core/Meshes/Builders/cylinderBuilder';
import type { Mesh } from '@babylonjs/core/Meshes/mesh';
import { TABLE } from '../../../sim/config.ts';
import { cameraWorldPose, lookRotation } from '../../../sim/render/cameraMath.ts';
import type { BodyRole, CameraSpec, RGB, Vec3 } from '../../../sim/types.ts';
import { ARM, type ArmPose } from './ik.ts';

/** Blinn-Phong finish: how much and how tight the highlight is. */
interface Finish { specular: number; power: number; ambient?: number }
const FINISH: Record<BodyRole | 'arm' | 'joint' | 'floor' | 'camera', Finish> = {
  table: { specular: 0.04, power: 8 }, // matte: almost no highlight
  object: { specular: 0.55, power: 90 }, // glossy injection-moulded plastic
  bowl: { specular: 0.35, power: 40 },
  palm: { specular: 0.6, power: 120 }, // anodized aluminium
  finger: { specular: 0.9, power: 60 }, // brushed aluminium
  arm: { specular: 0.45, power: 70 },
  joint: { specular: 0.5, power: 90 },
  floor: { specular: 0.02, power: 4 },
  camera: { specular: 0.5, power: 80 },
};

/** One material per (finish, colour), kept for the scene's lifetime so shaders stay compiled across episodes. */
export class LookMaterials {
  private readonly cache = new Map<string, StandardMaterial>();
  private wood: StandardMaterial | null = null;
  constructor(private readonly scene: Scene) {}

  get(kind: keyof typeof FINISH, color: RGB): StandardMaterial {
    if (kind === 'table') return this.table(color);
    const key = `${kind}:${color.map((c) => c.toFixed(3)).join(',')}`;
    let m = this.cache.get(key);
    if (!m) {
      const f = FINISH[kind];
      m = new StandardMaterial(`look_${key}`, this.scene);
      m.diffuseColor = new Color3(color[0], color[1], color[2]);
      m.specularColor = new Color3(f.specular, f.specular, f.specular);
      m.specularPower = f.power;
      const a = f.ambient ?? 0.35;
      m.ambientColor = new Color3(color[0] * a, color[1] * a, color[2] * a);
      this.cache.set(key, m);
    }
    return m;
  }

  /** Matte wood: a procedural grain texture tinted by the table colour. */
  private table(color: RGB): StandardMaterial {
    if (this.wood) return this.wood;
    const n = 512;
    const tex = new DynamicTexture('look_wood', { width: n, height: n }, this.scene, true);
    const ctx = tex.getContext() as unknown as CanvasRenderingContext2D;
    const c = (k: number) => color.map((v) => Math.round(255 * Math.min(1, v * k))).join(',');
    ctx.fillStyle = `rgb(${c(1)})`;
    ctx.fillRect(0, 0, n, n);
    // Grain: wavy stripes of slightly darker wood, from a fixed LCG so every page looks the same.
    let h = 12345;
    const rnd = () => ((h = (Math.imul(h, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    for (let i = 0; i < 90; i++) {
      const y0 = rnd() * n, amp = 2 + 6 * rnd(), freq = 0.004 + 0.01 * rnd();
      ctx.strokeStyle = `rgba(${c(0.72 + 0.2 * rnd())},${0.25 + 0.35 * rnd()})`;
      ctx.lineWidth = 1 + 3 * rnd();
      ctx.beginPath();
      for (let x = 0; x <= n; x += 8) ctx.lineTo(x, y0 + amp * Math.sin(x * freq + i));
      ctx.stroke();
    }
    tex.update();
    const m = new StandardMaterial('look_table', this.scene);
    m.diffuseTexture = tex;
    m.specularColor = new Color3(FINISH.table.specular, FINISH.table.specular, FINISH.table.specular);
    m.specularPower = FINISH.table.power;
    m.ambientColor = new Color3(0.3, 0.3, 0.3);
    this.wood = m;
    return m;
  }

  dispose(): void {
    for (const m of this.cache.values()) m.dispose();
    this.wood?.diffuseTexture?.dispose();
    this.wood?.dispose();
    this.cache.clear();
  }
}

const FLOOR_Z = -0.74;

/** Floor, table legs and a model of the fixed scene camera on its mast. Returns meshes that cast/receive shadows. */
export function buildStage(scene: Scene, looks: LookMaterials, sceneCamera: CameraSpec): { casters: Mesh[]; receivers: Mesh[] } {
  const floor = CreateBox('stage_floor', { width: 6, height: 6, depth: 0.02 }, scene);
  floor.position.set(0, 0, FLOOR_Z - 0.01);
  floor.material = looks.get('floor', [0.32, 0.33, 0.36]);
  const legs: Mesh[] = [];
  const legH = -TABLE.thickness - FLOOR_Z;
  for (const [sx, sy] of [[1, 1], [1, -1], [-1, 1], [-1, -1]]) {
    const leg = CreateBox(`stage_leg${legs.length}`, { width: 0.05, height: 0.05, depth: legH }, scene);
    leg.position.set(sx * (TABLE.halfX - 0.05), sy * (TABLE.halfY - 0.05), FLOOR_Z + legH / 2);
    leg.material = looks.get('arm', [0.25, 0.2, 0.16]);
    legs.push(leg);
  }
  const cam = cameraModel(scene, looks, 'stage_scenecam', 1);
  const pose = cameraWorldPose(sceneCamera);
  const q = lookRotation(pose);
  cam.position.set(...pose.eye);
  cam.rotationQuaternion = new Quaternion(q[0], q[1], q[2], q[3]);
  const mast = CreateCylinder('stage_mast', { height: pose.eye[2] - FLOOR_Z - 0.03, diameter: 0.012 }, scene);
  mast.rotation.x = Math.PI / 2;
  mast.position.set(pose.eye[0], pose.eye[1], (pose.eye[2] - 0.03 + FLOOR_Z) / 2);
  mast.material = looks.get('camera', [0.45, 0.46, 0.48]);
  return { casters: [...legs, mast, cam, ...(cam.getChildMeshes() as Mesh[])], receivers: [floor] };
}

/** A small camera body (box + lens) looking along its local -z, the camera convention of cameraMath.ts. */
export function cameraModel(scene: Scene, looks: LookMaterials, name: string, scale: number): Mesh {
  const body = CreateBox(`${name}_body`, { width: 0.05 * scale, height: 0.035 * scale, depth: 0.04 * scale }, scene);
  body.material = looks.get('camera', [0.2, 0.21, 0.23]);
  const lens = CreateCylinder(`${name}_lens`, { height: 0.02 * scale, diameter: 0.026 * scale }, scene);
  lens.rotationQuaternion = Quaternion.FromUnitVectorsToRef(new Vector3(0, 1, 0), new Vector3(0, 0, -1), new Quaternion());
  lens.position.set(0, 0, -0.028 * scale);
  lens.material = looks.get('joint', [0.05, 0.18, 0.35]);
  lens.parent = body;
  return body;
}

// The visual arm: light links, dark blue joint housings (an industrial 6R look).
const LINK: RGB = [0.86, 0.87, 0.89];
const JOINT: RGB = [0.16, 0.27, 0.45];
const UP = new Vector3(0, 1, 0); // Babylon cylinders run along local y

interface Part {
  mesh: Mesh;
  /** Centre and axis of the cylinder for an arm pose. */
  place(p: ArmPose): { at: Vec3; axis: Vec3 };
}

const mid = (a: Vec3, b: Vec3): Vec3 => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
const dir = (a: Vec3, b: Vec3): Vec3 => {
  const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const n = Math.hypot(...d);
  return [d[0] / n, d[1] / n, d[2] / n];
};
const along = (a: Vec3, d: Vec3, s: number): Vec3 => [a[0] + s * d[0], a[1] + s * d[1], a[2] + s * d[2]];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const Z: Vec3 = [0, 0, 1];

export class ArmModel {
  readonly meshes: Mesh[] = [];
  private readonly parts: Part[] = [];
  private readonly q = new Quaternion();
  private readonly axis = new Vector3();
  /** The pose last drawn (tests read the flange from it). */
  pose: ArmPose | null = null;

  constructor(private readonly scene: Scene, looks: LookMaterials) {
    const link = looks.get('arm', LINK);
    const joint = looks.get('joint', JOINT);
    const cyl = (name: string, height: number, diameter: number, mat: typeof link, place: Part['place']) => {
      const mesh = CreateCylinder(`arm_${name}`, { height, diameter, tessellation: 32 }, this.scene);
      mesh.material = mat;
      mesh.rotationQuaternion = new Quaternion();
      mesh.isPickable = false;
      this.meshes.push(mesh);
      this.parts.push({ mesh, place });
    };
    const col = ARM.column - 0.03;
    cyl('base', 0.03, 0.17, joint, (p) => ({ at: along(p.base, Z, 0.015), axis: Z })); // joint 1
    cyl('column', col, 0.11, link, (p) => ({ at: along(p.base, Z, 0.03 + col / 2), axis: Z }));
    cyl('shoulder', 0.15, 0.12, joint, (p) => ({ at: p.shoulder, axis: p.normal })); // joint 2
    cyl('upperArm', ARM.upperArm, 0.085, link, (p) => ({ at: mid(p.shoulder, p.elbow), axis: dir(p.shoulder, p.elbow) }));
    cyl('elbow', 0.13, 0.1, joint, (p) => ({ at: p.elbow, axis: p.normal })); // joint 3
    cyl('forearm', ARM.forearm, 0.07, link, (p) => ({ at: mid(p.elbow, p.wrist), axis: dir(p.elbow, p.wrist) }));
    cyl('wrist1', 0.1, 0.08, joint, (p) => ({ at: p.wrist, axis: p.normal })); // joint 4
    cyl('wristLink', ARM.wrist - 0.02, 0.062, link, (p) => ({ at: along(p.wrist, p.tool, (ARM.wrist - 0.02) / 2), axis: p.tool }));
    cyl('wrist2', 0.085, 0.075, joint, (p) => ({ at: along(p.wrist, p.tool, 0.5 * ARM.wrist), axis: cross(p.tool, p.normal) })); // joint 5
    cyl('flange', 0.02, 0.078, joint, (p) => ({ at: along(p.flange, p.tool, -0.01), axis: p.tool })); // joint 6
  }

  /** Places every link and housing for `pose` (from solveArm). */
  update(pose: ArmPose): void {
    for (const { mesh, place } of this.parts) {
      const { at, axis } = place(pose);
      mesh.position.set(at[0], at[1], at[2]);
      this.axis.set(axis[0], axis[1], axis[2]);
      Quaternion.FromUnitVectorsToRef(UP, this.axis, this.q);
      mesh.rotationQuaternion!.copyFrom(this.q);
    }
    this.pose = pose;
  }
}
