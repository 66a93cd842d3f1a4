// Camera streams as MP4 through an ffmpeg child process (Node only).
//
// LeRobotDataset v3 keeps each camera as MP4 files holding many episodes back to back; a frame
// is found by time (episode from_timestamp + frame_index / fps). Raw RGB frames go to ffmpeg's
// stdin as they are read, one episode at a time, so an export never holds a whole camera stream
// in memory. Encoding: H.264 (libx264), yuv420p, constant frame rate, a keyframe every 2 frames
// (LeRobot's default GOP, cheap random access) and no B-frames, so presentation order is decode
// order and frame k is stamped exactly k / fps with no edit list. LeRobot's own default codec is
// AV1 (libsvtav1); H.264 decodes everywhere (PyAV, torchcodec, browsers) and is in Debian's ffmpeg.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface VideoEncoding {
  /** ffmpeg encoder and the codec / pixel format it writes (recorded in info.json). */
  encoder: 'libx264';
  codec: 'h264';
  pixFmt: 'yuv420p';
  /** GOP size (keyframe interval, frames). */
  g: number;
  /** x264 constant rate factor: lower is better quality, bigger files. */
  crf: number;
  preset: string;
}

export const DEFAULT_VIDEO: VideoEncoding = { encoder: 'libx264', codec: 'h264', pixFmt: 'yuv420p', g: 2, crf: 18, preset: 'medium' };

/**
 * Fails early, with the fix, when `ffmpeg` cannot run or lacks the encoder; returns its version line.
 */
export function checkFfmpeg(ffmpeg: string, enc: VideoEncoding = DEFAULT_VIDEO): string {
  const r = spawnSync(ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'not found' : `did not run (${r.error?.message ?? `exit ${r.status}`})`;
    throw new Error(
      `ffmpeg ${why} (looked for "${ffmpeg}"${ffmpeg.includes('/') ? '' : ' on PATH'}): LeRobot datasets store camera streams as MP4 video, ` +
      'so the export needs ffmpeg. Install it (Debian/Ubuntu: apt-get install ffmpeg, or bash bin/setup.sh) or pass --ffmpeg PATH.',
    );
  }
  if (!new RegExp(`^\\s*V\\S*\\s+${enc.encoder}\\s`, 'm').test(r.stdout)) {
    throw new Error(`${ffmpeg} has no ${enc.encoder} encoder (see "${ffmpeg} -encoders"): install a build with it (Debian's ffmpeg package has it)`);
  }
  return spawnSync(ffmpeg, ['-version'], { encoding: 'utf8' }).stdout.split('\n')[0];
}

/** One MP4 being written: push frames, then finish() resolves when ffmpeg exits cleanly. */
export class VideoStream {
  private readonly stdin: Writable;
  private readonly done: Promise<void>;
  private stderr = '';
  private failed: Error | null = null;
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  frames = 0;

  constructor(ffmpeg: string, readonly path: string, readonly width: number, readonly height: number, fps: number, enc: VideoEncoding = DEFAULT_VIDEO) {
    if (width % 2 || height % 2) throw new Error(`${path}: ${enc.pixFmt} video needs even frame sizes, got ${width}x${height} (collect with an even --resolution)`);
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', 'pipe:0',
      '-c:v', enc.encoder, '-pix_fmt', enc.pixFmt, '-g', String(enc.g), '-bf', '0', '-crf', String(enc.crf), '-preset', enc.preset,
      '-r', String(fps), '-movflags', '+faststart', '-an', path,
    ];
    // '-nostdin' stops ffmpeg reading keys from the terminal; frames still come through pipe:0
    const child = (this.child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] }));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-4000)));
    this.stdin = child.stdin;
    this.stdin.on('error', (e) => (this.failed ??= e));
    this.done = new Promise((resolve, reject) => {
      child.on('error', (e) => reject(new Error(`${ffmpeg}: ${e.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`ffmpeg failed writing ${path} (${signal ?? `exit ${code}`}): ${this.stderr.trim() || 'no message'}`));
      });
    });
    this.done.catch(() => undefined); // observed in finish(); avoid an unhandled rejection meanwhile
  }

  /** Appends frames ([n, H, W, 3] RGB bytes, rows top-down); waits while ffmpeg's pipe is full. */
  async write(rgb: Uint8Array): Promise<void> {
    const size = this.width * this.height * 3;
    if (rgb.length % size !== 0) throw new Error(`${this.path}: ${rgb.length} bytes are not whole ${this.width}x${this.height} RGB frames`);
    if (this.failed) await this.finish();
    this.frames += rgb.length / size;
    if (!this.stdin.write(rgb)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          this.stdin.off('drain', go);
          this.stdin.off('close', go);
          resolve();
        };
        this.stdin.on('drain', go);
        this.stdin.on('close', go);
      });
    }
  }

  async finish(): Promise<void> {
    this.stdin.end();
    await this.done;
  }

  /** Stops ffmpeg (an export that failed elsewhere). */
  abort(): void {
    this.stdin.destroy();
    this.child.kill('SIGKILL');
  }
}
