// `export-dataset --format lerobot` read back with independent readers: hyparquet for the Parquet
// tables, JSON.parse for info/stats, ffprobe + ffmpeg for the MP4 streams. Everything is checked
// against the source episodes (read with demoStore), row for row. Needs ffmpeg (bin/setup.sh
// installs it): without it these tests fail, they are never skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_HZ } from '../../sim/config.ts';
import { readDatasetInfo, readEpisode, readIndex, type EpisodeData } from '../../src/data/demoStore.ts';
import { exportLeRobot, type LeRobotExportSummary } from '../../src/data/lerobotExport.ts';
import { SYNTH_FAILED, SYNTH_INSTRUCTIONS, SYNTH_LENGTHS, writeSynthDataset } from './lerobotSynth.ts';

const RES = 32;
const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'vlalab-lerobot-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Row = Record<string, unknown>;
async function readTable(path: string): Promise<Row[]> {
  const b = readFileSync(path);
  return (await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) })) as Row[];
}
const metaOf = (path: string) => {
  const b = readFileSync(path);
  return parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

let data: string, out: string, summary: LeRobotExportSummary;
let source: EpisodeData[]; // the exported (successful) episodes, in export order
const total = SYNTH_LENGTHS.filter((_, e) => e !== SYNTH_FAILED).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  data = writeSynthDataset(join(temp(), 'demos'), RES);
  out = join(temp(), 'lerobot');
  summary = await exportLeRobot({ data, out });
  const info = readDatasetInfo(data);
  source = readIndex(data).filter((e) => e.success).map((e) => readEpisode(data, e, info));
});

describe('export-dataset --format lerobot', () => {
  it('writes LeRobot v3 info.json: version, fps from the sim, features, totals, path templates', () => {
    const info = json(join(out, 'meta/info.json'));
    expect(info).toMatchObject({
      codebase_version: 'v3.0', fps: CONTROL_HZ, robot_type: 'vlalab_gripper', total_episodes: 3, total_frames: total, total_tasks: 2,
      splits: { train: '0:3' }, chunks_size: 1000,
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
    });
    expect(CONTROL_HZ).toBe(10);
    const f = info.features;
    expect(f['observation.state']).toEqual({ dtype: 'float32', shape: [6], names: ['x', 'y', 'z', 'yaw', 'gap', 'gripper_cmd'] });
    expect(f.action).toEqual({ dtype: 'float32', shape: [6], names: ['dx', 'dy', 'dz', 'dyaw', 'gripper', 'terminate'] });
    for (const k of ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']) {
      expect(f[k]).toEqual({ dtype: k === 'timestamp' ? 'float32' : 'int64', shape: [1], names: null });
    }
    for (const cam of ['scene', 'wrist']) {
      expect(f[`observation.images.${cam}`]).toMatchObject({
        dtype: 'video', shape: [RES, RES, 3], names: ['height', 'width', 'channels'],
        info: { 'video.codec': 'h264', 'video.pix_fmt': 'yuv420p', 'video.fps': 10, 'video.height': RES, 'video.width': RES, 'video.channels': 3, has_audio: false, is_depth_map: false },
      });
    }
    const fill = (t: string, video_key = '') => t.replace('{video_key}', video_key).replace('{chunk_index:03d}', '000').replace('{file_index:03d}', '000');
    expect(existsSync(join(out, fill(info.data_path)))).toBe(true);
    for (const cam of ['scene', 'wrist']) expect(existsSync(join(out, fill(info.video_path, `observation.images.${cam}`)))).toBe(true);
    expect(summary).toMatchObject({ episodes: 3, frames: total, tasks: 2, skippedFailed: 1, fps: 10 });
    expect(readdirSync(join(out, '..')).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('data Parquet matches the source episodes row for row, one row group per episode', async () => {
    const rows = await readTable(join(out, 'data/chunk-000/file-000.parquet'));
    expect(rows).toHaveLength(total);
    const md = metaOf(join(out, 'data/chunk-000/file-000.parquet'));
    expect(md.row_groups.map((g) => Number(g.num_rows))).toEqual(source.map((ep) => ep.steps));
    const leaf = Object.fromEntries(md.schema.filter((s) => s.type).map((s) => [s.name, s.type]));
    expect(leaf).toMatchObject({ element: 'FLOAT', timestamp: 'FLOAT', frame_index: 'INT64', index: 'INT64', task_index: 'INT64' });
    const taskOf = new Map([[SYNTH_INSTRUCTIONS[0], 0], [SYNTH_INSTRUCTIONS[1], 1]]);
    let i = 0;
    source.forEach((ep, e) => {
      for (let t = 0; t < ep.steps; t++, i++) {
        const r = rows[i];
        expect(r['observation.state']).toEqual(Array.from(ep.proprio.subarray(t * 6, t * 6 + 6)));
        expect(r.action).toEqual(Array.from(ep.actions.subarray(t * 6, t * 6 + 6)));
        expect(r.timestamp).toBe(Math.fround(t / 10));
        expect([r.frame_index, r.episode_index, r.index, r.task_index]).toEqual([BigInt(t), BigInt(e), BigInt(i), BigInt(taskOf.get(ep.episode.instruction)!)]);
      }
    });
  });

  it('tasks.parquet maps instructions to task_index (pandas index "task"); episodes Parquet locates every episode', async () => {
    const tasks = await readTable(join(out, 'meta/tasks.parquet'));
    expect(tasks).toEqual([{ task_index: 0n, task: SYNTH_INSTRUCTIONS[0] }, { task_index: 1n, task: SYNTH_INSTRUCTIONS[1] }]);
    const pandas = metaOf(join(out, 'meta/tasks.parquet')).key_value_metadata?.find((kv) => kv.key === 'pandas');
    expect(JSON.parse(pandas!.value!).index_columns).toEqual(['task']);

    const eps = await readTable(join(out, 'meta/episodes/chunk-000/file-000.parquet'));
    expect(eps).toHaveLength(3);
    let from = 0;
    source.forEach((ep, e) => {
      const r = eps[e];
      expect(r).toMatchObject({
        episode_index: BigInt(e), tasks: [ep.episode.instruction], length: BigInt(ep.steps), 'data/chunk_index': 0n, 'data/file_index': 0n,
        dataset_from_index: BigInt(from), dataset_to_index: BigInt(from + ep.steps), 'meta/episodes/chunk_index': 0n, 'meta/episodes/file_index': 0n,
      });
      for (const cam of ['scene', 'wrist']) {
        const k = `videos/observation.images.${cam}`;
        expect([r[`${k}/chunk_index`], r[`${k}/file_index`]]).toEqual([0n, 0n]);
        expect(r[`${k}/from_timestamp`]).toBeCloseTo(from / 10, 12);
        expect(r[`${k}/to_timestamp`]).toBeCloseTo((from + ep.steps) / 10, 12);
      }
      from += ep.steps;
    });
    const prov = json(join(out, 'meta/vlalab.json'));
    expect(prov.episodes.map((p: { seed: number }) => p.seed)).toEqual(source.map((ep) => ep.episode.seed));
  });

  it('stats.json: per-dimension and per-channel stats recomputed from the source', () => {
    const stats = json(join(out, 'meta/stats.json'));
    for (const [key, field] of [['observation.state', 'proprio'], ['action', 'actions']] as const) {
      const s = stats[key];
      expect(s.count).toEqual([total]);
      for (let d = 0; d < 6; d++) {
        const v = source.flatMap((ep) => Array.from({ length: ep.steps }, (_, t) => ep[field][t * 6 + d])).sort((a, b) => a - b);
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        expect([s.min[d], s.max[d]]).toEqual([v[0] + 0, v[v.length - 1] + 0]); // + 0: JSON has no -0
        expect(s.mean[d]).toBeCloseTo(mean, 9);
        expect(s.std[d]).toBeCloseTo(Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), 9);
        expect(s.q50[d]).toBeCloseTo((v[(v.length - 1) >> 1] + v[v.length >> 1]) / 2, 9); // median, even count
        expect(s.q01[d]).toBeGreaterThanOrEqual(v[0]);
        expect(s.q99[d]).toBeLessThanOrEqual(v[v.length - 1]);
      }
    }
    expect(stats.frame_index).toMatchObject({ min: [0], max: [Math.max(...source.map((ep) => ep.steps)) - 1], count: [total] });
    expect(stats.index).toMatchObject({ min: [0], max: [total - 1], mean: [(total - 1) / 2] });
    for (const cam of ['scene', 'wrist']) {
      const s = stats[`observation.images.${cam}`];
      expect(s.count).toEqual([total]);
      for (let c = 0; c < 3; c++) {
        let sum = 0, n = 0, min = 255, max = 0;
        for (const ep of source) for (let i = c; i < ep.images[cam].length; i += 3) {
          const v = ep.images[cam][i];
          sum += v; n++; min = Math.min(min, v); max = Math.max(max, v);
        }
        expect(s.mean[c]).toEqual([[expect.closeTo(sum / n / 255, 9)]]);
        expect(s.min[c]).toEqual([[min / 255]]);
        expect(s.max[c]).toEqual([[max / 255]]);
      }
    }
  });

  it('videos: ffprobe sees every frame at from_timestamp + t/fps; decoded frames are close to their source frames', () => {
    const size = RES * RES * 3;
    for (const cam of ['scene', 'wrist']) {
      const mp4 = join(out, `videos/observation.images.${cam}/chunk-000/file-000.mp4`);
      const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt,width,height,r_frame_rate:frame=pts_time', '-of', 'json', mp4], { encoding: 'utf8' });
      expect(probe.status, probe.stderr).toBe(0);
      const p = JSON.parse(probe.stdout);
      expect(p.streams[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: RES, height: RES, r_frame_rate: '10/1' });
      expect(p.frames.map((f: { pts_time: string }) => Number(f.pts_time))).toEqual(Array.from({ length: total }, (_, k) => expect.closeTo(k / 10, 6)));

      const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', mp4, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
      expect(dec.status, String(dec.stderr)).toBe(0);
      expect(dec.stdout.length).toBe(total * size);
      const mae = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
      let k = 0;
      for (const ep of source) {
        const src = (t: number) => ep.images[cam].subarray(t * size, (t + 1) * size);
        for (let t = 0; t < ep.steps; t++, k++) {
          const got = new Uint8Array(dec.stdout.subarray(k * size, (k + 1) * size));
          const own = mae(got, src(t));
          // measured 2-5 (of 255) at crf 18, mostly yuv420p's half-resolution chroma at the square's edges;
          // a neighbouring frame is 8-15 away
          expect(own, `${cam} frame ${k}`).toBeLessThan(6);
          // in its place: closer to its own source frame than to the neighbouring ones
          if (t > 0) expect(own).toBeLessThan(mae(got, src(t - 1)));
          if (t + 1 < ep.steps) expect(own).toBeLessThan(mae(got, src(t + 1)));
        }
      }
    }
  });

  it('--include-failed exports every episode; refuses a non-empty OUT', async () => {
    const all = await exportLeRobot({ data, out: join(temp(), 'all'), includeFailed: true });
    expect(all).toMatchObject({ episodes: 4, frames: SYNTH_LENGTHS.reduce((a, b) => a + b, 0), skippedFailed: 0, tasks: 2 });
    expect(json(join(all.out, 'meta/vlalab.json')).episodes.map((p: { success: boolean }) => p.success)).toEqual([true, true, false, true]);
    await expect(exportLeRobot({ data, out })).rejects.toThrow(/already exists and is not empty/);
  });

  it('names the problem: ffmpeg missing, odd frame sizes; leaves no output behind', async () => {
    const dst = join(temp(), 'x');
    await expect(exportLeRobot({ data, out: dst, ffmpeg: '/nonexistent/ffmpeg' })).rejects.toThrow(/ffmpeg not found \(looked for "\/nonexistent\/ffmpeg"\).*apt-get install ffmpeg.*--ffmpeg PATH/);
    const odd = writeSynthDataset(join(temp(), 'odd'), 33, ['scene']);
    await expect(exportLeRobot({ data: odd, out: dst })).rejects.toThrow(/even frame sizes, got 33x33/);
    expect(existsSync(dst)).toBe(false);
    expect(readdirSync(join(dst, '..')).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('CLI: prints the summary as JSON; without ffmpeg on PATH it exits 1 with the fix', () => {
    const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, ['bin/vlalab.mjs', 'export-dataset', ...args], { encoding: 'utf8', env, timeout: 90_000 });
    const dst = join(temp(), 'cli');
    const ok = cli(['--format', 'lerobot', data, dst]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ format: 'lerobot', episodes: 3, frames: total, out: dst });
    expect(json(join(dst, 'meta/info.json')).total_frames).toBe(total);
    const noFfmpeg = cli(['--format', 'lerobot', data, join(temp(), 'none')], { ...process.env, PATH: temp() });
    expect(noFfmpeg.status).toBe(1);
    expect(noFfmpeg.stderr).toMatch(/vlalab: ffmpeg not found \(looked for "ffmpeg" on PATH\)/);
    expect(cli(['--format', 'rlds', data, dst]).stderr).toMatch(/--format must be lerobot .*got "rlds"/);
  }, 240_000);
});
