// Frame dumps so a person can watch an episode: PNG per step (cameras side by
// side), plus an MP4 when ffmpeg is on PATH.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeData } from './demoStore.ts';
import { b64ToBytes, bytesToB64 } from '../runtime/b64.ts';
import { encodePng, hstack } from '../io/png.ts';

/** Writes DIR/<task>-<seed>/frame_0000.png ... (+ episode.mp4 if ffmpeg exists); returns the folder. */
export function writeEpisodeVideo(dir: string, ep: EpisodeData, finalFrames: Record<string, string> | null, res: number, extra: Record<string, unknown> = {}): string {
  const out = join(dir, `${ep.episode.task}-${ep.episode.seed}`);
  mkdirSync(out, { recursive: true });
  const cams = Object.keys(ep.images);
  const size = res * res * 3;
  const frameAt = (t: number) => hstack(cams.map((c) => ({ width: res, height: res, data: ep.images[c].subarray(t * size, (t + 1) * size) })));
  let n = 0;
  for (let t = 0; t < ep.steps; t++) writeFileSync(join(out, `frame_${String(n++).padStart(4, '0')}.png`), pngOf(frameAt(t)));
  if (finalFrames) {
    const last = hstack(cams.map((c) => ({ width: res, height: res, data: b64ToBytes(finalFrames[c]) })));
    writeFileSync(join(out, `frame_${String(n++).padStart(4, '0')}.png`), pngOf(last));
  }
  writeFileSync(join(out, 'episode.json'), JSON.stringify({ instruction: ep.episode.instruction, success: ep.success, steps: ep.steps, cameras: cams, ...extra, episode: ep.episode }, null, 2));
  const ff = spawnSync('ffmpeg', ['-y', '-loglevel', 'error', '-framerate', '10', '-i', join(out, 'frame_%04d.png'), '-vf', 'scale=iw*4:ih*4:flags=neighbor', '-pix_fmt', 'yuv420p', join(out, 'episode.mp4')], { stdio: 'ignore' });
  void ff; // optional: absent ffmpeg just means PNGs only
  return out;
}

const pngOf = (im: { width: number; height: number; data: Uint8Array }) => encodePng(im.width, im.height, im.data);

/** A policy episode from the page (frames: [steps + 1] per camera, the last after the final action) as PNG frames. */
export function writePolicyVideo(dir: string, w: { episode: EpisodeData['episode']; steps: number; success: boolean; frames: Record<string, string>; actions?: number[][] }, res: number, extra: Record<string, unknown> = {}): string {
  const size = res * res * 3;
  const images: Record<string, Uint8Array> = {};
  const finalFrames: Record<string, string> = {};
  for (const [cam, b64] of Object.entries(w.frames)) {
    const all = b64ToBytes(b64);
    const n = all.length / size;
    images[cam] = all.subarray(0, (n - 1) * size);
    finalFrames[cam] = bytesToB64(all.subarray((n - 1) * size));
  }
  const ep: EpisodeData = { episode: w.episode, steps: w.steps, success: w.success, images, proprio: new Float32Array(0), actions: new Float32Array(0) };
  return writeEpisodeVideo(dir, ep, finalFrames, res, { ...extra, ...(w.actions ? { actions: w.actions.map((a) => a.map((v) => Math.round(v * 1e4) / 1e4)) } : {}) });
}
