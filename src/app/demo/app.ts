// The demo's episode logic: the real environment (the same VlaEnv, suites
// and BabylonRenderer as headless collection and evaluation), the driver
// (scripted expert, a policy in the inference worker, or a remote policy
// server; swapped live), the episode record, and what the panels show. DOM
// wiring is in ../main.ts.
import type { BabylonRenderer } from '../../../sim/render/babylonRenderer.ts';
import { DEFAULT_CAMERAS } from '../../../sim/config.ts';
import type { Observation } from '../../../sim/env.ts';
import { SuiteEnv } from '../../../tasks/env.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../../tasks/builtin.ts';
import { describeReading } from '../../../tasks/command.ts';
import { InstructionError } from '../../../tasks/grammar.ts';
import pkg from '../../../package.json';
import { policyColor } from '../../report/palette.ts';
import { ExpertDriver, PolicyDriver, RemoteDriver, type Driver, type StepTiming } from './driver.ts';
import type { OrbitView } from './orbitView.ts';
import { $, actionLine, drawFrames, drawSaliency, REMOTE_PARTS, renderHud, StatusBar, WORKER_PARTS, type PolicyState } from './panels.ts';
import { EpisodeRecord, type StepRecord } from './record.ts';
import { stateToSearch, type DemoState } from './urlState.ts';
import type { BackendRequest } from '../../worker/fallback.ts';

const CAMERAS = DEFAULT_CAMERAS.map((c) => c.name);
const REMOTE = 'remote:';
/** How a driver is named before it is loaded: 'scripted expert', the checkpoint or preset, 'remote HOST:PORT'. */
const labelOf = (policy: string) => (policy === 'expert' ? 'scripted expert' : policy.startsWith(REMOTE) ? `remote ${policy.slice(REMOTE.length)}` : policy.replace(/^(ckpt|preset):/, ''));
/** The label reports give a driver, for its colour: 'expert', the checkpoint or preset name, a remote server's model. */
const reportLabel = (policy: string, label: string) => (policy === 'expert' ? 'expert' : policy.startsWith(REMOTE) ? label : policy.replace(/^(ckpt|preset):/, ''));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class DemoApp {
  readonly suite = resolveSuite(DEFAULT_SUITE);
  readonly status = new StatusBar();
  env: SuiteEnv;
  driver: Driver = new ExpertDriver();
  obs: Observation | null = null;
  record: EpisodeRecord | null = null;
  running = false;
  /** Told when an episode starts, runs, and when the loop stops (ended or stopped): replay panel, examples. */
  private readonly listeners: ((phase: 'reset' | 'running' | 'idle') => void)[] = [];
  /** Last episode outcome, read by tests and by people. */
  readonly result = { episode: 0, steps: 0, success: false, done: false, driver: 'expert', saliency: null as null | { kind: string; grid: [number, number]; updates: number } };
  private stopAsked = false;
  private loop: Promise<void> = Promise.resolve();
  private captureMs = 0;

  constructor(private readonly view: OrbitView, private readonly renderer: BabylonRenderer, readonly state: DemoState) {
    this.env = this.makeEnv(state.task);
  }

  on(listener: (phase: 'reset' | 'running' | 'idle') => void): void {
    this.listeners.push(listener);
  }

  private emit(phase: 'reset' | 'running' | 'idle'): void {
    for (const l of this.listeners) l(phase);
  }

  private makeEnv(task: string): SuiteEnv {
    return new SuiteEnv({ suite: this.suite, task, split: 'train', renderer: this.renderer });
  }

  /** The driver's name; a remote one by the identity its server declared (name@version; the address is on the driver line). */
  get label(): string {
    const d = this.driver;
    if (d instanceof RemoteDriver && d.label === this.state.policy) return `${d.policy.remote.model} (remote)`;
    return labelOf(this.state.policy);
  }

  private policyState(s: PolicyState, detail = ''): void {
    this.status.policy(this.label, s, detail, policyColor(reportLabel(this.state.policy, this.label)));
  }

  /** The link that reproduces the current episode. */
  link(): string {
    return `${location.origin}${location.pathname}${stateToSearch(this.state)}`;
  }

  /**
   * New episode of state.task / state.seed with `command` (or the sampled
   * instruction). A command that does not resolve in the new scene is
   * dropped for the sampled instruction, with a message; `strict` (a command
   * just typed) instead leaves the current episode as it was. False when no
   * new episode started.
   */
  async reset(command = this.state.command, strict = false): Promise<boolean> {
    await this.halt();
    const fresh = this.env.opts.task !== this.state.task;
    const env = fresh ? this.makeEnv(this.state.task) : this.env;
    let note = '';
    try {
      const t0 = performance.now();
      try {
        // A policy with the pretrained sentence encoder, or a remote one (it encodes for itself), reads the command as
        // typed; a scratch encoder its canonical sentence.
        const typed = this.driver instanceof RemoteDriver || (this.driver instanceof PolicyDriver && this.driver.policy.textEncoder !== 'scratch');
        [this.obs] = await env.reset({ seed: this.state.seed, instruction: command || undefined, policyInstruction: typed ? 'typed' : 'canonical' });
      } catch (e) {
        if (!command || !(e instanceof InstructionError) || (strict && !fresh)) throw e;
        [this.obs] = await env.reset({ seed: this.state.seed });
        note = `${e.message} — this episode runs its sampled instruction instead`;
        command = '';
        $<HTMLInputElement>('text').value = '';
      }
      this.captureMs = performance.now() - t0;
    } catch (e) {
      this.status.message((e as Error).message, true);
      return false;
    }
    if (fresh) {
      this.env.close();
      this.env = env;
    }
    this.state.command = command;
    const ep = env.episode;
    this.record = new EpisodeRecord({
      state: { ...this.state }, url: this.link(), appVersion: pkg.version as string, suite: this.suite.name, episode: ep,
      bodies: env.sim.describe().bodies.map((b) => b.name),
      driver: { label: this.label, info: this.driver.info, backend: this.driver instanceof PolicyDriver ? this.driver.backend : null },
    });
    this.record.observe(this.obs, env.sim.poses(), false);
    this.view.override = null;
    this.driver.reset(ep);
    Object.assign(this.result, { steps: 0, success: false, done: false, driver: this.state.policy, saliency: null });
    $('instruction').textContent = ep.instruction;
    // How a typed command was read; the policy sees its canonical sentence (the instruction line).
    $('reading').textContent = ep.command ? describeReading(ep.command) : '(sampled instruction)';
    history.replaceState(null, '', stateToSearch(this.state));
    this.emit('reset');
    this.showStep(0);
    this.policyState('ready');
    if (note) this.status.message(note, true);
    else this.status.message(`${ep.task} seed ${this.state.seed}: ready — press Enter or run`);
    await this.overlay(this.record.last!).catch((e: unknown) => this.status.message(`saliency: ${(e as Error).message}`, true));
    return true;
  }

  /** Runs the episode to its end or until stop(); an episode that is over starts again from its reset. */
  async run(): Promise<void> {
    if (this.running || !this.obs) return;
    if (this.record?.outcome && !(await this.reset())) return;
    this.running = true;
    this.stopAsked = false;
    this.view.override = null;
    this.emit('running');
    this.loop = this.steps();
    await this.loop;
  }

  private async steps(): Promise<void> {
    const rec = this.record!;
    const ep = this.env.episode;
    try {
      while (!this.stopAsked && this.obs) {
        this.policyState('running', `step ${this.result.steps + 1}/${ep.maxSteps}`);
        const t0 = performance.now();
        const cur = rec.last!;
        const { action, timing } = await this.driver.act(this.obs, this.env.sim, this.captureMs);
        cur.action = Float32Array.from(action);
        cur.timing = timing;
        await this.overlay(cur);
        const t1 = performance.now();
        const r = await this.env.step(action);
        this.captureMs = performance.now() - t1;
        this.obs = r.obs;
        rec.observe(r.obs, this.env.sim.poses(), r.info.success);
        Object.assign(this.result, { steps: r.info.step, success: r.info.success, done: r.terminated || r.truncated });
        this.showStep(rec.steps.length - 1);
        if (this.result.done) {
          rec.outcome = { steps: r.info.step, success: r.info.success, terminated: r.terminated, truncated: r.truncated };
          this.result.episode++;
          this.policyState('done', r.info.success ? '(success)' : '(failure)');
          this.status.message(`episode over after ${r.info.step} steps: ${r.info.success ? 'SUCCESS' : 'failure'}${r.terminated ? '' : ' (step budget used up)'}`);
          break;
        }
        // 10 Hz control in real time: the step's own time counts towards the 100 ms.
        await sleep($<HTMLInputElement>('realtime').checked ? Math.max(0, 100 - (performance.now() - t0)) : 0);
      }
      if (!this.result.done) {
        this.policyState('stopped', `at step ${this.result.steps}`);
        this.status.message(`stopped at step ${this.result.steps} — Enter continues`);
      }
    } catch (e) {
      this.policyState('error');
      this.status.message(`driver error: ${(e as Error).message}`, true);
    } finally {
      this.running = false;
      this.emit('idle');
    }
  }

  stop(): void {
    this.stopAsked = true;
  }

  /** Stops the loop and waits until it has left its step. */
  private async halt(): Promise<void> {
    this.stop();
    await this.loop;
  }

  /**
   * Swaps the driver (expert, checkpoint or preset on a tfjs backend, or
   * remote:HOST:PORT after its handshake); a failure keeps the current one and
   * says why, naming the address or the field a handshake refused.
   */
  async selectDriver(policy: string, backend: BackendRequest): Promise<boolean> {
    await this.halt();
    const remote = policy.startsWith(REMOTE) ? policy.slice(REMOTE.length) : null;
    const label = labelOf(policy);
    const color = policyColor(reportLabel(policy, label));
    this.status.policy(label, 'loading', remote !== null ? 'handshake…' : `on ${backend}…`, color);
    this.status.message(remote !== null ? `shaking hands with the policy server at ${remote}…` : `loading ${label}…`);
    let next: Driver;
    try {
      next = policy === 'expert' ? new ExpertDriver()
        : remote !== null ? await RemoteDriver.open(remote)
        : await PolicyDriver.open(policy, policy.startsWith('ckpt:') ? { checkpointUrl: `checkpoints/${policy.slice('ckpt:'.length)}/` } : { name: policy.slice('preset:'.length) }, backend);
    } catch (e) {
      this.status.policy(label, 'error', '', color);
      const what = remote !== null ? `cannot use the remote policy at ${remote}` : `cannot load ${label} on ${backend}`;
      this.status.message(`${what}: ${(e as Error).message}; still driving with ${this.label}`, true);
      return false;
    }
    await this.driver.close();
    this.driver = next;
    Object.assign(this.state, { policy: next instanceof RemoteDriver ? next.label : policy, backend });
    $('driver-info').textContent = this.driver.info;
    this.status.backend(this.driver instanceof RemoteDriver ? this.driver.where : this.driver instanceof PolicyDriver ? this.driver.backend : null);
    await this.reset();
    return true;
  }

  /**
   * Shows recorded step k: the policy's frames, and the HUD and action line
   * of the step taken on them (replay) or of the step that led to them (live).
   */
  showStep(k: number, replay = false): void {
    const steps = this.record!.steps;
    const rec = steps[k];
    drawFrames($<HTMLCanvasElement>('policy'), rec.frames, CAMERAS);
    if (replay && rec.saliency) this.drawOverlay(rec);
    const acted = replay ? rec : steps[k - 1];
    const ep = this.env.episode;
    const timings = steps.map((s) => s.timing).filter((t): t is StepTiming => !!t);
    const over = !!this.record!.outcome && k === steps.length - 1;
    renderHud($('hud'), acted?.timing ?? null, timings, {
      step: k, maxSteps: ep.maxSteps, success: rec.success, done: over, label: replay ? `step ${k}` : 'last', parts: this.driver instanceof RemoteDriver ? REMOTE_PARTS : WORKER_PARTS,
    });
    $('action').textContent = `${replay ? `action at step ${k}` : 'last action'}: ${actionLine(acted?.action ?? null)}`;
    const outcome = this.record!.outcome;
    this.status.episode(`${ep.task} · seed ${this.state.seed} · step ${k}/${ep.maxSteps}${outcome ? ` · ${outcome.success ? 'success' : 'failure'}` : ''}`);
  }

  /** Where the backbone looks on a recorded frame (policies only); drawn when the overlay is on. */
  private async overlay(rec: StepRecord): Promise<void> {
    const on = $<HTMLInputElement>('looks').checked;
    if (!this.driver.saliency) {
      $('looks-info').textContent = on ? (this.driver instanceof RemoteDriver ? '(a remote policy server does not say where it looks)' : '(the scripted expert does not look)') : '';
      return;
    }
    if (!rec.saliency) rec.saliency = await this.driver.saliency({ images: rec.frames, proprio: rec.proprio, instruction: this.env.episode.instruction });
    if (on) this.drawOverlay(rec);
  }

  private drawOverlay(rec: StepRecord): void {
    const s = rec.saliency!;
    const f = rec.frames[s.camera];
    if (!f || !$<HTMLInputElement>('looks').checked) return;
    $('looks-info').textContent = `(${drawSaliency($<HTMLCanvasElement>('saliency'), f, s)})`;
    this.result.saliency = { kind: s.kind, grid: s.grid, updates: (this.result.saliency?.updates ?? 0) + 1 };
  }

  /** The overlay was switched on: draw it for what is on screen now. */
  async refreshOverlay(): Promise<void> {
    if (this.record?.last) await this.overlay(this.record.last);
  }
}
