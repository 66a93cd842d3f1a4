// Shared contracts between physics (sim/world.ts), tasks, the renderer
// (sim/render/) and the headless runtime. The renderer only *reads* these:
// physics never depends on the renderer.
//
// Frame convention everywhere: right-handed, z up, metres, radians.
// The table top is the plane z = 0; +x points away from the scene camera's
// left-right axis (see sim/config.ts for the camera poses).

export type Vec3 = [number, number, number];
/** Quaternion as [x, y, z, w] (Rapier's order). */
export type Quat = [number, number, number, number];
export type RGB = [number, number, number]; // each in [0, 1]

/** Visual shape of one rigid body, enough for a renderer to build a mesh. */
export type VisualShape =
  | { type: 'box'; half: Vec3 } // half extents along local x, y, z
  | { type: 'cylinder'; radius: number; halfHeight: number } // axis = local z
  | { type: 'hexprism'; radius: number; halfHeight: number } // circumradius, axis = local z
  | { type: 'bowl'; innerHalf: number; wallHeight: number; wall: number; base: number }; // open-top square bowl, base on local z = 0

export type BodyRole = 'table' | 'object' | 'bowl' | 'palm' | 'finger';

export interface BodyVisual {
  /** Unique, human readable: "table", "red cube", "blue bowl", "palm", "finger_l". */
  name: string;
  role: BodyRole;
  /** One or more parts, each with a pose relative to the body frame. */
  parts: { shape: VisualShape; offset: Vec3; color: RGB }[];
}

/**
 * Static description of a scene: which bodies exist and how they look.
 * Poses come separately (PoseBuffer) every frame, in the same body order.
 */
export interface SceneDescription {
  bodies: BodyVisual[];
}

/** Body poses, 7 floats per body in SceneDescription order: x, y, z, qx, qy, qz, qw. */
export type PoseBuffer = Float32Array;

export interface CameraSpec {
  name: string; // 'scene' | 'wrist' | user-defined
  /** 'fixed': world pose. 'wrist': rigidly attached to the palm body. */
  mount: 'fixed' | 'wrist';
  /** Fixed: world position. Wrist: offset in the palm frame. */
  position: Vec3;
  /** Fixed: world point looked at. Wrist: look-at point in the palm frame. */
  target: Vec3;
  /** Vertical field of view in degrees. */
  fovDeg: number;
}

export interface RenderOptions {
  width: number;
  height: number;
  cameras: CameraSpec[];
}

/** RGB frame, uint8, row-major, rows top-down, 3 channels: length = h * w * 3. */
export interface Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Anything that turns (scene, poses) into camera frames. */
export interface FrameRenderer {
  setScene(desc: SceneDescription): void;
  render(poses: PoseBuffer): Promise<Record<string, Frame>>;
  dispose(): void;
}
