// Chunked policies in evaluation: an --chunk-exec override is part of the
// label and of the protocol (resume refuses a mix), records written before the
// field existed count as each checkpoint's own execution, and the summary
// reports latency per inference apart from per control step.
import { describe, expect, it } from 'vitest';
import { checkProtocol, protocolDiff, type EvalProtocol } from '../../src/eval/fingerprint.ts';
import type { EpisodeRecord } from '../../src/eval/records.ts';
import { parsePolicySpec, policyPlan } from '../../src/eval/setup.ts';
import { summarize } from '../../src/eval/summary.ts';

const P: EvalProtocol = { terminateOnSuccess: false, ignoreTerminate: false, decode: 'checkpoint', chunkExecution: 'checkpoint', backend: 'auto', resolution: 96 };
const step = (infer: boolean, total: number) => ({ captureMs: 1, transferMs: 0.5, backboneMs: infer ? 10 : 0, decoderMs: infer ? 4 : 0, totalMs: total });

describe('chunk execution in eval', () => {
  it('an override labels the policy and its blind baseline', () => {
    const spec = parsePolicySpec('checkpoints/efficientnet-film', undefined, { mode: 'receding', every: 2 });
    expect(spec.label).toBe('efficientnet-film@receding2');
    expect(spec.chunkExecution).toEqual({ mode: 'receding', every: 2 });
    const plan = policyPlan(['checkpoints/efficientnet-film'], true, undefined, { mode: 'ensemble', decay: 0.01 });
    expect(plan.map((s) => s.label).sort()).toEqual(['efficientnet-film@ensemble0.01', 'efficientnet-film@ensemble0.01+blind', 'expert']);
  });

  it('is part of the protocol: a resume under another execution is refused, records from before the field are the checkpoint default', () => {
    const old = { ...P } as Partial<EvalProtocol>;
    delete old.chunkExecution;
    expect(protocolDiff(old as EvalProtocol, P)).toEqual([]);
    const rec = { policy: 'x', protocol: P } as EpisodeRecord;
    expect(() => checkProtocol([rec], { ...P, chunkExecution: 'receding2' }, 'episodes.jsonl')).toThrow(/chunkExecution "checkpoint" vs "receding2"/);
  });

  it('reports latency per inference apart from per control step, and the sustained control rate', () => {
    // a K=4 open-loop policy: one inference (50 ms) then three replays (5 ms)
    const latency = [step(true, 50), step(false, 5), step(false, 5), step(false, 5), step(true, 50), step(false, 5), step(false, 5), step(false, 5)];
    const r = { suite: 's', suiteVersion: '1', split: 'x', task: 't', seed: 1, instruction: 'i', policy: 'p', backbone: 'b', backend: 'wasm', success: true, steps: 8, terminated: true, latency, warmup: [], wallMs: 1 } as EpisodeRecord;
    const [s] = summarize([r]);
    expect(s.perInference!.share).toBe(0.25);
    expect(s.perInference!.backboneMs.p50).toBe(10);
    expect(s.perInference!.totalMs.p50).toBe(50);
    expect(s.meanStepHz).toBeCloseTo(1000 / 16.25, 6);
    expect(s.controlHz).toBeCloseTo(1000 / 5, 6); // the median step is a replay
  });
});
