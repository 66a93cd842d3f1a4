import { describe, expect, it } from 'vitest';
import { ACTION_HIGH } from '../../sim/config.ts';
import { Rng } from '../../sim/rng.ts';
import { makeEnv, listEnvs } from '../../tasks/envRegistry.ts';
import { createExpert } from '../../tasks/expert.ts';

// Expert.sync (DAgger, src/app/api/dagger.ts): after someone else moved the
// arm, the expert's next label must be what it would do from that state.

describe('Expert.sync', () => {
  it('changes nothing after the expert\'s own actions: the same actions, step for step', async () => {
    const env = makeEnv('tabletop/pick_place-v1', { split: 'train' });
    for (let seed = 0; seed < 3; seed++) {
      const runs: number[][][] = [];
      for (const synced of [false, true]) {
        await env.reset({ seed });
        const expert = createExpert(env.episode);
        const acts: number[][] = [];
        let r;
        do {
          if (synced) expert.sync(env.sim);
          const a = expert.act(env.sim);
          acts.push(Array.from(a));
          r = await env.step(a);
        } while (!r.terminated && !r.truncated);
        expect(r.info.success).toBe(true);
        runs.push(acts);
      }
      expect(runs[1]).toEqual(runs[0]);
    }
    env.close();
  }, 60_000);

  for (const id of listEnvs()) {
    it(`${id}: labels recover from a stretch of wrong actions at any phase (>= 90% of 20 seeds solved)`, async () => {
      // A "policy" that takes over for 8 random steps at a random point, then the synced expert drives again.
      const env = makeEnv(id, { split: 'train' });
      let ok = 0;
      const phasesHit = new Set<string>();
      for (let seed = 0; seed < 20; seed++) {
        await env.reset({ seed });
        const expert = createExpert(env.episode);
        const rng = new Rng(1000 + seed);
        const from = rng.int(3, 40);
        let t = 0, r, policyActed = false;
        do {
          if (policyActed) expert.sync(env.sim);
          const label = expert.act(env.sim);
          policyActed = t >= from && t < from + 8;
          if (t === from) phasesHit.add(expert.phase);
          const a = policyActed ? Float32Array.from(label, (v, i) => (i < 4 ? v + rng.uniform(-1, 1) * ACTION_HIGH[i] : i === 4 ? (rng.next() < 0.5 ? 0 : 1) : 0)) : label;
          r = await env.step(a);
          t++;
        } while (!r.terminated && !r.truncated);
        if (r.info.success) ok++;
      }
      env.close();
      expect(phasesHit.size).toBeGreaterThan(1); // the takeovers fell in more than one phase
      expect(ok).toBeGreaterThanOrEqual(18);
    }, 120_000);
  }
});
