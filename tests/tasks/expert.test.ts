import { describe, expect, it } from 'vitest';
import { makeEnv, listEnvs } from '../../sim/registry.ts';
import { createExpert } from '../../tasks/expert.ts';

// The scripted experts generate the training demos: they must solve nearly
// every train episode. Fixed seed set (the first N train seeds of each task).
const N = 100;

describe('scripted experts', () => {
  for (const id of listEnvs()) {
    it(`${id}: succeeds on >= 98% of the first ${N} train seeds`, async () => {
      const env = makeEnv(id, { split: 'train' });
      let ok = 0;
      const failed: number[] = [];
      for (let seed = 0; seed < N; seed++) {
        await env.reset({ seed });
        const expert = createExpert(env.episode);
        let r;
        do r = await env.step(expert.act(env.sim));
        while (!r.terminated && !r.truncated);
        if (r.info.success && r.terminated) ok++;
        else failed.push(seed);
      }
      env.close();
      console.log(`[expert] ${id}: ${ok}/${N} = ${((100 * ok) / N).toFixed(1)}% (failed seeds: ${failed.join(', ') || 'none'})`);
      expect(ok / N).toBeGreaterThanOrEqual(0.98);
    }, 300_000);
  }
});
