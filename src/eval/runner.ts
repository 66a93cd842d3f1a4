// `vlalab eval`: run a suite split's fixed episode list for each policy (plus
// the scripted-expert upper bound and a blind, image-zeroed baseline per
// policy) in K headless pages, policy inference in a Web Worker. Every finished
// episode is appended to DIR/episodes.jsonl at once, so an interrupted run
// resumes without redoing or losing episodes; a failing episode is recorded
// with its reason and the run goes on. What is not the episode's doing is never
// recorded: a policy or backend that cannot load stops the run before its
// first episode (setup.ts), and Ctrl-C / SIGTERM drops the episodes in flight,
// writes the summary of what is done and exits 130 (runtime/interrupt.ts).
import { type ChunkExecution, chunkExecutionLabel } from '../../policies/chunkExecution.ts';
import type { Appearance } from '../../sim/render/appearance.ts';
import { checkSensor, type SensorPerturbation } from '../../sim/render/sensor.ts';
import { checkEpisodePerturbation, type EpisodePerturbation } from '../../tasks/perturbation.ts';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { isProbeKind, makeProbe, PROBE_KINDS, type LanguageProbe, type ProbeKind } from '../../tasks/probes.ts';
import { lexiconOf, type SuiteSpec } from '../../tasks/suite.ts';
import type { PointEstimate } from '../../policies/gpt.ts';
import type { EpisodeWire } from '../app/api/episode.ts';
import type { EpisodePolicy } from '../app/api/policyClients.ts';
import { writePolicyVideo } from '../data/episodeVideo.ts';
import { planWorkers } from '../runtime/machine.ts';
import { Progress } from '../runtime/progress.ts';
import { DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { InterruptedError, interruptScope, unlessAborted } from '../runtime/interrupt.ts';
import { openSessions, runPool } from '../runtime/pool.ts';
import { HeadlessSession } from '../runtime/session.ts';
import type { WorkerMemory } from '../worker/protocol.ts';
import { withRunLock } from './lock.ts';
import { checkProtocol, checkResumedRecords, isNotAResult, type EvalProtocol } from './fingerprint.ts';
import { evalMeta } from './meta.ts';
import { handshakeRemotes, remoteMeta, remotePolicyArg } from './remote.ts';
import { appendRecord, evalEpisodes, readRecords, recordKey, shardEpisodes, type EpisodeRecord, type EpisodeRef } from './records.ts';
import { readSummary, writeOutputs } from './report.ts';
import { backendRequest, checkBackend, checkInstructions, instructionWarnings, localizeLoadError, policyPlan, sentenceEncoderMount, SetupError, type PolicySpec } from './setup.ts';
import { formatTable, summarize, type PolicyInfo } from './summary.ts';

export { parsePolicySpec, policyPlan, SetupError, type PolicySpec } from './setup.ts';

export interface EvalOptions {
  policies: string[];
  suite: string;
  split: string;
  episodes?: number;
  workers?: number;
  backend?: string;
  out: string;
  shard?: { index: number; count: number };
  baselines?: boolean;
  resolution?: number;
  chromium?: string;
  quiet?: boolean;
  /** Stop the episode once the task succeeds (LIBERO-style); default false: the policy must terminate. */
  terminateOnSuccess?: boolean;
  /** Zero the policies' terminate action (LIBERO protocol; combine with terminateOnSuccess). */
  ignoreTerminate?: boolean;
  /** Rendering-only probe applied to every policy episode (robustness experiments; sim/render/appearance.ts). */
  appearance?: Appearance;
  /** Post-render corruption of every policy's frames: pixel noise, blur, occluder (robustness levels; sim/render/sensor.ts). */
  sensor?: SensorPerturbation;
  /** Physical change of every episode, the expert's too: robot start pose, extra distractors (robustness levels; tasks/perturbation.ts). */
  perturbation?: EpisodePerturbation;
  /** Write PNG frames (+ actions) of the first `videoEpisodes` episodes of every learned policy under DIR/<policy>/. */
  video?: string;
  videoEpisodes?: number;
  /** Override every learned policy's greedy point estimate (argmax or median bin); default: each checkpoint's own. */
  decodePoint?: PointEstimate;
  /** Chunk execution of every learned policy (eval --chunk-exec); default: each checkpoint's own. */
  chunkExecution?: ChunkExecution;
  /**
   * A counterfactual language probe (tasks/probes.ts) replacing every
   * episode's instruction; episodes whose layout has no such probe are left
   * out (analyze language-probes).
   */
  probe?: ProbeKind;
  /** Per request to a remote policy server (eval --remote-timeout); default DEFAULT_REMOTE_TIMEOUT_MS. */
  remoteTimeoutMs?: number;
  /** Called after each recorded episode (tests use it to kill a browser mid-run). */
  afterEpisode?: (finished: number, session: HeadlessSession) => Promise<void> | void;
  /** Aborting it acts as Ctrl-C (tests, embedding callers); SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
}

export async function runEval(o: EvalOptions): Promise<{ dir: string; records: EpisodeRecord[]; table: string }> {
  return withRunLock(o.out, () => runEvalLocked(o));
}

async function runEvalLocked(o: EvalOptions): Promise<{ dir: string; records: EpisodeRecord[]; table: string }> {
  const say = (line: string) => { if (!o.quiet) process.stderr.write(line + '\n'); };
  checkBackend(o.backend);
  if (o.episodes !== undefined && !(Number.isInteger(o.episodes) && o.episodes >= 1)) throw new SetupError(`--episodes must be a positive integer, got ${o.episodes}`);
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  for (const check of [() => o.sensor && checkSensor(o.sensor), () => o.perturbation && checkEpisodePerturbation(o.perturbation)]) {
    try { check(); } catch (e) { throw new SetupError((e as Error).message); }
  }
  if (o.remoteTimeoutMs !== undefined && !(Number.isInteger(o.remoteTimeoutMs) && o.remoteTimeoutMs >= 1)) throw new SetupError(`--remote-timeout must be a positive integer (ms), got ${o.remoteTimeoutMs}`);
  const remotes = await handshakeRemotes(o.policies, { resolution: o.resolution ?? DEFAULT_RESOLUTION, timeoutMs: o.remoteTimeoutMs });
  const specs = policyPlan(o.policies, o.baselines ?? true, o.decodePoint, o.chunkExecution, remotes);
  for (const s of specs) if (s.remote && !s.blind) say(`remote policy "${s.label}": ${s.remoteModel} at ${s.remote.server}${s.remote.spec.privileged ? ', given privileged state (it asked; reported as such)' : ''}`);
  for (const s of specs) if (s.untrained && !s.blind) say(`note: "${s.name}" is a registry preset: an UNTRAINED policy with random weights, labelled "${s.label}"; pass a checkpoint directory (e.g. checkpoints/${s.name}) for the trained one`);
  let episodes = evalEpisodes(suite, o.split, o.episodes);
  if (o.shard) episodes = shardEpisodes(episodes, o.shard);
  if (o.probe !== undefined && !isProbeKind(o.probe)) throw new SetupError(`unknown language probe "${o.probe}" (probes: ${PROBE_KINDS.join(', ')})`);
  const probes = new Map<string, LanguageProbe>(); // by task/seed
  if (o.probe) {
    for (const e of episodes) {
      const p = makeProbe(sampleEpisode(suite, e.task, o.split, e.seed), o.probe, lexiconOf(suite));
      if (p) probes.set(`${e.task}/${e.seed}`, p);
    }
    episodes = episodes.filter((e) => probes.has(`${e.task}/${e.seed}`));
    if (episodes.length === 0) throw new SetupError(`probe ${o.probe} applies to none of the ${o.split} episodes asked for`);
  }
  const probeOf = (e: EpisodeRef) => probes.get(`${e.task}/${e.seed}`);
  const protocol: EvalProtocol = {
    terminateOnSuccess: o.terminateOnSuccess ?? false, ignoreTerminate: o.ignoreTerminate ?? false, decode: o.decodePoint ?? 'checkpoint', chunkExecution: o.chunkExecution ? chunkExecutionLabel(o.chunkExecution) : 'checkpoint',
    backend: o.backend ?? 'auto', resolution: o.resolution ?? DEFAULT_RESOLUTION, ...(o.appearance ? { appearance: o.appearance } : {}),
    ...(o.sensor ? { sensor: o.sensor } : {}), ...(o.perturbation ? { perturbation: o.perturbation } : {}), ...(o.probe ? { probe: o.probe } : {}),
  };
  const file = join(o.out, 'episodes.jsonl');
  dropNonResults(file, say);
  const existing = readRecords(file);
  checkProtocol(existing, protocol, file);
  for (const u of checkResumedRecords(existing, specs, file)) say(`note: ${u.unverified} episodes of "${u.label}" in ${file} predate checkpoint fingerprints; they are kept as they are, unverified`);
  const done = new Set(existing.map(recordKey));
  const jobs = specs.flatMap((spec) => episodes.map((ep) => ({ spec, ep }))).filter((j) => !done.has(recordKey({ policy: j.spec.label, ...j.ep })));
  const total = specs.length * episodes.length;
  const progress = new Progress(`eval ${suite.name}/${o.split}`, total, total - jobs.length);
  if (total > jobs.length) say(`resuming: ${total - jobs.length} of ${total} episodes already in ${file}`);
  const pendingSpecs = specs.filter((s) => jobs.some((j) => j.spec === s));
  const instructionChecks = checkInstructions(suite, o.split, episodes, pendingSpecs, o.probe ? episodes.map((e) => probeOf(e)!.instruction) : undefined);
  for (const w of instructionWarnings(instructionChecks, episodes.length)) say(w);
  const { workers, note } = planWorkers(o.workers ?? 1, jobs.length);
  if (note) say(note);

  const infos = new Map<string, PolicyInfo>();
  // A policy whose episodes are all done from an earlier invocation loads nowhere this time: keep what its
  // worker reported then (params, FLOPs, decoding) from the run's summary. Fresh episodes' info replaces it.
  const earlier = new Map(previousInfos(o.out).map((i) => [i.policy, i]));
  const encoderMount = sentenceEncoderMount(pendingSpecs);
  const mounts: Record<string, string> = { ...encoderMount.mounts };
  const localize = (msg: string, spec: PolicySpec, i: number) => localizeLoadError(msg, spec, i, encoderMount.dir);
  const proxies: Record<string, string> = {}; // same-origin paths to remote policy servers (runtime/proxy.ts)
  specs.forEach((s, i) => {
    if (s.checkpoint) mounts[`/ckpt/${i}`] = s.checkpoint;
    if (s.remote) proxies[`/remote/${i}`] = s.remote.url;
  });
  const sessions: HeadlessSession[] = [];
  let finished = total - jobs.length;
  const tally = new Map<string, { ok: number; n: number }>(); // per policy label, this invocation's episodes
  const tensors: Record<string, number[][]> = {}; // per label, per page: the worker's live tensors after each episode
  const scope = interruptScope(o.signal);
  let meta: Record<string, unknown> = { suite: suite.name, suiteVersion: suite.version, split: o.split, protocol };
  let setupError: Error | null = null;
  const open = () => HeadlessSession.open({ executablePath: o.chromium, mounts, proxies, webgpu: o.backend === 'webgpu' });
  const remote = remoteMeta(specs, o.remoteTimeoutMs);
  try {
    sessions.push(...(await openSessions(workers, open, scope.signal)));
    if (!scope.aborted) {
      meta = await evalMeta(sessions[0], { suite, split: o.split, backend: o.backend ?? 'auto', workers, shard: o.shard, episodes: episodes.length, policies: specs, terminateOnSuccess: protocol.terminateOnSuccess, ignoreTerminate: protocol.ignoreTerminate, protocol, instructionChecks, ...(o.appearance ? { appearance: o.appearance } : {}), ...(o.sensor ? { sensor: o.sensor } : {}), ...(o.perturbation ? { perturbation: o.perturbation } : {}) , ...(remote ? { remote } : {}) });
      // Every policy loads (weights, config, backend) in a worker as its episodes will run, before the first episode.
      for (const spec of pendingSpecs) {
        if (spec.kind !== 'policy' || scope.aborted) continue;
        await unlessAborted(preparePolicy(sessions[0], o, spec, specs.indexOf(spec), localize), scope.signal);
      }
    }
    await runPool({
      sessions, open, signal: scope.signal, items: jobs,
      run: (session, job) => {
        const specIndex = specs.indexOf(job.spec);
        const video = o.video && job.spec.kind === 'policy' && episodes.indexOf(job.ep) < (o.videoEpisodes ?? 3) ? join(o.video, job.spec.label) : undefined;
        return runOne(session, suite, o, protocol, job.spec, specIndex, job.ep, video, probeOf(job.ep));
      },
      diedBecause: (r) => r.record.failure?.message,
      onResult: async (r, job, slot) => {
        if (r.setup) {
          const resume = finished > 0 ? `; the ${finished} episodes done are kept in ${file}: rerun the same command to resume` : '';
          setupError ??= new SetupError(`"${job.spec.label}" cannot run: ${localize(r.setup, job.spec, specs.indexOf(job.spec))}${resume}`);
          return false;
        }
        appendRecord(file, r.record);
        if (r.info && !infos.has(job.spec.label)) infos.set(job.spec.label, r.info);
        if (r.memory) ((tensors[job.spec.label] ??= [])[slot] ??= []).push(r.memory.numTensors);
        finished++;
        const t = tally.get(job.spec.label) ?? { ok: 0, n: 0 };
        t.ok += r.record.success ? 1 : 0;
        t.n++;
        tally.set(job.spec.label, t);
        if (!o.quiet) progress.update(finished, `${job.spec.label} success ${t.ok}/${t.n}`);
        await o.afterEpisode?.(finished, sessions[slot]);
      },
    });
  } finally {
    scope.dispose();
    await Promise.all(sessions.map((s) => s.close()));
  }
  if (setupError) throw setupError;
  const records = readRecords(file).filter((r) => r.split === o.split && episodes.some((e) => e.task === r.task && e.seed === r.seed));
  for (const sp of specs) {
    const e = earlier.get(sp.label);
    if (!infos.has(sp.label) && e) infos.set(sp.label, e);
  }
  const growth = tensorGrowth(tensors);
  for (const [label, g] of Object.entries(growth)) say(`warning: the inference worker of "${label}" holds ${g} more tensors after its last episode than after its first: a tensor leak (counts in summary.json meta.workerTensors)`);
  meta = { ...meta, workerTensors: tensors, ...(Object.keys(growth).length ? { workerTensorGrowth: growth } : {}), ...(scope.aborted ? { interrupted: true } : {}) };
  const summary = summarize(records, [...infos.values()]);
  writeOutputs(o.out, records, summary, meta);
  if (scope.aborted) throw new InterruptedError(String(scope.signal.reason ?? 'signal'), `${finished} of ${total} episodes are in ${file} (summary.json covers them); rerun the same command to resume`);
  return { dir: o.out, records, table: formatTable(summary) };
}

/** Per label: how many more tensors a worker held after its last episode than after its first (only labels that grew). */
export function tensorGrowth(tensors: Record<string, number[][]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, pages] of Object.entries(tensors)) {
    const g = Math.max(0, ...pages.filter((c) => c && c.length >= 2).map((c) => c[c.length - 1] - c[0]));
    if (g > 0) out[label] = g;
  }
  return out;
}

/**
 * Rewrites `file` without the records that are no result (fingerprint.ts
 * isNotAResult: setup failures and dead page calls of older versions), so a
 * resume reruns those episodes; the dropped lines go to episodes.dropped.jsonl.
 */
function dropNonResults(file: string, say: (line: string) => void): void {
  if (!existsSync(file)) return;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const drop: string[] = [], keep: string[] = [];
  for (const l of lines) {
    let r: EpisodeRecord | null = null;
    try { r = JSON.parse(l) as EpisodeRecord; } catch { /* a torn line: readRecords skips it */ }
    (r && isNotAResult(r) ? drop : keep).push(l);
  }
  if (drop.length === 0) return;
  const dropped = join(file, '..', 'episodes.dropped.jsonl');
  writeFileSync(dropped, drop.join('\n') + '\n', { flag: 'a' });
  writeFileSync(`${file}.tmp`, keep.length ? keep.join('\n') + '\n' : '');
  renameSync(`${file}.tmp`, file);
  say(`note: ${drop.length} records in ${file} are no result (the policy or backend did not start, or the page call failed: ${JSON.parse(drop[0]).failure?.message?.slice(0, 80) ?? ''}…); they are moved to ${dropped} and their episodes rerun`);
}

/** Load the policy in a worker exactly as its episodes will, or stop with what is wrong (naming the local files). */
async function preparePolicy(session: HeadlessSession, o: EvalOptions, spec: PolicySpec, specIndex: number, localize: typeof localizeLoadError): Promise<void> {
  try {
    await session.call('preparePolicy', { policy: policyArg(spec, specIndex, o), backend: backendRequest(o.backend), blind: spec.blind ?? false, avoidSoftwareGpu: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0];
    throw new SetupError(`"${spec.label}" cannot run${spec.checkpoint ? ` (${spec.checkpoint})` : ''}: ${localize(msg, spec, specIndex)}`);
  }
}

function policyArg(spec: PolicySpec, specIndex: number, o: EvalOptions): EpisodePolicy {
  if (spec.remote) return remotePolicyArg(spec, specIndex, { resolution: o.resolution ?? DEFAULT_RESOLUTION, timeoutMs: o.remoteTimeoutMs });
  const overrides = { ...(spec.decodePoint ? { decodePoint: spec.decodePoint } : {}), ...(spec.chunkExecution ? { chunkExecution: spec.chunkExecution } : {}) };
  if (spec.checkpoint) return { checkpointUrl: `/ckpt/${specIndex}/`, ...overrides };
  if (!spec.name) throw new SetupError(`"${spec.label}" has neither a checkpoint nor a registry name`);
  return { name: spec.name, overrides };
}

/** The per-policy info of a run directory's summary.json, if it has a readable one. */
function previousInfos(dir: string): PolicyInfo[] {
  if (!existsSync(join(dir, 'summary.json'))) return [];
  try {
    return readSummary(dir).policies;
  } catch {
    return []; // a torn summary is rewritten from the records below
  }
}

interface EpisodeResult { record: EpisodeRecord; info?: PolicyInfo; memory?: WorkerMemory; setup?: string }

async function runOne(session: HeadlessSession, suite: SuiteSpec, o: EvalOptions, protocol: EvalProtocol, spec: PolicySpec, specIndex: number, ep: EpisodeRef, video?: string, probe?: LanguageProbe): Promise<EpisodeResult> {
  const t0 = Date.now();
  const model = spec.sha256 ? { checkpointSha256: spec.sha256 } : spec.remoteModel ? { remoteModel: spec.remoteModel } : spec.untrained ? { preset: spec.name, untrained: true } : {};
  const base = { suite: suite.name, suiteVersion: suite.version, split: o.split, task: ep.task, seed: ep.seed, policy: spec.label, ...model, protocol };
  const probed = (w: { episode: EpisodeWire['episode'] }) => (w.episode.probe ? { probe: w.episode.probe } : {});
  try {
    if (spec.kind === 'expert') {
      const w = await session.call('runExpertEpisode', { suite, task: ep.task, split: o.split, seed: ep.seed, resolution: o.resolution, record: false, perturbation: o.perturbation, probe });
      return {
        record: { ...base, instruction: w.episode.instruction, ...probed(w), backbone: 'scripted', backend: 'none', success: w.success, steps: w.steps, terminated: w.terminated, outcome: w.outcome, latency: [], warmup: [], wallMs: Date.now() - t0 },
        info: { policy: spec.label, backbone: 'scripted' },
      };
    }
    const w = await session.call('runPolicyEpisode', {
      suite, task: ep.task, split: o.split, seed: ep.seed, resolution: o.resolution, policy: policyArg(spec, specIndex, o), backend: backendRequest(o.backend), blind: spec.blind ?? false,
      terminateOnSuccess: o.terminateOnSuccess ?? false, ignoreTerminate: o.ignoreTerminate ?? false, appearance: o.appearance, sensor: o.sensor, perturbation: o.perturbation,
      // 'auto' prefers a real GPU; a software one (SwiftShader, llvmpipe) is ~15x slower than wasm, so it ranks last.
      avoidSoftwareGpu: true, recordFrames: video !== undefined, recordActions: video !== undefined, probe,
    });
    if (w.failure?.kind === 'setup') return { record: { ...base } as EpisodeRecord, setup: w.failure.message };
    const backbone = w.policyInfo?.backbone ?? 'unknown';
    if (video && w.frames) writePolicyVideo(video, { ...w, frames: w.frames }, o.resolution ?? DEFAULT_RESOLUTION, { policy: spec.label, terminated: w.terminated, failure: w.failure });
    const local = w.policyInfo && !('remote' in w.policyInfo) ? w.policyInfo : undefined; // decoding is the worker's; a remote model's is its own
    return {
      record: { ...base, instruction: w.episode.instruction, ...probed(w), backbone, backend: w.backend, success: w.success, steps: w.steps, terminated: w.terminated, failure: w.failure, ...(w.outcome ? { outcome: w.outcome } : {}), latency: w.latency, warmup: w.warmup, wallMs: Date.now() - t0 },
      info: { policy: spec.label, backbone, params: w.policyInfo?.params, flopsPerFrame: w.policyInfo?.flopsPerFrame, decodePoint: local?.decodePoint, decoding: local?.decoding, head: local?.head, chunkLength: w.policyInfo?.chunkLength, chunkExecution: w.policyInfo?.chunkExecution },
      memory: w.workerMemory,
    };
  } catch (e) {
    // The page call itself failed (e.g. the browser died): the caller restarts the browser and reruns it.
    return { record: { ...base, instruction: '', backbone: 'unknown', backend: o.backend ?? 'auto', success: false, steps: 0, terminated: false, failure: { kind: 'exception', message: (e as Error).message.slice(0, 500) }, latency: [], warmup: [], wallMs: Date.now() - t0 } };
  }
}
