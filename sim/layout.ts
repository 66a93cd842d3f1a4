// Layouts (what is where at reset) and the mapping from shapes to Rapier
// colliders and to renderer visuals. One place decides geometry, so physics
// and pixels cannot disagree.
import RAPIER from '@dimforge/rapier3d-compat';
import { BOWL, COLORS, GRIPPER, OBJECT, TABLE, type ShapeName } from './config.ts';
import type { BodyVisual, RGB, Vec3, VisualShape } from './types.ts';

export interface ObjectPlacement {
  /** "<color> <shape>", unique in a scene. */
  name: string;
  shape: ShapeName;
  color: string;
  x: number;
  y: number;
  yaw: number;
}

export interface BowlPlacement {
  /** "<color> bowl", unique in a scene. */
  name: string;
  color: string;
  x: number;
  y: number;
  yaw: number;
}

export interface Layout {
  objects: ObjectPlacement[];
  bowls: BowlPlacement[];
  gripperStart?: { x: number; y: number; z: number; yaw: number };
}

export function colorRGB(name: string): RGB {
  const c = COLORS[name];
  if (!c) throw new Error(`unknown color "${name}" (known: ${Object.keys(COLORS).join(', ')})`);
  return c;
}

/** Rapier collider descriptions for one visual shape, in the body frame. */
export function colliderDescsFor(shape: VisualShape): RAPIER.ColliderDesc[] {
  switch (shape.type) {
    case 'box':
      return [RAPIER.ColliderDesc.cuboid(...shape.half)];
    case 'cylinder': {
      // Rapier cylinders run along y; rotate +90 deg about x to stand them on z.
      const s = Math.SQRT1_2;
      return [RAPIER.ColliderDesc.cylinder(shape.halfHeight, shape.radius).setRotation({ x: s, y: 0, z: 0, w: s })];
    }
    case 'hexprism': {
      // A 1 mm rounded hull: sharp hull-on-hull face contacts (prism on prism) jitter for ~1 s.
      const round = 0.001;
      const pts: number[] = [];
      for (let i = 0; i < 6; i++) {
        const a = (i * Math.PI) / 3;
        const r = shape.radius - round / Math.cos(Math.PI / 6);
        for (const z of [-shape.halfHeight + round, shape.halfHeight - round]) pts.push(r * Math.cos(a), r * Math.sin(a), z);
      }
      const d = RAPIER.ColliderDesc.roundConvexHull(new Float32Array(pts), round);
      if (!d) throw new Error('hexprism: convex hull failed');
      return [d];
    }
    case 'bowl': {
      const { innerHalf: ih, wallHeight: wh, wall: w, base: b } = shape;
      const outer = ih + w;
      return [
        RAPIER.ColliderDesc.cuboid(outer, outer, b / 2).setTranslation(0, 0, b / 2),
        RAPIER.ColliderDesc.cuboid(w / 2, outer, wh / 2).setTranslation(ih + w / 2, 0, wh / 2),
        RAPIER.ColliderDesc.cuboid(w / 2, outer, wh / 2).setTranslation(-(ih + w / 2), 0, wh / 2),
        RAPIER.ColliderDesc.cuboid(ih, w / 2, wh / 2).setTranslation(0, ih + w / 2, wh / 2),
        RAPIER.ColliderDesc.cuboid(ih, w / 2, wh / 2).setTranslation(0, -(ih + w / 2), wh / 2),
      ];
    }
  }
}

/** Visuals for the bodies named (in SimWorld's tracking order). */
export function bodyVisuals(layout: Layout, names: string[]): BodyVisual[] {
  const zero: Vec3 = [0, 0, 0];
  return names.map((name): BodyVisual => {
    if (name === 'table') {
      return { name, role: 'table', parts: [{ shape: { type: 'box', half: [TABLE.halfX, TABLE.halfY, TABLE.thickness / 2] }, offset: zero, color: TABLE.color }] };
    }
    if (name === 'palm') {
      return { name, role: 'palm', parts: [{ shape: { type: 'box', half: GRIPPER.palmHalf }, offset: zero, color: GRIPPER.color }] };
    }
    if (name === 'finger_l' || name === 'finger_r') {
      return { name, role: 'finger', parts: [{ shape: { type: 'box', half: GRIPPER.fingerHalf }, offset: zero, color: GRIPPER.fingerColor }] };
    }
    const bowl = layout.bowls.find((b) => b.name === name);
    if (bowl) return { name, role: 'bowl', parts: [{ shape: { type: 'bowl', ...BOWL }, offset: zero, color: colorRGB(bowl.color) }] };
    const obj = layout.objects.find((o) => o.name === name);
    if (obj) return { name, role: 'object', parts: [{ shape: shapeVisual(obj.shape), offset: zero, color: colorRGB(obj.color) }] };
    throw new Error(`bodyVisuals: no layout entry for body "${name}"`);
  });
}

/** Visual (and collider) shape of a graspable object. */
export function shapeVisual(shape: string) {
  const h = OBJECT.half;
  switch (shape) {
    case 'cube':
      return { type: 'box' as const, half: [h, h, h] as Vec3 };
    case 'cylinder':
      return { type: 'cylinder' as const, radius: h, halfHeight: h };
    case 'prism':
      return { type: 'hexprism' as const, radius: h * 1.1, halfHeight: h };
    default:
      throw new Error(`unknown shape "${shape}" (known: cube, cylinder, prism)`);
  }
}
