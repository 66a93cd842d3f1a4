// `vlalab export`: rewrite a checkpoint for shipping — F16 weights (half the
// size) and no optimizer state — keeping its config, dataset and training
// records and its metrics (and, with decodePoint / chunkExecution, sets how it
// decodes and how it executes its chunks). The result loads like any checkpoint.
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PointEstimate } from '../../policies/gpt.ts';
import { type ChunkExecution, checkChunkExecution, chunkExecutionLabel } from '../../policies/chunkExecution.ts';
import { initBackend } from '../tf/backend.ts';
import { CONFIG_FILE, INIT_METRICS_FILE, METRICS_FILE, WEIGHTS_FILE, loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';

export async function exportCheckpoint(o: { checkpoint: string; out: string; f16: boolean; decodePoint?: PointEstimate; chunkExecution?: ChunkExecution }): Promise<{ out: string; dtype: string; decodePoint: PointEstimate; chunkExecution: string; bytes: number; before: number }> {
  if (resolve(o.checkpoint) === resolve(o.out)) throw new Error('--out must differ from --checkpoint (export writes a new checkpoint)');
  if (existsSync(join(o.out, CONFIG_FILE))) throw new Error(`${o.out} already holds a checkpoint: choose another --out`);
  await initBackend('cpu');
  const { policy, config } = await loadCheckpoint(o.checkpoint);
  if (o.decodePoint) policy.config.decodePoint = o.decodePoint;
  if (o.chunkExecution) {
    try {
      policy.config.chunkExecution = checkChunkExecution(o.chunkExecution, policy.config.chunkLength);
    } catch (e) {
      policy.dispose();
      throw new Error(`--chunk-exec for ${o.checkpoint} (chunk length ${policy.config.chunkLength}): ${(e as Error).message}`);
    }
  }
  const decodePoint = policy.config.decodePoint;
  const chunkExecution = chunkExecutionLabel(policy.config.chunkExecution);
  try {
    await saveCheckpoint(o.out, policy, {
      policyName: config.policy.name, dataset: config.dataset, training: config.training, gitCommit: config.vlalab.gitCommit, f16: o.f16,
      stamp: { exportedFrom: config.weights.dtype },
    });
  } finally {
    policy.dispose();
  }
  for (const f of [METRICS_FILE, INIT_METRICS_FILE]) if (existsSync(join(o.checkpoint, f))) copyFileSync(join(o.checkpoint, f), join(o.out, f));
  return { out: o.out, dtype: o.f16 ? 'F16' : 'F32', decodePoint, chunkExecution, bytes: statSync(join(o.out, WEIGHTS_FILE)).size, before: statSync(join(o.checkpoint, WEIGHTS_FILE)).size };
}
