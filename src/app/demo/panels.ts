// Small DOM views of the demo page: the status bar that is always visible
// (policy state, tfjs backend and why, episode), the latency HUD (worker or
// remote parts), the example-command chips, and what the policy sees drawn on
// 2D canvases (the camera frames side by side, the bytes the policy got, live
// or from the episode record; the backbone's attention over a dimmed frame).
// No episode logic here (app.ts).
import type { Frame } from '../../../sim/types.ts';
import type { InitResult, SaliencyResult } from '../../worker/protocol.ts';
import type { StepTiming } from './driver.ts';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo page: no element #${id}`);
  return el as T;
};

export type PolicyState = 'loading' | 'ready' | 'running' | 'stopped' | 'done' | 'replay' | 'error';

/** What the tfjs backend is and why it is that one (the request and every backend skipped on the way). */
export function backendLine(b: InitResult | null): string {
  if (!b) return 'no tfjs: the scripted expert reads the simulator state';
  const skipped = b.fallbackReason ? `skipped ${b.fallbackReason}` : '';
  if (b.requested === 'auto') return `tfjs ${b.backend} (auto${skipped ? `; ${skipped}` : ': first choice'})`;
  return b.requested === b.backend ? `tfjs ${b.backend} (as asked)` : `tfjs ${b.backend} (asked ${b.requested}; ${skipped})`;
}

export class StatusBar {
  /** The driver and its state, behind a swatch of the driver's colour in every report (src/report/palette.ts). */
  policy(label: string, state: PolicyState, detail = '', color?: string): void {
    const el = $('st-policy');
    el.dataset.state = state;
    const swatch = document.createElement('i');
    swatch.className = 'swatch';
    if (color) swatch.style.background = color;
    el.replaceChildren(swatch, `${label} · ${state}${detail ? ` ${detail}` : ''}`);
  }

  /** The tfjs backend and why; a string says where a policy without tfjs here runs (a remote server). */
  backend(b: InitResult | string | null): void {
    $('st-backend').textContent = typeof b === 'string' ? b : backendLine(b);
  }

  episode(text: string): void {
    $('st-episode').textContent = text;
  }

  /** The message line: what just happened, or an error (red) naming the problem. */
  message(msg: string, error = false): void {
    const el = $('status');
    el.textContent = msg;
    el.className = error ? 'error' : '';
    el.setAttribute('role', error ? 'alert' : 'status');
  }
}

/** A HUD column: the StepTiming field and its heading. */
export type LatencyPart = readonly [keyof Omit<StepTiming, 'inferred'>, string];
/** A policy in the worker: capture, postMessage transfer, backbone, decoder, total. */
export const WORKER_PARTS: readonly LatencyPart[] = [['captureMs', 'capture'], ['transferMs', 'transfer'], ['backboneMs', 'backbone'], ['decoderMs', 'decoder'], ['totalMs', 'total']];
/** A remote policy server: capture, the network (round trip minus the server's compute), the server's compute, total. */
export const REMOTE_PARTS: readonly LatencyPart[] = [['captureMs', 'capture'], ['transferMs', 'network'], ['policyMs', 'policy'], ['totalMs', 'total']];
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : NaN);
const cell = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(1) : '-');

/**
 * Latency parts of the step shown and the episode's medians (over the steps
 * that asked the policy: a step replayed from a chunk measures nothing), and
 * the step counter.
 */
export function renderHud(el: HTMLElement, shown: StepTiming | null, all: StepTiming[], o: { step: number; maxSteps: number; success: boolean; done: boolean; label?: string; parts?: readonly LatencyPart[] }): void {
  const parts = o.parts ?? WORKER_PARTS;
  const asked = all.filter((t) => t.inferred !== false);
  el.innerHTML = `<table><tr><th>ms</th>${parts.map(([, h]) => `<th>${h}</th>`).join('')}</tr>
<tr><td>${o.label ?? 'last'}</td>${parts.map(([k]) => `<td>${cell(shown?.[k])}</td>`).join('')}</tr>
<tr><td>p50</td>${parts.map(([k]) => `<td>${cell(median(asked.map((t) => t[k] ?? NaN)))}</td>`).join('')}</tr></table>
<div>step <b id="hud-steps">${o.step}</b>/${o.maxSteps} · success <b id="hud-success">${o.success}</b>${o.done ? ' · <b>episode over</b>' : ''}</div>`;
}

/** Example commands as buttons; clicking one puts it in the command box (it does not run). */
export function renderExamples(el: HTMLElement, examples: string[], pick: (text: string) => void): void {
  el.replaceChildren(...examples.map((text) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = text;
    b.addEventListener('click', () => pick(text));
    return b;
  }));
}

/** One line per action: the six numbers as the policy put them out. */
export function actionLine(a: ArrayLike<number> | null): string {
  if (!a) return 'final state (no action)';
  const n = ['dx', 'dy', 'dz', 'dyaw', 'grip', 'stop'];
  return Array.from(a, (v, i) => `${n[i]} ${v >= 0 ? '+' : ''}${v.toFixed(3)}`).join('  ');
}

export function drawFrames(canvas: HTMLCanvasElement, frames: Record<string, Frame>, cameras: readonly string[]): void {
  const fs = cameras.map((c) => frames[c]).filter((f): f is Frame => !!f && f.data.byteLength > 0);
  if (fs.length === 0) return;
  const h = fs[0].height, w = fs.reduce((n, f) => n + f.width, 0);
  if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
  const img = new ImageData(w, h);
  let x0 = 0;
  for (const f of fs) {
    for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
      const s = 3 * (y * f.width + x), d = 4 * (y * w + x0 + x);
      img.data[d] = f.data[s];
      img.data[d + 1] = f.data[s + 1];
      img.data[d + 2] = f.data[s + 2];
      img.data[d + 3] = 255;
    }
    x0 += f.width;
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

/** Heat in red over the grey camera frame; returns a one-line description of the map. */
export function drawSaliency(canvas: HTMLCanvasElement, f: Frame, s: SaliencyResult): string {
  canvas.width = f.width;
  canvas.height = f.height;
  const img = new ImageData(f.width, f.height);
  const [gh, gw] = s.grid;
  let max = 1e-12;
  for (const v of s.heat) max = Math.max(max, v);
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
    const v = gh > 0 ? s.heat[Math.floor((y * gh) / f.height) * gw + Math.floor((x * gw) / f.width)] / max : 0;
    const i = y * f.width + x;
    const g = (0.4 * (f.data[3 * i] + f.data[3 * i + 1] + f.data[3 * i + 2])) / 3;
    img.data.set([Math.min(255, g + 255 * v), Math.min(255, g + 90 * v * v), g, 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
  return `${s.kind === 'tokenlearner' ? 'TokenLearner maps' : s.kind === 'attention' ? 'last-layer attention' : 'no maps'}, ${gh}x${gw} grid`;
}
