import { describe, expect, it } from 'vitest';
import { ACTION_HIGH } from '../../sim/config.ts';
import { makeEnv } from '../../tasks/envRegistry.ts';
import { createExpert } from '../../tasks/expert.ts';
import { ActionNoise, NOISE_DIMS } from '../../tasks/noise.ts';

describe('DART action noise', () => {
  const label = Float32Array.from([0.01, -0.02, 0.005, 0.1, 1, 0]);

  it('perturbs only dx/dy, with the configured spread, the same way for the same seed', () => {
    const a = new ActionNoise(0.2, 7), b = new ActionNoise(0.2, 7), c = new ActionNoise(0.2, 8);
    const n = 4000;
    const sum = [0, 0], sq = [0, 0];
    let same = 0;
    for (let i = 0; i < n; i++) {
      const x = a.perturb(label), y = b.perturb(label), z = c.perturb(label);
      expect(Array.from(x)).toEqual(Array.from(y));
      if (x[0] === z[0]) same++;
      for (let d = 2; d < 6; d++) expect(x[d]).toBe(label[d]);
      NOISE_DIMS.forEach((d, k) => { const e = x[d] - label[d]; sum[k] += e; sq[k] += e * e; });
    }
    expect(same).toBe(0);
    NOISE_DIMS.forEach((d, k) => {
      const mean = sum[k] / n, std = Math.sqrt(sq[k] / n - mean * mean);
      expect(Math.abs(mean)).toBeLessThan(0.1 * 0.2 * ACTION_HIGH[d]);
      expect(std / (0.2 * ACTION_HIGH[d])).toBeGreaterThan(0.95);
      expect(std / (0.2 * ACTION_HIGH[d])).toBeLessThan(1.05);
    });
  });

  it('leaves terminating actions and scale 0 alone, rejects a bad scale', () => {
    const stop = Float32Array.from([0.01, 0.01, 0, 0, 0, 1]);
    expect(Array.from(new ActionNoise(0.5, 1).perturb(stop))).toEqual(Array.from(stop));
    expect(Array.from(new ActionNoise(0, 1).perturb(label))).toEqual(Array.from(label));
    expect(() => new ActionNoise(-0.1, 1)).toThrow(/noise scale/);
    expect(() => new ActionNoise(Number.NaN, 1)).toThrow(/noise scale/);
  });

  it('the expert still solves the tasks under noise 0.1 (it re-plans every step)', async () => {
    for (const id of ['tabletop/pick_place-v1', 'tabletop/stack-v1']) {
      const env = makeEnv(id, { split: 'train' });
      let ok = 0, offPath = 0;
      for (let seed = 0; seed < 40; seed++) {
        await env.reset({ seed });
        const expert = createExpert(env.episode);
        const noise = new ActionNoise(0.1, seed);
        let r;
        do {
          const a = expert.act(env.sim);
          const executed = noise.perturb(a);
          if (Math.abs(executed[0] - a[0]) > 1e-3) offPath++;
          r = await env.step(executed);
        } while (!r.terminated && !r.truncated);
        if (r.info.success && r.terminated) ok++;
      }
      env.close();
      expect(offPath).toBeGreaterThan(100);
      expect(ok).toBeGreaterThanOrEqual(38);
    }
  }, 120_000);
});
