// `vlalab export`: rewrite a checkpoint for shipping — F16 weights (half the
// size) and no optimizer state — keeping its config, dataset and training
// records and its metrics (and, with decodePoint, sets how it decodes). The
// result loads like any checkpoint.
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PointEstimate } from '../../policies/gpt.ts';
import { initBackend } from '../tf/backend.ts';
import { CONFIG_FILE, INIT_METRICS_FILE, METRICS_FILE, WEIGHTS_FILE, loadCheckpoint, saveCheckpoint } from '../train/checkpoint.ts';

export async function exportCheckpoint(o: { checkpoint: string; out: string; f16: boolean; decodePoint?: PointEstimate }): Promise<{ out: string; dtype: string; decodePoint: PointEstimate; bytes: number; before: number }> {
  if (resolve(o.checkpoint) === resolve(o.out)) throw new Error('--out must differ from --checkpoint (export writes a new checkpoint)');
  if (existsSync(join(o.out, CONFIG_FILE))) throw new Error(`${o.out} already holds a checkpoint: choose another --out`);
  await initBackend('cpu');
  const { policy, config } = await loadCheckpoint(o.checkpoint);
  if (o.decodePoint) policy.config.decodePoint = o.decodePoint;
  const decodePoint = policy.config.decodePoint;
  try {
    await saveCheckpoint(o.out, policy, {
      policyName: config.policy.name, dataset: config.dataset, training: config.training, gitCommit: config.vlalab.gitCommit, f16: o.f16,
      stamp: { exportedFrom: config.weights.dtype },
    });
  } finally {
    policy.dispose();
  }
  for (const f of [METRICS_FILE, INIT_METRICS_FILE]) if (existsSync(join(o.checkpoint, f))) copyFileSync(join(o.checkpoint, f), join(o.out, f));
  return { out: o.out, dtype: o.f16 ? 'F16' : 'F32', decodePoint, bytes: statSync(join(o.out, WEIGHTS_FILE)).size, before: statSync(join(o.checkpoint, WEIGHTS_FILE)).size };
}
