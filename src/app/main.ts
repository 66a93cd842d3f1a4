// Demo page: the real environment (same VlaEnv, suites and BabylonRenderer as
// headless collection and evaluation) with an orbit view, the camera frames a
// policy sees, typed commands, and the scripted expert as the driver.
// Policies join in the evaluation/demo work (worker inference).
import { BabylonRenderer } from '../../sim/render/babylonRenderer.ts';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { VlaEnv } from '../../sim/env.ts';
import type { CameraSpec, Vec3 } from '../../sim/types.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../tasks/builtin.ts';
import { createExpert, type Expert } from '../../tasks/expert.ts';
import pkg from '../../package.json';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const viewCanvas = document.getElementById('view') as HTMLCanvasElement;

// Orbit state: spherical coordinates around the table centre (z up).
const orbit = { azimuth: -Math.PI / 2, elevation: 0.75, distance: 0.85 };
const center: Vec3 = [0, 0, 0.03];

function viewSpec(): CameraSpec {
  const { azimuth, elevation, distance } = orbit;
  const c = Math.cos(elevation);
  return {
    name: 'view',
    mount: 'fixed',
    position: [
      center[0] + distance * c * Math.cos(azimuth),
      center[1] + distance * c * Math.sin(azimuth),
      center[2] + distance * Math.sin(elevation),
    ],
    target: center,
    fovDeg: 45,
  };
}

const view = new BabylonRenderer(viewCanvas, { width: 512, height: 512, cameras: [viewSpec()] });
// The policy's cameras, side by side at the policy resolution (what a policy sees).
const policyCanvas = $<HTMLCanvasElement>('policy');
policyCanvas.width = DEFAULT_RESOLUTION * DEFAULT_CAMERAS.length;
policyCanvas.height = DEFAULT_RESOLUTION;
const policyRenderer = new BabylonRenderer(policyCanvas, { width: DEFAULT_RESOLUTION, height: DEFAULT_RESOLUTION, cameras: DEFAULT_CAMERAS });
const suite = resolveSuite(DEFAULT_SUITE);
const taskSel = $<HTMLSelectElement>('task');
for (const t of suite.tasks) taskSel.add(new Option(t.name, t.name));
let env = new VlaEnv({ suite, task: taskSel.value, split: 'train', renderer: policyRenderer });
let expert: Expert | null = null;
let running = false;
const status = (msg: string, error = false) => {
  const el = $('status');
  el.textContent = msg;
  el.className = error ? 'error' : '';
};

async function reset(instruction?: string): Promise<void> {
  running = false;
  if (env.opts.task !== taskSel.value) {
    env.close();
    env = new VlaEnv({ suite, task: taskSel.value, split: 'train', renderer: policyRenderer });
  }
  const seed = Number($<HTMLInputElement>('seed').value) >>> 0;
  try {
    await env.reset({ seed, instruction: instruction || undefined });
  } catch (e) {
    status((e as Error).message, true);
    if (instruction) return; // keep the current episode; the message says what was wrong
    throw e;
  }
  view.setScene(env.sim.describe());
  expert = createExpert(env.episode);
  $('instruction').textContent = env.episode.instruction;
  status(`seed ${seed}: ready`);
}

async function run(): Promise<void> {
  if (!expert) return;
  running = true;
  while (running) {
    const r = await env.step(expert.act(env.sim));
    status(`step ${r.info.step}/${env.episode.maxSteps}  phase ${expert.phase}  success ${r.info.success}`);
    if (r.terminated || r.truncated) {
      running = false;
      status(`episode over after ${r.info.step} steps: ${r.info.success ? 'SUCCESS' : 'failure'}`);
    }
    await new Promise((res) => setTimeout(res, 100)); // 10 Hz control, in real time
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
taskSel.addEventListener('change', () => void reset());
$<HTMLFormElement>('command').addEventListener('submit', (e) => {
  e.preventDefault();
  void reset($<HTMLInputElement>('text').value);
});

let drag: { x: number; y: number } | null = null;
viewCanvas.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY };
  viewCanvas.setPointerCapture(e.pointerId);
});
viewCanvas.addEventListener('pointerup', () => (drag = null));
viewCanvas.addEventListener('pointermove', (e) => {
  if (!drag) return;
  orbit.azimuth -= (e.clientX - drag.x) * 0.01;
  // Clamp short of the pole: the camera's up vector degenerates there.
  orbit.elevation = Math.min(1.5, Math.max(0.05, orbit.elevation + (e.clientY - drag.y) * 0.01));
  drag = { x: e.clientX, y: e.clientY };
});
viewCanvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    orbit.distance = Math.min(3, Math.max(0.25, orbit.distance * Math.exp(e.deltaY * 0.001)));
  },
  { passive: false },
);

// Same readiness flag as headless.html, so HeadlessSession can open this page
// too (screenshots, smoke tests). Set after the first frame is on screen.
const page = { ready: false, page: 'demo', version: pkg.version as string, env: () => env };
(window as unknown as { vlalab: typeof page }).vlalab = page;

async function frame(): Promise<void> {
  view.setCamera(viewSpec());
  await view.draw(env.sim.poses());
  page.ready = true;
  requestAnimationFrame(() => void frame());
}
reset()
  .then(() => frame())
  .catch((e: unknown) => status(`demo failed: ${(e as Error).message}`, true));
