// Trainer.run must give the event loop a turn every step: a SIGINT handler
// (Node) or a stop button (browser) runs as a macrotask, while a step whose
// episodes are cached awaits only microtasks. Before this was fixed, Ctrl-C
// during `vlalab train` went unanswered until the next file write.
import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { NO_AUGMENT } from '../../src/train/augment.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { dirSource } from '../../src/train/node.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { TINY_VIT, synthDataset } from './helpers.ts';
import { VlaPolicy } from '../../policies/policy.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Trainer.run stop request', () => {
  it('a stop requested from a macrotask is honoured at the next step, not at the end of the run', async () => {
    const data = new DemoDataset(dirSource(synthDataset({ episodes: 2, steps: 8 })), { cameras: ['scene'], batchSize: 2, seed: 1, valFraction: 0, augment: NO_AUGMENT });
    const policy = new VlaPolicy({ ...TINY_VIT, vocab: TextTokenizer.fromCorpus(data.trainInstructions()).vocab, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] });
    let stop = false;
    const saves: number[] = [];
    const trainer = new Trainer(policy, data, { epochs: 50, saveEverySteps: 0 }, {
      save: async (_p, _o, s) => void saves.push(s.step),
      metrics: () => {},
      shouldStop: () => stop,
    });
    await data.trainBatch(0, 0); // both episodes cached: no file I/O during the run
    setTimeout(() => (stop = true), 0); // what process.once('SIGINT') does in src/train/node.ts
    const r = await trainer.run();
    expect(r.state.totalSteps).toBe(400);
    expect(r.interrupted).toBe(true);
    expect(r.state.step).toBeLessThanOrEqual(2);
    expect(saves.at(-1)).toBe(r.state.step); // the interrupted state is checkpointed
    trainer.opt.dispose();
    policy.dispose();
  }, 60_000);
});
