import { describe, expect, it } from 'vitest';
import { ARM, flangeTarget, forwardKinematics, quatYaw, solveArm, wrapAngle } from '../../src/app/demo/ik.ts';
import { GRIPPER, TCP_LIMITS } from '../../sim/config.ts';
import type { Vec3 } from '../../sim/types.ts';

const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

// Every palm pose the simulator can produce: TCP limits (palm = TCP + tcpBelowPalm), all yaws.
function* palmPoses(): Generator<[Vec3, number]> {
  const { xMin, xMax, yMin, yMax, zMin, zMax } = TCP_LIMITS;
  for (let i = 0; i <= 4; i++) for (let j = 0; j <= 4; j++) for (let k = 0; k <= 2; k++) for (const yaw of [-3, -1.2, 0, 0.7, 3.1]) {
    yield [[xMin + ((xMax - xMin) * i) / 4, yMin + ((yMax - yMin) * j) / 4, zMin + ((zMax - zMin) * k) / 2 + GRIPPER.tcpBelowPalm], yaw];
  }
}

describe('visual arm inverse kinematics', () => {
  it('puts the flange on the palm top with the tool down and the palm yaw, over the whole TCP range', () => {
    let n = 0;
    for (const [palm, yaw] of palmPoses()) {
      const p = solveArm(palm, yaw);
      expect(p.error, `palm ${palm}`).toBeLessThan(1e-9);
      expect(dist(p.flange, flangeTarget(palm))).toBeLessThan(1e-9);
      expect(p.tool[2]).toBeCloseTo(-1, 9);
      expect(Math.abs(wrapAngle(p.toolYaw - yaw))).toBeLessThan(1e-9);
      // forward kinematics of the solved joints agrees (the pose is not assembled separately)
      expect(dist(forwardKinematics(p.joints).flange, p.flange)).toBeLessThan(1e-12);
      n++;
    }
    expect(n).toBe(375);
  });

  it('keeps link lengths, the elbow above the shoulder-wrist line, and the base where it stands', () => {
    const p = solveArm([0.1, -0.2, 0.12], 0.4);
    expect(p.base).toEqual(ARM.base);
    expect(dist(p.base, p.shoulder)).toBeCloseTo(ARM.column, 12);
    expect(dist(p.shoulder, p.elbow)).toBeCloseTo(ARM.upperArm, 12);
    expect(dist(p.elbow, p.wrist)).toBeCloseTo(ARM.forearm, 12);
    expect(dist(p.wrist, p.flange)).toBeCloseTo(ARM.wrist, 12);
    const t = (p.elbow[0] - p.shoulder[0]) / (p.wrist[0] - p.shoulder[0]);
    expect(p.elbow[2]).toBeGreaterThan(p.shoulder[2] + t * (p.wrist[2] - p.shoulder[2]));
    expect(p.joints[4]).toBe(0); // the palm never tilts
  });

  it('stretches towards an unreachable target with finite joints and says how far it fell short', () => {
    const far: Vec3 = [0, -1.5, 0.1];
    const p = solveArm(far, 0);
    expect(p.joints.every(Number.isFinite)).toBe(true);
    const reach = ARM.upperArm + ARM.forearm;
    const w: Vec3 = [far[0], far[1], far[2] + GRIPPER.palmHalf[2] + ARM.wrist];
    expect(p.error).toBeCloseTo(dist(w, p.shoulder) - reach, 6);
    expect(p.error).toBeGreaterThan(0.5);
  });

  it('reads the yaw of a quaternion', () => {
    for (const yaw of [-2.5, -0.3, 0, 1, 3]) expect(quatYaw([0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)])).toBeCloseTo(yaw, 12);
  });
});
