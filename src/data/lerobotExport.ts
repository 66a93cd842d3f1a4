// Export a vlalab demo dataset as a LeRobotDataset v3.0 (Node only), so the demonstrations can be
// trained on with LeRobot (`LeRobotDataset(repo_id, root=OUT)`) and shared on the Hugging Face Hub.
//
// Layout (LeRobot docs/source/lerobot-dataset-v3.mdx, src/lerobot/datasets/utils.py): many episodes
// per file, episode boundaries held in metadata.
//   meta/info.json      codebase_version "v3.0", fps, robot_type, features (dtype/shape/names; video
//                       info for each camera), totals, splits, chunk settings, data/video path templates
//   meta/stats.json     per-feature min/max/mean/std/count/quantiles (lerobotStats.ts)
//   meta/tasks.parquet  task string (the episode's instruction) -> task_index; the task is the pandas
//                       index, as LeRobot writes it (DataFrame.to_parquet keeps it through "pandas" metadata)
//   meta/episodes/chunk-000/file-000.parquet
//                       one row per episode: episode_index, tasks, length, data/ and videos/<key>/
//                       chunk+file indices, dataset_from/to_index, videos/<key>/from/to_timestamp
//   data/chunk-000/file-000.parquet
//                       one row per frame: observation.state, action, timestamp, frame_index,
//                       episode_index, index, task_index; one row group per episode
//   videos/observation.images.<camera>/chunk-000/file-000.mp4
//                       every episode's frames back to back (ffmpegVideo.ts)
//   meta/vlalab.json    provenance (not read by LeRobot): source suite/split, bounds, episode ids
// Everything fits one file per kind here (LeRobot starts a new file past 100 MB of Parquet or 200 MB
// of video; a 1000-episode 96x96 set is far below). The export is written to OUT.partial-<pid> and
// renamed to OUT when complete, so a failed export leaves nothing behind.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONTROL_HZ } from '../../sim/config.ts';
import { writeParquet, type Column } from '../io/parquet.ts';
import { readDatasetInfo, readEpisode, readIndex } from './demoStore.ts';
import { DEFAULT_VIDEO, VideoStream, checkFfmpeg, type VideoEncoding } from './ffmpegVideo.ts';
import { ImageStats, VectorStats } from './lerobotStats.ts';

export const LEROBOT_CODEBASE_VERSION = 'v3.0';
export const LEROBOT_ROBOT_TYPE = 'vlalab_gripper';
const CHUNKS_SIZE = 1000;
const DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet';
const VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4';
const FILE_000 = 'chunk-000/file-000';

export interface LeRobotExportOptions {
  data: string;
  out: string;
  /** Also export failed episodes (default: successful ones only, what training uses). */
  includeFailed?: boolean;
  /** ffmpeg executable (default "ffmpeg" on PATH). */
  ffmpeg?: string;
  video?: VideoEncoding;
}

export interface LeRobotExportSummary {
  out: string;
  format: 'lerobot';
  codebaseVersion: string;
  episodes: number;
  frames: number;
  tasks: number;
  skippedFailed: number;
  fps: number;
  cameras: string[];
  video: { codec: string; pixFmt: string; crf: number; ffmpeg: string };
}

export const videoKey = (camera: string) => `observation.images.${camera}`;

export async function exportLeRobot(o: LeRobotExportOptions): Promise<LeRobotExportSummary> {
  const info = readDatasetInfo(o.data);
  const all = readIndex(o.data).filter((e) => e.steps > 0);
  const entries = o.includeFailed ? all : all.filter((e) => e.success);
  if (!entries.length) throw new Error(`${o.data}: no ${o.includeFailed ? '' : 'successful '}episodes to export${o.includeFailed ? '' : ' (--include-failed exports failed ones too)'}`);
  if (existsSync(o.out) && readdirSync(o.out).length) throw new Error(`${o.out} already exists and is not empty: choose a new output directory`);
  const ffmpeg = o.ffmpeg ?? 'ffmpeg', enc = o.video ?? DEFAULT_VIDEO;
  const ffmpegVersion = info.cameras.length ? checkFfmpeg(ffmpeg, enc) : 'none';
  const fps = CONTROL_HZ, res = info.resolution, P = info.proprioNames.length, A = info.actionNames.length;

  const tmp = `${resolve(o.out)}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const path = (rel: string) => {
    const p = join(tmp, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  };
  const streams: VideoStream[] = [];
  try {
    for (const cam of info.cameras) streams.push(new VideoStream(ffmpeg, path(`videos/${videoKey(cam)}/${FILE_000}.mp4`), res, res, fps, enc));
    const taskIndex = new Map<string, number>();
    const frames = { state: [] as Float32Array[], action: [] as Float32Array[], timestamp: [] as number[], frame: [] as number[], episode: [] as number[], task: [] as number[] };
    const stats = {
      'observation.state': new VectorStats(P), action: new VectorStats(A), timestamp: new VectorStats(1), frame_index: new VectorStats(1),
      episode_index: new VectorStats(1), index: new VectorStats(1), task_index: new VectorStats(1),
    };
    const images = info.cameras.map(() => new ImageStats());
    const episodes: { index: number; task: string; length: number; from: number; source: (typeof entries)[number] }[] = [];
    for (const [e, entry] of entries.entries()) {
      const ep = readEpisode(o.data, entry, info);
      const T = ep.steps;
      if (ep.proprio.length !== T * P || ep.actions.length !== T * A) {
        throw new Error(`${join(o.data, entry.file)}: proprio [${ep.proprio.length / T}] / actions [${ep.actions.length / T}] per step, dataset.json says ${P} / ${A}`);
      }
      const task = ep.episode.instruction;
      if (!taskIndex.has(task)) taskIndex.set(task, taskIndex.size);
      const ti = taskIndex.get(task)!;
      const from = frames.frame.length;
      for (let t = 0; t < T; t++) {
        frames.state.push(ep.proprio.subarray(t * P, (t + 1) * P));
        frames.action.push(ep.actions.subarray(t * A, (t + 1) * A));
        frames.timestamp.push(Math.fround(t / fps));
        frames.frame.push(t);
        frames.episode.push(e);
        frames.task.push(ti);
        stats.timestamp.add(Math.fround(t / fps));
        stats.frame_index.add(t);
        stats.episode_index.add(e);
        stats.index.add(from + t);
        stats.task_index.add(ti);
      }
      stats['observation.state'].addRows(ep.proprio);
      stats.action.addRows(ep.actions);
      for (const [c, cam] of info.cameras.entries()) {
        images[c].addFrames(ep.images[cam], T);
        await streams[c].write(ep.images[cam]);
      }
      episodes.push({ index: e, task, length: T, from, source: entry });
    }
    for (const s of streams) await s.finish();
    const total = frames.frame.length;

    writeParquet(path(`data/${FILE_000}.parquet`), [
      { name: 'observation.state', type: 'float32[]', data: frames.state },
      { name: 'action', type: 'float32[]', data: frames.action },
      { name: 'timestamp', type: 'float32', data: frames.timestamp },
      { name: 'frame_index', type: 'int64', data: frames.frame },
      { name: 'episode_index', type: 'int64', data: frames.episode },
      { name: 'index', type: 'int64', data: Array.from({ length: total }, (_, i) => i) },
      { name: 'task_index', type: 'int64', data: frames.task },
    ], { rowGroups: episodes.map((ep) => ep.length) });

    const zeros = episodes.map(() => 0);
    const epCols: Column[] = [
      { name: 'episode_index', type: 'int64', data: episodes.map((ep) => ep.index) },
      { name: 'tasks', type: 'string[]', data: episodes.map((ep) => [ep.task]) },
      { name: 'length', type: 'int64', data: episodes.map((ep) => ep.length) },
      { name: 'data/chunk_index', type: 'int64', data: zeros },
      { name: 'data/file_index', type: 'int64', data: zeros },
      { name: 'dataset_from_index', type: 'int64', data: episodes.map((ep) => ep.from) },
      { name: 'dataset_to_index', type: 'int64', data: episodes.map((ep) => ep.from + ep.length) },
    ];
    for (const cam of info.cameras) {
      const k = `videos/${videoKey(cam)}`;
      epCols.push(
        { name: `${k}/chunk_index`, type: 'int64', data: zeros },
        { name: `${k}/file_index`, type: 'int64', data: zeros },
        // frames of all episodes back to back at a constant rate: episode e starts at frame `from`
        { name: `${k}/from_timestamp`, type: 'float64', data: episodes.map((ep) => ep.from / fps) },
        { name: `${k}/to_timestamp`, type: 'float64', data: episodes.map((ep) => (ep.from + ep.length) / fps) },
      );
    }
    epCols.push({ name: 'meta/episodes/chunk_index', type: 'int64', data: zeros }, { name: 'meta/episodes/file_index', type: 'int64', data: zeros });
    writeParquet(path(`meta/episodes/${FILE_000}.parquet`), epCols);

    const tasks = [...taskIndex.keys()];
    writeParquet(path('meta/tasks.parquet'), [
      { name: 'task_index', type: 'int64', data: tasks.map((_, i) => i) },
      { name: 'task', type: 'string', data: tasks },
    ], { kvMetadata: { pandas: JSON.stringify(pandasIndexMeta('task', 'task_index')) } });

    const videoInfo = {
      'video.height': res, 'video.width': res, 'video.codec': enc.codec, 'video.pix_fmt': enc.pixFmt, 'video.fps': fps, 'video.channels': 3,
      'video.g': enc.g, 'video.crf': enc.crf, 'video.preset': enc.preset, 'video.fast_decode': 0, 'video.extra_options': {},
      is_depth_map: false, has_audio: false,
    };
    const scalar = (dtype: string) => ({ dtype, shape: [1], names: null });
    const features: Record<string, unknown> = {
      'observation.state': { dtype: 'float32', shape: [P], names: [...info.proprioNames] },
      action: { dtype: 'float32', shape: [A], names: [...info.actionNames] },
      ...Object.fromEntries(info.cameras.map((cam) => [videoKey(cam), { dtype: 'video', shape: [res, res, 3], names: ['height', 'width', 'channels'], info: videoInfo }])),
      timestamp: scalar('float32'), frame_index: scalar('int64'), episode_index: scalar('int64'), index: scalar('int64'), task_index: scalar('int64'),
    };
    const json = (rel: string, v: unknown) => writeFileSync(path(rel), JSON.stringify(v, null, 4) + '\n');
    json('meta/info.json', {
      codebase_version: LEROBOT_CODEBASE_VERSION, robot_type: LEROBOT_ROBOT_TYPE, total_episodes: episodes.length, total_frames: total, total_tasks: tasks.length,
      chunks_size: CHUNKS_SIZE, data_files_size_in_mb: 100, video_files_size_in_mb: 200, fps, splits: { train: `0:${episodes.length}` },
      data_path: DATA_PATH, video_path: info.cameras.length ? VIDEO_PATH : null, features,
    });
    json('meta/stats.json', {
      ...Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, s.result()])),
      ...Object.fromEntries(info.cameras.map((cam, c) => [videoKey(cam), images[c].result()])),
    });
    json('meta/vlalab.json', {
      source: resolve(o.data), suite: info.suite, suiteVersion: info.suiteVersion, split: info.split, noise: info.noise ?? 0,
      actionLow: info.actionLow, actionHigh: info.actionHigh, ffmpeg: ffmpegVersion,
      episodes: episodes.map((ep) => ({ episode_index: ep.index, task: ep.source.task, seed: ep.source.seed, success: ep.source.success, file: ep.source.file })),
    });
    rmSync(o.out, { recursive: true, force: true }); // only ever an empty directory here (checked above)
    renameSync(tmp, o.out);
    return {
      out: o.out, format: 'lerobot', codebaseVersion: LEROBOT_CODEBASE_VERSION, episodes: episodes.length, frames: total, tasks: tasks.length,
      skippedFailed: all.length - entries.length, fps, cameras: info.cameras, video: { codec: enc.codec, pixFmt: enc.pixFmt, crf: enc.crf, ffmpeg: ffmpegVersion },
    };
  } catch (e) {
    for (const s of streams) s.abort();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** pandas' DataFrame.to_parquet metadata for a frame indexed by `index` with one int64 column. */
function pandasIndexMeta(index: string, column: string) {
  return {
    index_columns: [index],
    column_indexes: [{ name: null, field_name: null, pandas_type: 'unicode', numpy_type: 'object', metadata: { encoding: 'UTF-8' } }],
    columns: [
      { name: column, field_name: column, pandas_type: 'int64', numpy_type: 'int64', metadata: null },
      { name: index, field_name: index, pandas_type: 'unicode', numpy_type: 'object', metadata: null },
    ],
    creator: { library: 'vlalab', version: '0.1.0' },
    pandas_version: '2.2.0',
  };
}
