// Demo page: the real environment (the same VlaEnv, suites and BabylonRenderer
// as headless collection and evaluation), an orbit view, the camera frames the
// policy sees, typed commands, and a driver selector that swaps the policy
// live: the scripted expert, shipped checkpoints, untrained presets (inference
// in a Web Worker) or a remote policy server (docs/remote-policy.md), and a
// HUD of success, steps and latency parts.
import { BabylonRenderer } from '../../sim/render/babylonRenderer.ts';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { VlaEnv, type Observation } from '../../sim/env.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../tasks/builtin.ts';
import { listPolicies } from '../../policies/registry.ts';
import { describeReading } from '../../tasks/command.ts';
import pkg from '../../package.json';
import { ExpertDriver, PolicyDriver, RemoteDriver, type Driver, type StepTiming } from './driver.ts';
import { OrbitView } from './orbitView.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = new OrbitView($<HTMLCanvasElement>('view'));
// The policy's cameras, side by side at the policy resolution (exactly what a policy sees).
const policyCanvas = $<HTMLCanvasElement>('policy');
policyCanvas.width = DEFAULT_RESOLUTION * DEFAULT_CAMERAS.length;
policyCanvas.height = DEFAULT_RESOLUTION;
const policyRenderer = new BabylonRenderer(policyCanvas, { width: DEFAULT_RESOLUTION, height: DEFAULT_RESOLUTION, cameras: DEFAULT_CAMERAS });
const suite = resolveSuite(DEFAULT_SUITE);
const taskSel = $<HTMLSelectElement>('task');
for (const t of suite.tasks) taskSel.add(new Option(t.name, t.name));
const policySel = $<HTMLSelectElement>('policy-select');

let env = new VlaEnv({ suite, task: taskSel.value, split: 'train', renderer: policyRenderer });
let driver: Driver = new ExpertDriver();
let obs: Observation | null = null;
let running = false;
let episodeTimings: StepTiming[] = [];
/** Render + readback time of the frame the driver acts on next (the reset's or the last step's). */
let captureMs = 0;
/** Last episode outcome, read by tests and by people. */
const result = { episode: 0, steps: 0, success: false, done: false, driver: driver.label, saliency: null as null | { kind: string; grid: [number, number]; updates: number } };

/** Draw the policy camera dimmed with the backbone's heat map on top (nearest-upsampled grid). */
async function showSaliency(): Promise<void> {
  const on = $<HTMLInputElement>('looks').checked;
  const canvas = $<HTMLCanvasElement>('saliency');
  if (!on || !obs || !driver.saliency) {
    $('looks-info').textContent = on && !driver.saliency ? '(the scripted expert does not look)' : '';
    return;
  }
  const s = await driver.saliency(obs);
  const f = obs.images[s.camera];
  if (!f) return;
  canvas.width = f.width;
  canvas.height = f.height;
  const img = new ImageData(f.width, f.height);
  const [gh, gw] = s.grid;
  const max = Math.max(...s.heat, 1e-12);
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
    const v = gh > 0 ? s.heat[Math.floor((y * gh) / f.height) * gw + Math.floor((x * gw) / f.width)] / max : 0;
    const i = y * f.width + x;
    const g = 0.4 * (f.data[3 * i] + f.data[3 * i + 1] + f.data[3 * i + 2]) / 3;
    img.data.set([Math.min(255, g + 255 * v), Math.min(255, g + 90 * v * v), g, 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
  $('looks-info').textContent = `(${s.kind === 'tokenlearner' ? 'TokenLearner maps' : s.kind === 'attention' ? 'last-layer attention' : 'no maps'}, ${gh}x${gw} grid)`;
  result.saliency = { kind: s.kind, grid: s.grid, updates: (result.saliency?.updates ?? 0) + 1 };
}

const status = (msg: string, error = false) => {
  const el = $('status');
  el.textContent = msg;
  el.className = error ? 'error' : '';
};

async function listCheckpoints(): Promise<string[]> {
  try {
    const r = await fetch('checkpoints/index.json');
    return r.ok ? ((await r.json()) as { checkpoints: string[] }).checkpoints : [];
  } catch {
    return [];
  }
}

async function selectDriver(): Promise<void> {
  running = false;
  const value = policySel.value;
  status(`loading ${value}...`);
  const next = value === 'expert' ? new ExpertDriver()
    : value === 'remote' ? await RemoteDriver.open($<HTMLInputElement>('remote-addr').value)
    : await PolicyDriver.open(value, value.startsWith('ckpt:') ? { checkpointUrl: `checkpoints/${value.slice('ckpt:'.length)}/` } : { name: value.slice('preset:'.length) }, $<HTMLSelectElement>('backend').value);
  await driver.close();
  driver = next;
  $('driver-info').textContent = driver.info;
  await reset();
}

async function reset(instruction?: string): Promise<void> {
  running = false;
  if (env.opts.task !== taskSel.value) {
    env.close();
    env = new VlaEnv({ suite, task: taskSel.value, split: 'train', renderer: policyRenderer });
  }
  const seed = Number($<HTMLInputElement>('seed').value) >>> 0;
  try {
    const t0 = performance.now();
    [obs] = await env.reset({ seed, instruction: instruction || undefined });
    captureMs = performance.now() - t0;
  } catch (e) {
    status((e as Error).message, true);
    if (instruction) return; // keep the current episode; the message says what was wrong
    throw e;
  }
  view.setScene(env.sim.describe());
  driver.reset(env.episode);
  episodeTimings = [];
  Object.assign(result, { steps: 0, success: false, done: false, driver: driver.label, saliency: null });
  $('instruction').textContent = env.episode.instruction;
  // How a typed command was read; the policy sees its canonical sentence (the instruction line).
  $('reading').textContent = env.episode.command ? describeReading(env.episode.command) : '(sampled instruction)';
  renderHud(null);
  status(`seed ${seed}: ready`);
  await showSaliency().catch((e: unknown) => status(`saliency: ${(e as Error).message}`, true));
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : NaN);
function renderHud(last: StepTiming | null): void {
  const parts = ['captureMs', 'transferMs', 'backboneMs', 'decoderMs', 'totalMs'] as const;
  const cell = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  $('hud').innerHTML = `<table><tr><th></th>${parts.map((p) => `<th>${p.replace('Ms', '')}</th>`).join('')}</tr>
<tr><td>last ms</td>${parts.map((p) => `<td>${cell(last ? last[p] : NaN)}</td>`).join('')}</tr>
<tr><td>p50 ms</td>${parts.map((p) => `<td>${cell(median(episodeTimings.map((t) => t[p])))}</td>`).join('')}</tr></table>
<div>step <b id="hud-steps">${result.steps}</b>/${env.episode.maxSteps} · success <b id="hud-success">${result.success}</b>${result.done ? ' · <b>episode over</b>' : ''}</div>`;
}

async function run(): Promise<void> {
  if (!obs || running || result.done) return;
  running = true;
  try {
    while (running && obs) {
      const { action, timing } = await driver.act(obs, env.sim, captureMs);
      const t0 = performance.now();
      const r = await env.step(action);
      captureMs = performance.now() - t0;
      obs = r.obs;
      if ($<HTMLInputElement>('looks').checked) await showSaliency();
      if (timing) episodeTimings.push(timing);
      Object.assign(result, { steps: r.info.step, success: r.info.success, done: r.terminated || r.truncated });
      renderHud(timing);
      if (result.done) {
        running = false;
        result.episode++;
        status(`episode over after ${r.info.step} steps: ${r.info.success ? 'SUCCESS' : 'failure'}`);
      }
      await new Promise((res) => setTimeout(res, $<HTMLInputElement>('realtime').checked ? 100 : 0)); // 10 Hz control in real time
    }
  } catch (e) {
    running = false;
    status(`driver error: ${(e as Error).message}`, true);
  }
}

$('reset').addEventListener('click', () => void reset());
$('next').addEventListener('click', () => {
  const s = $<HTMLInputElement>('seed');
  s.value = String(Number(s.value) + 1);
  void reset();
});
$('run').addEventListener('click', () => void run());
$('stop').addEventListener('click', () => (running = false));
$('looks').addEventListener('change', () => void showSaliency().catch((e: unknown) => status(`saliency: ${(e as Error).message}`, true)));
taskSel.addEventListener('change', () => void reset());
policySel.addEventListener('change', () => void selectDriver().catch((e: unknown) => status(`cannot load policy: ${(e as Error).message}`, true)));
$<HTMLFormElement>('command').addEventListener('submit', (e) => {
  e.preventDefault();
  void reset($<HTMLInputElement>('text').value);
});

// Same readiness flag as headless.html, so HeadlessSession can open this page too.
const page = { ready: false, page: 'demo', version: pkg.version as string, env: () => env, result, driver: () => driver.label };
(window as unknown as { vlalab: typeof page }).vlalab = page;

async function frame(): Promise<void> {
  await view.draw(env.sim.poses());
  page.ready = true;
  requestAnimationFrame(() => void frame());
}
(async () => {
  for (const c of await listCheckpoints()) policySel.add(new Option(`${c} (trained)`, `ckpt:${c}`));
  for (const p of listPolicies()) policySel.add(new Option(`${p} (untrained)`, `preset:${p}`));
  await reset();
  await frame();
})().catch((e: unknown) => status(`demo failed: ${(e as Error).message}`, true));
