// Looking back at an episode once it has ended (or was stopped): a scrubber
// over its recorded steps (the viewer camera shows the recorded poses, the
// policy panel the recorded frames with the attention overlay), playback at
// the control rate, and downloads: a WebM clip of the viewer camera and the
// episode record as JSON. The share link is the page URL (urlState.ts).
// The clip: the recorded episode is played back in the orbit view at the
// control rate while a MediaRecorder captures the canvas (captureStream with
// one requested frame per step, so every step is one video frame however
// slow the machine draws).
import type { DemoApp } from './app.ts';
import type { OrbitView } from './orbitView.ts';
import { $ } from './panels.ts';

export class ReplayPanel {
  private playing = false;
  private busy = false;
  private readonly scrub = $<HTMLInputElement>('scrub');

  constructor(private readonly app: DemoApp, private readonly view: OrbitView) {
    this.scrub.addEventListener('input', () => {
      this.playing = false;
      this.show(Number(this.scrub.value));
    });
    $('replay-play').addEventListener('click', () => void (this.playing ? this.pause() : this.play()));
    $('dl-clip').addEventListener('click', () => void this.clip());
    $('dl-json').addEventListener('click', () => this.json());
    $('copy-link').addEventListener('click', () => void this.copyLink());
    app.on((phase) => {
      this.playing = false;
      $<HTMLInputElement>('share-url').value = app.link();
      if (phase === 'idle') this.enable();
      else this.disable(phase === 'running' ? 'recording…' : 'run the episode to record it');
    });
  }

  private get steps() {
    return this.app.record?.steps ?? [];
  }

  private enable(): void {
    const n = this.steps.length;
    const on = n > 1;
    for (const id of ['scrub', 'replay-play', 'dl-clip', 'dl-json']) $<HTMLButtonElement>(id).disabled = !on;
    this.scrub.max = String(n - 1);
    this.scrub.value = String(n - 1);
    $('replay-info').textContent = on ? `${n - 1} steps recorded: drag to look back` : 'nothing recorded yet';
    $('replay').dataset.state = on ? 'ready' : 'empty';
  }

  private disable(why: string): void {
    for (const id of ['scrub', 'replay-play', 'dl-clip', 'dl-json']) $<HTMLButtonElement>(id).disabled = true;
    this.scrub.value = '0';
    $('replay-info').textContent = why;
    $('replay').dataset.state = 'empty';
    this.view.override = null;
  }

  /** Shows step k everywhere: viewer camera at the recorded poses, policy frames, overlay, HUD. */
  show(k: number): void {
    const rec = this.steps[k];
    if (!rec) return;
    this.scrub.value = String(k);
    this.view.override = rec.poses;
    this.app.showStep(k, true);
    this.app.status.policy(this.app.label, 'replay', `step ${k}/${this.steps.length - 1}`);
    $('replay-info').textContent = `step ${k} of ${this.steps.length - 1}`;
  }

  /** Leaves the replay: the live scene again (the episode's last state). */
  live(): void {
    this.playing = false;
    this.view.override = null;
  }

  async play(): Promise<void> {
    if (this.playing || this.steps.length < 2) return;
    this.playing = true;
    $('replay-play').textContent = 'pause';
    let k = Number(this.scrub.value);
    if (k >= this.steps.length - 1) k = 0;
    while (this.playing && k < this.steps.length) {
      this.show(k++);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.pause();
  }

  pause(): void {
    this.playing = false;
    $('replay-play').textContent = 'play';
  }

  private fileStem(): string {
    const s = this.app.record!.meta.state;
    return `vlalab-${s.task}-seed${s.seed}-${s.policy.replace(/[^\w.-]+/g, '_')}`;
  }

  private async clip(): Promise<void> {
    if (this.busy || !this.app.record) return;
    this.busy = true;
    this.pause();
    const steps = this.steps;
    const btn = $<HTMLButtonElement>('dl-clip');
    btn.disabled = true;
    try {
      const blob = await recordClip(this.view.canvas, {
        steps: steps.length,
        draw: (k) => {
          this.view.override = steps[k].poses;
          this.view.draw(steps[k].poses);
        },
        onProgress: (k) => ($('replay-info').textContent = `recording the clip: step ${k + 1} of ${steps.length}`),
      });
      download(blob, `${this.fileStem()}.webm`);
      this.app.status.message(`clip saved: ${(blob.size / 1024).toFixed(0)} KB WebM of ${steps.length} frames at 10 fps`);
      $('replay-info').textContent = `${steps.length - 1} steps recorded`;
    } catch (e) {
      this.app.status.message(`cannot make the clip: ${(e as Error).message}`, true);
    } finally {
      btn.disabled = false;
      this.busy = false;
    }
  }

  private json(): void {
    if (!this.app.record) return;
    const blob = new Blob([JSON.stringify(this.app.record)], { type: 'application/json' });
    download(blob, `${this.fileStem()}.json`);
    this.app.status.message(`episode record saved (${(blob.size / 1e6).toFixed(1)} MB JSON: frames, actions, latency parts, attention)`);
  }

  private async copyLink(): Promise<void> {
    const url = this.app.link();
    $<HTMLInputElement>('share-url').value = url;
    try {
      await navigator.clipboard.writeText(url);
      this.app.status.message('link copied: it opens this task, seed, policy, backend and command');
    } catch {
      $<HTMLInputElement>('share-url').select();
      this.app.status.message('select the link and copy it (the clipboard is not available here)');
    }
  }
}

export interface ClipOptions {
  /** Draw step k on the canvas (synchronously). */
  draw(k: number): void;
  steps: number;
  fps?: number;
  onProgress?(k: number): void;
}

export function clipMimeType(): string | null {
  if (typeof MediaRecorder === 'undefined') return null;
  for (const t of ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm']) if (MediaRecorder.isTypeSupported(t)) return t;
  return null;
}

export async function recordClip(canvas: HTMLCanvasElement, o: ClipOptions): Promise<Blob> {
  const mimeType = clipMimeType();
  if (!mimeType) throw new Error('this browser cannot record WebM video (MediaRecorder with video/webm is missing)');
  const stream = canvas.captureStream(0);
  const track = stream.getVideoTracks()[0] as MediaStreamTrack & { requestFrame?: () => void };
  if (!track) throw new Error('the viewer canvas gave no video track to record');
  const rec = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 4_000_000 });
  const chunks: Blob[] = [];
  rec.ondataavailable = (e) => { if (e.data.size > 0) chunks.push(e.data); };
  const stopped = new Promise<void>((resolve, reject) => {
    rec.onstop = () => resolve();
    rec.onerror = (e) => reject(new Error(`MediaRecorder failed: ${(e as unknown as { error?: Error }).error?.message ?? 'error'}`));
  });
  const dt = 1000 / (o.fps ?? 10);
  rec.start();
  try {
    for (let k = 0; k < o.steps; k++) {
      const t0 = performance.now();
      o.draw(k);
      track.requestFrame?.();
      o.onProgress?.(k);
      await new Promise((r) => setTimeout(r, Math.max(0, dt - (performance.now() - t0))));
    }
  } finally {
    rec.stop();
    track.stop();
  }
  await stopped;
  const blob = new Blob(chunks, { type: 'video/webm' });
  if (blob.size === 0) throw new Error('the recorder produced an empty clip');
  return blob;
}

/** Saves a blob under `name` through a temporary link (a download in every browser). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
