// Checkpoint loading for the inference worker: a checkpoint directory served
// over HTTP (config.json + weights.safetensors, src/train/checkpoint.ts),
// rebuilt into a VlaPolicy. Overrides change no weight, so the same files
// load and config.json's consistency checks still apply: `blind` (the
// vision-ablation baseline of a trained checkpoint) and `decodePoint` (greedy
// decoding's point estimate, policies/gpt.ts) and `chunkExecution` (how
// predicted chunks are executed, policies/chunkExecution.ts).
import type { PointEstimate } from '../../policies/gpt.ts';
import type { ChunkExecution } from '../../policies/chunkExecution.ts';
import type { VlaPolicy } from '../../policies/policy.ts';
import { CONFIG_FILE, WEIGHTS_FILE, loadCheckpoint, parseConfig, readCheckpointFile } from '../train/checkpoint.ts';

/** `url` must be absolute: in a worker, relative URLs resolve against the worker script. */
export async function loadCheckpointPolicy(url: string, overrides: { blind?: boolean; decodePoint?: PointEstimate; chunkExecution?: ChunkExecution } = {}): Promise<{ policy: VlaPolicy; name: string }> {
  // Only the overrides actually given patch the config (blind: false changes nothing either).
  const patch = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined && v !== false));
  if (Object.keys(patch).length === 0) {
    const { policy, config } = await loadCheckpoint(url);
    return { policy, name: config.policy.name };
  }
  const where = url.endsWith('/') ? url + CONFIG_FILE : `${url}/${CONFIG_FILE}`;
  const config = parseConfig(new TextDecoder().decode((await readCheckpointFile(url, CONFIG_FILE))!), where);
  const weights = (await readCheckpointFile(url, config.weights?.file ?? WEIGHTS_FILE))!;
  const patched = { ...config, policy: { ...config.policy, config: { ...config.policy.config, ...patch } } };
  try {
    const { policy } = await loadCheckpoint({ config: patched, weights });
    return { policy, name: config.policy.name };
  } catch (e) {
    // Loaded from memory, the error names the bare file: say which checkpoint's file it is.
    const file = config.weights?.file ?? WEIGHTS_FILE;
    if (e instanceof Error && e.message.startsWith(file)) e.message = `${url.endsWith('/') ? url : url + '/'}${e.message}`;
    throw e;
  }
}
