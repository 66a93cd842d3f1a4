// Demo page entry: wires the DOM to the episode logic (demo/app.ts), the
// viewer camera (demo/orbitView.ts), the command box (history, examples,
// preview, speech), the driver list (with a remote policy server's address
// box), the replay panel and the URL state. Keyboard: Enter runs (setting the
// typed command first), Esc stops; ↑/↓ in the command box walk the history.
// docs/demo.md describes the page.
import { BabylonRenderer } from '../../sim/render/babylonRenderer.ts';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../tasks/builtin.ts';
import { listPolicies } from '../../policies/registry.ts';
import type { BackendRequest } from '../worker/fallback.ts';
import pkg from '../../package.json';
import { DemoApp } from './demo/app.ts';
import { CommandHistory, exampleCommands, previewCommand, type KeyValueStore } from './demo/commands.ts';
import { OrbitView } from './demo/orbitView.ts';
import { $, renderExamples } from './demo/panels.ts';
import { ReplayPanel } from './demo/replay.ts';
import { listenOnce, speechAvailable } from './demo/speech.ts';
import { parseState } from './demo/urlState.ts';

const view = new OrbitView($<HTMLCanvasElement>('view'));
// The policy's cameras render exactly as in collection and evaluation (same renderer, defaults).
const renderer = new BabylonRenderer($<HTMLCanvasElement>('policy-gl'), { width: DEFAULT_RESOLUTION, height: DEFAULT_RESOLUTION, cameras: DEFAULT_CAMERAS });
const tasks = resolveSuite(DEFAULT_SUITE).tasks.map((t) => t.name);
const { state, problems, given } = parseState(location.search, tasks);
const app = new DemoApp(view, renderer, state);
const replay = new ReplayPanel(app, view);

const text = $<HTMLInputElement>('text');
const taskSel = $<HTMLSelectElement>('task');
const seedIn = $<HTMLInputElement>('seed');
const policySel = $<HTMLSelectElement>('policy-select');
const backendSel = $<HTMLSelectElement>('backend');
const remoteAddr = $<HTMLInputElement>('remote-addr');
for (const t of tasks) taskSel.add(new Option(t, t));

let storage: KeyValueStore | null = null;
try {
  storage = window.localStorage;
} catch { /* storage blocked (private mode, sandbox): history lasts for this page only */ }
const history = new CommandHistory(storage);

/** How the command in the box reads in the current scene, before anything runs. */
function updatePreview(): void {
  const el = $('preview');
  const t = text.value.trim();
  if (!t || !app.obs) {
    el.textContent = '';
    return;
  }
  const p = previewCommand(t, app.env.episode, app.suite);
  el.className = p.ok ? 'ok' : 'error';
  el.textContent = p.ok ? `reads as: ${p.line}` : `cannot run this: ${p.error}`;
}

app.on((phase) => {
  if (phase !== 'reset') return;
  renderExamples($('examples'), exampleCommands(app.env.episode, app.suite), (c) => {
    text.value = c;
    updatePreview();
    text.focus();
  });
  [taskSel.value, seedIn.value, backendSel.value] = [app.state.task, String(app.state.seed), app.state.backend];
  showPolicy(app.state.policy);
  updatePreview();
});

const REMOTE = 'remote:';
/**
 * The list shows a remote policy as its one entry, the address box as its
 * server. The box appears once the remote entry is picked (or linked) and
 * stays, so an address that failed can be fixed while the list shows the
 * driver still in use.
 */
function showPolicy(policy: string): void {
  policySel.value = policy.startsWith(REMOTE) ? 'remote' : policy;
  if (!policy.startsWith(REMOTE)) return;
  remoteAddr.value = policy.slice(REMOTE.length);
  $('remote-row').hidden = false;
}

/** Sets the typed command (a new episode) when it changed; false when it does not resolve. */
async function apply(force = false): Promise<boolean> {
  const t = text.value.trim();
  if (!force && t === app.state.command) return true;
  const ok = await app.reset(t, true);
  if (ok && t) history.push(t);
  return ok;
}
async function go(): Promise<void> {
  if (await apply()) await app.run();
}

$('command').addEventListener('submit', (e) => {
  e.preventDefault();
  void go();
});
$('set').addEventListener('click', () => void apply(true));
$('stop').addEventListener('click', () => app.stop());
text.addEventListener('input', () => {
  updatePreview();
  $('heard').textContent = '';
});
text.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
  e.preventDefault();
  const v = e.key === 'ArrowUp' ? history.up(text.value) : history.down();
  if (v !== null) {
    text.value = v;
    updatePreview();
  }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    app.stop();
    replay.pause();
    stopListening?.();
    return;
  }
  if (e.key !== 'Enter' || e.isComposing || e.defaultPrevented) return;
  const t = e.target as HTMLElement;
  if (t.closest('form, button, select, a, textarea, input')) return; // the form submits itself; the others have their own Enter
  e.preventDefault();
  void go();
});

const newEpisode = () => {
  app.state.task = taskSel.value;
  app.state.seed = Math.max(0, Math.floor(Number(seedIn.value))) >>> 0;
  void app.reset();
};
taskSel.addEventListener('change', newEpisode);
seedIn.addEventListener('change', newEpisode);
$('reset').addEventListener('click', newEpisode);
$('next').addEventListener('click', () => {
  seedIn.value = String(Number(seedIn.value) + 1);
  newEpisode();
});
/** Loads what the list (and for a remote policy the address box) says; a failure shows the current driver again, the typed address kept. */
async function selectDriver(policy = policySel.value === 'remote' ? `${REMOTE}${remoteAddr.value.trim()}` : policySel.value): Promise<void> {
  if (!(await app.selectDriver(policy, backendSel.value as BackendRequest))) {
    policySel.value = app.state.policy.startsWith(REMOTE) ? 'remote' : app.state.policy;
    backendSel.value = app.state.backend;
  }
}
policySel.addEventListener('change', () => {
  if (policySel.value === 'remote') $('remote-row').hidden = false;
  void selectDriver();
});
// A new address (Enter or leaving the box) connects to it, whatever the list shows; the one in use already is
// left alone (leaving the box to press run must not shake hands again and cancel the run).
remoteAddr.addEventListener('change', () => {
  const want = `${REMOTE}${remoteAddr.value.trim()}`;
  if (want !== app.state.policy) void selectDriver(want);
});
backendSel.addEventListener('change', () => {
  if (/^(ckpt|preset):/.test(app.state.policy)) void selectDriver();
  else {
    app.state.backend = backendSel.value as BackendRequest;
    window.history.replaceState(null, '', app.link());
  }
});
$('looks').addEventListener('change', () => void app.refreshOverlay().catch((e: unknown) => app.status.message(`saliency: ${(e as Error).message}`, true)));

// Speech: the recognised text lands in the box for the person to check; it never runs by itself.
const mic = $<HTMLButtonElement>('mic');
let stopListening: (() => void) | null = null;
if (!speechAvailable()) {
  mic.disabled = true;
  mic.title = 'speech input is not available in this browser (no Web Speech API)';
}
mic.addEventListener('click', async () => {
  if (stopListening) return stopListening();
  const heard = $('heard');
  heard.textContent = 'listening… (Esc stops)';
  mic.textContent = 'stop';
  const { result, stop } = listenOnce((t) => (heard.textContent = `hearing: “${t}”`));
  stopListening = stop;
  const h = await result;
  stopListening = null;
  mic.textContent = 'mic';
  if (!h.ok) {
    heard.textContent = '';
    app.status.message(h.error, true);
    return;
  }
  text.value = h.text;
  updatePreview();
  heard.textContent = `heard: “${h.text}” — check it, then press Enter to run`;
  text.focus();
});

// Same readiness flag as headless.html, so HeadlessSession can open this page too.
const page = {
  ready: false, page: 'demo', version: pkg.version as string, result: app.result,
  env: () => app.env, driver: () => app.state.policy, orbit: () => view.scene.info(),
  record: () => app.record && { steps: app.record.steps.length, actions: app.record.actions(), timings: app.record.steps.map((s) => s.timing), outcome: app.record.outcome, state: app.record.meta.state },
};
(window as unknown as { vlalab: typeof page }).vlalab = page;

let shownWorld: unknown = null;
function frame(): void {
  try {
    // Follow the env's current world (a new one every reset) whoever reset it.
    const sim = app.env.sim;
    if (sim !== shownWorld) {
      view.setScene(sim.describe());
      shownWorld = sim;
    }
    view.frame(sim.poses());
    page.ready = true;
  } catch (e) {
    app.status.message(`viewer: ${(e as Error).message}`, true);
    return; // no busy loop of errors; a reload starts again
  }
  requestAnimationFrame(frame);
}

async function listCheckpoints(): Promise<string[]> {
  try {
    const r = await fetch('checkpoints/index.json');
    return r.ok ? ((await r.json()) as { checkpoints: string[] }).checkpoints : [];
  } catch {
    return [];
  }
}

(async () => {
  for (const c of await listCheckpoints()) policySel.add(new Option(`${c} (trained)`, `ckpt:${c}`));
  for (const p of listPolicies()) policySel.add(new Option(`${p} (untrained)`, `preset:${p}`));
  policySel.add(new Option('remote policy server', 'remote'));
  const known = [...policySel.options].map((o) => o.value).filter((v) => v !== 'remote');
  if (!state.policy.startsWith(REMOTE) && !known.includes(state.policy)) {
    problems.push(`policy "${state.policy}" is not on this page (${known.join(', ')}, remote:HOST:PORT)`);
    state.policy = 'expert';
  }
  text.value = state.command;
  app.status.policy(app.label, 'loading');
  app.status.backend(null);
  const wanted = state.policy;
  state.policy = 'expert';
  const loaded = wanted !== 'expert' && (await app.selectDriver(wanted, state.backend));
  if (!loaded && !(await app.reset())) throw new Error('no episode could start');
  frame();
  if (problems.length) app.status.message(`the link had problems: ${problems.join('; ')}`, true);
  else if (given && $('status').className !== 'error') {
    app.status.message(`restored from the link: ${state.task} seed ${state.seed}, ${app.label}${state.command ? `, “${state.command}”` : ''} — press Enter to run`);
  }
})().catch((e: unknown) => app.status.message(`demo failed: ${(e as Error).message}`, true));
