// Builds Babylon meshes for one BodyVisual. Each body becomes a TransformNode
// whose pose is set every frame from the PoseBuffer; its parts are child meshes
// with a fixed local offset. Shape-specific rotations are baked into vertices
// so part meshes carry only a translation (cheaper world-matrix updates).
import type { Scene } from '@babylonjs/core/scene';
import { TransformNode } from '@babylonjs/core/Meshes/transformNode';
import { Mesh } from '@babylonjs/core/Meshes/mesh';
import { CreateBox } from '@babylonjs/core/Meshes/Builders/boxBuilder';
import { CreateCylinder } from '@babylonjs/core/Meshes/Builders/cylinderBuilder';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial';
import { Color3 } from '@babylonjs/core/Maths/math.color';
import { Quaternion } from '@babylonjs/core/Maths/math.vector';
import type { BodyVisual, RGB, Vec3, VisualShape } from '../types.ts';

/** Smooth enough for 96–512 px frames; more sides only cost vertices. */
const CYLINDER_SIDES = 24;

/**
 * One StandardMaterial per distinct color, kept for the renderer's lifetime:
 * reusing materials across setScene calls keeps shaders compiled, so a new
 * episode's scene is ready immediately.
 */
export class MaterialCache {
  private readonly byKey = new Map<string, StandardMaterial>();
  constructor(private readonly scene: Scene) {}

  get(color: RGB): StandardMaterial {
    const key = color.map((c) => c.toFixed(4)).join(',');
    let mat = this.byKey.get(key);
    if (!mat) {
      mat = new StandardMaterial(`mat_${key}`, this.scene);
      mat.diffuseColor = new Color3(color[0], color[1], color[2]);
      // No specular glare: highlights move with the camera and add pixel noise
      // that carries no task information.
      mat.specularColor = new Color3(0, 0, 0);
      // A little self-lighting keeps shadowed sides from going pure black.
      mat.ambientColor = new Color3(color[0], color[1], color[2]);
      this.byKey.set(key, mat);
    }
    return mat;
  }

  dispose(): void {
    for (const m of this.byKey.values()) m.dispose();
    this.byKey.clear();
  }
}

/** Box of half extents `half`, centred at `center` in the parent frame. */
function box(name: string, scene: Scene, half: Vec3, center: Vec3): Mesh {
  const m = CreateBox(name, { width: 2 * half[0], height: 2 * half[1], depth: 2 * half[2] }, scene);
  m.position.set(center[0], center[1], center[2]);
  return m;
}

/**
 * Prism along local z. Babylon cylinders run along y; rotating +90° about x
 * maps y to z and puts the first ring vertex on local +x, so a hexprism has a
 * vertex (not an edge) at angle 0 — physics hulls should use the same layout.
 */
function prism(name: string, scene: Scene, radius: number, halfHeight: number, sides: number): Mesh {
  const m = CreateCylinder(name, { height: 2 * halfHeight, diameter: 2 * radius, tessellation: sides }, scene);
  m.rotation.x = Math.PI / 2;
  m.bakeCurrentTransformIntoVertices();
  // Crisp faces for the hexprism; a smooth-shaded 6-gon reads as a blob at 96 px.
  if (sides <= 8) m.convertToFlatShadedMesh();
  return m;
}

/**
 * Open-top square bowl. Base: slab of thickness `base` on local z in [0, base].
 * Walls: four slabs of thickness `wall` spanning local z in [0, wallHeight]
 * around the inner square |x|, |y| <= innerHalf (the outer half size is
 * innerHalf + wall). The y-walls span the full outer width so corners are closed.
 * The five slabs are merged into one mesh: on SwiftShader every draw call
 * counts, and each frame draws every mesh once per camera.
 */
function bowl(name: string, scene: Scene, s: Extract<VisualShape, { type: 'bowl' }>): Mesh {
  const outer = s.innerHalf + s.wall;
  const h = s.wallHeight / 2;
  const mid = s.innerHalf + s.wall / 2;
  const slabs = [
    box(`${name}_base`, scene, [outer, outer, s.base / 2], [0, 0, s.base / 2]),
    box(`${name}_wall+y`, scene, [outer, s.wall / 2, h], [0, mid, h]),
    box(`${name}_wall-y`, scene, [outer, s.wall / 2, h], [0, -mid, h]),
    box(`${name}_wall+x`, scene, [s.wall / 2, s.innerHalf, h], [mid, 0, h]),
    box(`${name}_wall-x`, scene, [s.wall / 2, s.innerHalf, h], [-mid, 0, h]),
  ];
  const merged = Mesh.MergeMeshes(slabs, true, true);
  if (!merged) throw new Error(`bowl ${name}: mesh merge failed`);
  merged.name = name;
  return merged;
}

/** Meshes for one shape, positioned in the part's own frame (offset applied by the caller). */
export function shapeMeshes(name: string, scene: Scene, shape: VisualShape): Mesh[] {
  switch (shape.type) {
    case 'box':
      return [box(name, scene, shape.half, [0, 0, 0])];
    case 'cylinder':
      return [prism(name, scene, shape.radius, shape.halfHeight, CYLINDER_SIDES)];
    case 'hexprism':
      return [prism(name, scene, shape.radius, shape.halfHeight, 6)];
    case 'bowl':
      return [bowl(name, scene, shape)];
  }
}

/** Builds the node for one body; the caller owns it and sets its pose every frame. */
export function buildBody(body: BodyVisual, index: number, scene: Scene, materials: MaterialCache): TransformNode {
  const node = new TransformNode(`body${index}_${body.name}`, scene);
  node.rotationQuaternion = new Quaternion(0, 0, 0, 1);
  body.parts.forEach((part, p) => {
    // A part node carries the offset, so multi-mesh shapes (bowl) keep their layout.
    const partNode = new TransformNode(`${node.name}_part${p}`, scene);
    partNode.parent = node;
    partNode.position.set(part.offset[0], part.offset[1], part.offset[2]);
    const mat = materials.get(part.color);
    for (const mesh of shapeMeshes(`${node.name}_p${p}`, scene, part.shape)) {
      mesh.parent = partNode;
      mesh.material = mat;
      mesh.isPickable = false;
      // Few meshes, several cameras: skipping frustum culling is cheaper than
      // computing it, and avoids per-camera active-mesh churn.
      mesh.alwaysSelectAsActiveMesh = true;
      mesh.doNotSyncBoundingInfo = true;
    }
  });
  return node;
}
