// Pure Node tests for the pieces of the renderer that need no browser:
// readback row order, base64 transport and camera pose math.
import { describe, expect, it } from 'vitest';
import { pixelAt, rgbaToRgbTopDown } from '../../../sim/render/readback.ts';
import { cameraWorldPose, lookRotation, projectPoint, rotate } from '../../../sim/render/cameraMath.ts';
import { b64ToBytes, b64ToF32, bytesToB64, f32ToB64, frameToWire, wireToFrame } from '../../../src/runtime/b64.ts';
import type { CameraSpec, Quat, Vec3 } from '../../../sim/types.ts';

// 2x2 image as a WebGL readback returns it: row 0 is the BOTTOM row.
//   top row:    red   green
//   bottom row: blue  white
const RGBA_BOTTOM_UP = Uint8Array.from([
  0, 0, 255, 255, /**/ 255, 255, 255, 255, // bottom: blue, white
  255, 0, 0, 255, /**/ 0, 255, 0, 255, // top: red, green
]);

describe('rgbaToRgbTopDown', () => {
  it('flips bottom-up RGBA into top-down RGB', () => {
    const rgb = rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 2, true);
    expect(Array.from(rgb)).toEqual([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    const f = { width: 2, height: 2, data: rgb };
    expect(pixelAt(f, 0, 0)).toEqual([255, 0, 0]); // top-left red
    expect(pixelAt(f, 1, 1)).toEqual([255, 255, 255]); // bottom-right white
  });

  it('keeps row order for top-down sources and drops alpha', () => {
    const rgb = rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 2, false);
    expect(Array.from(rgb)).toEqual([0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0]);
  });

  it('cuts one camera out of a side-by-side strip', () => {
    // 2 cameras of 1x2 px side by side = the 2x2 image above; right camera = green over white.
    const right = rgbaToRgbTopDown(RGBA_BOTTOM_UP, 1, 2, true, undefined, { srcWidth: 2, x0: 1 });
    expect(Array.from(right)).toEqual([0, 255, 0, 255, 255, 255]);
    expect(() => rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 2, true, undefined, { srcWidth: 2, x0: 1 })).toThrow(/outside/);
  });

  it('writes into a provided buffer and rejects short ones', () => {
    const out = new Uint8Array(12);
    expect(rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 2, true, out)).toBe(out);
    expect(() => rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 3, true)).toThrow(/need 24/);
  });
});

describe('b64', () => {
  it('round-trips bytes, floats and frames', () => {
    const bytes = Uint8Array.from({ length: 9_001 }, (_, i) => (i * 31) & 255);
    expect(b64ToBytes(bytesToB64(bytes))).toEqual(bytes);
    const f = Float32Array.from([0, -1.5, Math.PI, 1e-7]);
    expect(b64ToF32(f32ToB64(f))).toEqual(f);
    const frame = { width: 2, height: 2, data: rgbaToRgbTopDown(RGBA_BOTTOM_UP, 2, 2, true) };
    expect(wireToFrame(frameToWire(frame))).toEqual(frame);
  });
});

const close = (a: number[], b: number[], eps = 1e-9) => a.every((v, i) => Math.abs(v - b[i]) < eps);

describe('cameraMath', () => {
  const yaw = (a: number): Quat => [0, 0, Math.sin(a / 2), Math.cos(a / 2)];

  it('rotates vectors like a right-handed quaternion', () => {
    expect(close(rotate(yaw(Math.PI / 2), [1, 0, 0]), [0, 1, 0])).toBe(true);
  });

  it('fixed camera: z is image-up, target projects to the centre', () => {
    const spec: CameraSpec = { name: 's', mount: 'fixed', position: [0, -0.55, 0.5], target: [0, -0.02, 0], fovDeg: 50 };
    const pose = cameraWorldPose(spec);
    expect(close(projectPoint(pose, 50, 96, 96, spec.target)!, [48, 48])).toBe(true);
    // A point above the target is higher in the image (smaller y); +x is to the right.
    const above = projectPoint(pose, 50, 96, 96, [0, -0.02, 0.1])!;
    const right = projectPoint(pose, 50, 96, 96, [0.1, -0.02, 0])!;
    expect(above[1]).toBeLessThan(48);
    expect(right[0]).toBeGreaterThan(48);
  });

  it('lookRotation maps camera -z to the view direction and +y to up', () => {
    const pose = cameraWorldPose({ name: 's', mount: 'fixed', position: [0.3, -0.4, 0.5], target: [0, 0, 0], fovDeg: 50 });
    const q = lookRotation(pose);
    const f = [-0.3, 0.4, -0.5].map((v) => v / Math.hypot(0.3, 0.4, 0.5));
    expect(close(rotate(q, [0, 0, -1]), f, 1e-6)).toBe(true);
    expect(close(rotate(q, [0, 1, 0]), pose.up, 1e-6)).toBe(true);
  });

  it('straight-down cameras fall back to +y as image-up', () => {
    const pose = cameraWorldPose({ name: 'top', mount: 'fixed', position: [0, 0, 1], target: [0, 0, 0], fovDeg: 50 });
    expect(close(pose.up, [0, 1, 0])).toBe(true);
  });

  it('wrist camera follows the palm pose', () => {
    const spec: CameraSpec = { name: 'w', mount: 'wrist', position: [0, -0.05, 0.02], target: [0, 0, -0.2], fovDeg: 75 };
    const palm: Vec3 = [0.1, 0.2, 0.3];
    const pose = cameraWorldPose(spec, palm, yaw(Math.PI / 2));
    // Palm yawed 90°: palm -y becomes world +x.
    expect(close(pose.eye, [0.15, 0.2, 0.32], 1e-9)).toBe(true);
    expect(close(pose.target, [0.1, 0.2, 0.1], 1e-9)).toBe(true);
    expect(() => cameraWorldPose(spec)).toThrow(/palm/);
  });
});
