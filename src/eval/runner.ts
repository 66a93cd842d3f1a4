// `vlalab eval`: run a suite split's fixed episode list for each policy (plus
// the scripted-expert upper bound and a blind, image-zeroed baseline per
// policy) in K headless pages, policy inference in a Web Worker. Every finished
// episode is appended to DIR/episodes.jsonl at once, so an interrupted run
// resumes without redoing or losing episodes; a failing episode is recorded
// with its reason and the run goes on.
import type { Appearance } from '../../sim/render/appearance.ts';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import type { SuiteSpec } from '../../tasks/suite.ts';
import type { PointEstimate } from '../../policies/gpt.ts';
import type { EpisodeWire } from '../app/api/episode.ts';
import { Progress } from '../cli/progress.ts';
import { writePolicyVideo } from '../cli/video.ts';
import { DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { HeadlessSession } from '../runtime/session.ts';
import { acquireRunLock } from './lock.ts';
import { checkResumedRecords, checkpointSha256 } from './fingerprint.ts';
import { evalMeta } from './meta.ts';
import { appendRecord, evalEpisodes, readRecords, recordKey, shardEpisodes, type EpisodeRecord, type EpisodeRef } from './records.ts';
import { readSummary, writeOutputs } from './report.ts';
import { formatTable, summarize, type PolicyInfo } from './summary.ts';

export interface PolicySpec {
  /** Label in records and reports. */
  label: string;
  kind: 'expert' | 'policy';
  /** Checkpoint directory (served to the page) or registry name (untrained). */
  checkpoint?: string;
  name?: string;
  blind?: boolean;
  /** Greedy decoding's point estimate, overriding the checkpoint's (policies/gpt.ts). */
  decodePoint?: PointEstimate;
  /** SHA-256 of the checkpoint's config + weights (fingerprint.ts): stamped on its records, checked on resume. */
  sha256?: string;
}

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
  /** Write PNG frames (+ actions) of the first `videoEpisodes` episodes of every learned policy under DIR/<policy>/. */
  video?: string;
  videoEpisodes?: number;
  /** Override every learned policy's greedy point estimate (argmax or median bin); default: each checkpoint's own. */
  decodePoint?: PointEstimate;
  /** Called after each recorded episode (tests use it to kill a browser mid-run). */
  afterEpisode?: (finished: number, session: HeadlessSession) => Promise<void> | void;
}

/** Result of the page's runPolicyEpisode (see src/app/api/policy.ts). */
export type PolicyEpisodeWire = Pick<EpisodeRecord, 'success' | 'steps' | 'terminated' | 'failure' | 'outcome' | 'latency' | 'warmup' | 'backend'> & {
  episode: EpisodeWire['episode'];
  frames?: Record<string, string>;
  actions?: number[][];
  policyInfo?: { name?: string; backbone?: string; params?: number; flopsPerFrame?: number; decodePoint?: string };
  backendInfo?: Record<string, unknown>;
};

/**
 * "expert", a checkpoint directory, or a registry name; "blind:<x>" zeroes the
 * image. A decode override is part of a learned policy's label (`cnn@median`),
 * so runs of one checkpoint decoded two ways keep apart in one run directory.
 */
export function parsePolicySpec(arg: string, decodePoint?: PointEstimate): PolicySpec {
  if (arg === 'expert') return { label: 'expert', kind: 'expert' };
  const blind = arg.startsWith('blind:');
  const target = blind ? arg.slice('blind:'.length) : arg;
  const isDir = existsSync(target) && statSync(target).isDirectory();
  if (isDir && !existsSync(join(target, 'config.json'))) throw new Error(`${target} is not a checkpoint directory (no config.json)`);
  const base = isDir ? basename(resolve(target)) : target;
  const label = `${base}${decodePoint ? `@${decodePoint}` : ''}${blind ? '+blind' : ''}`;
  return {
    label, kind: 'policy', checkpoint: isDir ? resolve(target) : undefined, name: isDir ? undefined : target, blind,
    ...(decodePoint ? { decodePoint } : {}), ...(isDir ? { sha256: checkpointSha256(target) } : {}),
  };
}

/** The policies to run: the requested ones, plus expert and blind baselines unless disabled. */
export function policyPlan(args: string[], baselines: boolean, decodePoint?: PointEstimate): PolicySpec[] {
  const specs = args.map((a) => parsePolicySpec(a, decodePoint));
  if (baselines) {
    if (!specs.some((s) => s.kind === 'expert')) specs.unshift(parsePolicySpec('expert'));
    for (const s of [...specs]) if (s.kind === 'policy' && !s.blind && !specs.some((x) => x.label === `${s.label}+blind`)) specs.push({ ...s, label: `${s.label}+blind`, blind: true });
  }
  const dup = specs.find((s, i) => specs.findIndex((x) => x.label === s.label) !== i);
  if (dup) throw new Error(`two policies are labelled "${dup.label}": give checkpoints distinct directory names`);
  return specs;
}

export async function runEval(o: EvalOptions): Promise<{ dir: string; records: EpisodeRecord[]; table: string }> {
  mkdirSync(o.out, { recursive: true });
  const release = acquireRunLock(o.out);
  try {
    return await runEvalLocked(o);
  } finally {
    release();
  }
}

async function runEvalLocked(o: EvalOptions): Promise<{ dir: string; records: EpisodeRecord[]; table: string }> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const specs = policyPlan(o.policies, o.baselines ?? true, o.decodePoint);
  let episodes = evalEpisodes(suite, o.split, o.episodes);
  if (o.shard) episodes = shardEpisodes(episodes, o.shard);
  const file = join(o.out, 'episodes.jsonl');
  const existing = readRecords(file);
  for (const u of checkResumedRecords(existing, specs, file)) {
    if (!o.quiet) process.stderr.write(`note: ${u.unverified} episodes of "${u.label}" in ${file} predate checkpoint fingerprints; they are kept as they are, unverified\n`);
  }
  const done = new Set(existing.map(recordKey));
  const jobs = specs.flatMap((spec) => episodes.map((ep) => ({ spec, ep }))).filter((j) => !done.has(recordKey({ policy: j.spec.label, ...j.ep })));
  const total = specs.length * episodes.length;
  const progress = new Progress(`eval ${suite.name}/${o.split}`, total, total - jobs.length);
  if (!o.quiet && total > jobs.length) process.stderr.write(`resuming: ${total - jobs.length} of ${total} episodes already in ${file}\n`);
  const infos = new Map<string, PolicyInfo>();
  // A policy whose episodes are all done from an earlier invocation loads nowhere this time: keep what its
  // worker reported then (params, FLOPs, decoding) from the run's summary. Fresh episodes' info replaces it.
  const earlier = new Map(previousInfos(o.out).map((i) => [i.policy, i]));
  const mounts: Record<string, string> = {};
  specs.forEach((s, i) => { if (s.checkpoint) mounts[`/ckpt/${i}`] = s.checkpoint; });
  const sessions: HeadlessSession[] = [];
  let stopping = false, finished = total - jobs.length;
  const tally = new Map<string, { ok: number; n: number }>(); // per policy label, this invocation's episodes
  const onSigint = () => { stopping = true; process.stderr.write('\ninterrupted: finishing episodes in flight; rerun the same command to resume\n'); };
  process.once('SIGINT', onSigint);
  let meta: Record<string, unknown> = {};
  try {
    const workers = Math.max(1, Math.min(o.workers ?? 1, jobs.length || 1));
    for (let i = 0; i < workers; i++) sessions.push(await HeadlessSession.open({ executablePath: o.chromium, mounts, webgpu: o.backend === 'webgpu' }));

    meta = await evalMeta(sessions[0], { suite, split: o.split, backend: o.backend ?? 'auto', workers, shard: o.shard, episodes: episodes.length, policies: specs, terminateOnSuccess: o.terminateOnSuccess ?? false, ignoreTerminate: o.ignoreTerminate ?? false, ...(o.appearance ? { appearance: o.appearance } : {}) });
    let next = 0;
    const open = () => HeadlessSession.open({ executablePath: o.chromium, mounts, webgpu: o.backend === 'webgpu' });
    await Promise.all(sessions.map(async (_, slot) => {
      let restarts = 0;
      while (!stopping && next < jobs.length) {
        const job = jobs[next++];
        const specIndex = specs.indexOf(job.spec);
        const video = o.video && job.spec.kind === 'policy' && episodes.indexOf(job.ep) < (o.videoEpisodes ?? 3) ? join(o.video, job.spec.label) : undefined;
        let r = await runOne(sessions[slot], suite, o, job.spec, specIndex, job.ep, video);
        // A dead browser is not the policy's failure: reopen and run the episode again.
        while (!sessions[slot].browser.isConnected() && restarts < 3 && !stopping) {
          restarts++;
          process.stderr.write(`\nbrowser ${slot} died (${r.record.failure?.message ?? 'disconnected'}); restarting it (${restarts}/3)\n`);
          await sessions[slot].close().catch(() => undefined);
          sessions[slot] = await open();
          r = await runOne(sessions[slot], suite, o, job.spec, specIndex, job.ep, video);
        }
        appendRecord(file, r.record);
        if (r.info && !infos.has(job.spec.label)) infos.set(job.spec.label, r.info);
        finished++;
        const t = tally.get(job.spec.label) ?? { ok: 0, n: 0 };
        t.ok += r.record.success ? 1 : 0;
        t.n++;
        tally.set(job.spec.label, t);
        if (!o.quiet) progress.update(finished, `${job.spec.label} success ${t.ok}/${t.n}`);
        await o.afterEpisode?.(finished, sessions[slot]);
      }
    }));
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(sessions.map((s) => s.close()));
  }
  const records = readRecords(file).filter((r) => r.split === o.split && episodes.some((e) => e.task === r.task && e.seed === r.seed));
  for (const sp of specs) {
    const e = earlier.get(sp.label);
    if (!infos.has(sp.label) && e) infos.set(sp.label, e);
  }
  const summary = summarize(records, [...infos.values()]);
  writeOutputs(o.out, records, summary, meta);
  return { dir: o.out, records, table: formatTable(summary) };
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

async function runOne(session: HeadlessSession, suite: SuiteSpec, o: EvalOptions, spec: PolicySpec, specIndex: number, ep: EpisodeRef, video?: string): Promise<{ record: EpisodeRecord; info?: PolicyInfo }> {
  const t0 = Date.now();
  const base = { suite: suite.name, suiteVersion: suite.version, split: o.split, task: ep.task, seed: ep.seed, policy: spec.label, ...(spec.sha256 ? { checkpointSha256: spec.sha256 } : {}) };
  try {
    if (spec.kind === 'expert') {
      const w = await session.call<EpisodeWire>('runExpertEpisode', { suite, task: ep.task, split: o.split, seed: ep.seed, resolution: o.resolution, record: false });
      return {
        record: { ...base, instruction: w.episode.instruction, backbone: 'scripted', backend: 'none', success: w.success, steps: w.steps, terminated: w.terminated, outcome: w.outcome, latency: [], warmup: [], wallMs: Date.now() - t0 },
        info: { policy: spec.label, backbone: 'scripted' },
      };
    }
    const decode = spec.decodePoint ? { decodePoint: spec.decodePoint } : {};
    const policy = spec.checkpoint ? { checkpointUrl: `/ckpt/${specIndex}/`, ...decode } : { name: spec.name, overrides: decode };
    const w = await session.call<PolicyEpisodeWire>('runPolicyEpisode', {
      suite, task: ep.task, split: o.split, seed: ep.seed, resolution: o.resolution, policy, backend: o.backend ?? 'auto', blind: spec.blind ?? false,
      terminateOnSuccess: o.terminateOnSuccess ?? false, ignoreTerminate: o.ignoreTerminate ?? false, appearance: o.appearance,
      // 'auto' prefers a real GPU; a software one (SwiftShader, llvmpipe) is ~15x slower than wasm, so it ranks last.
      avoidSoftwareGpu: true, recordFrames: video !== undefined, recordActions: video !== undefined,
    });
    const backbone = w.policyInfo?.backbone ?? 'unknown';
    if (video && w.frames) writePolicyVideo(video, { ...w, frames: w.frames }, o.resolution ?? DEFAULT_RESOLUTION, { policy: spec.label, terminated: w.terminated, failure: w.failure });
    return {
      record: { ...base, instruction: w.episode.instruction, backbone, backend: w.backend, success: w.success, steps: w.steps, terminated: w.terminated, failure: w.failure, ...(w.outcome ? { outcome: w.outcome } : {}), latency: w.latency, warmup: w.warmup, wallMs: Date.now() - t0 },
      info: { policy: spec.label, backbone, params: w.policyInfo?.params, flopsPerFrame: w.policyInfo?.flopsPerFrame, decodePoint: w.policyInfo?.decodePoint },
    };
  } catch (e) {
    // The page call itself failed (e.g. the browser died): record it and go on.
    return { record: { ...base, instruction: '', backbone: 'unknown', backend: o.backend ?? 'auto', success: false, steps: 0, terminated: false, failure: { kind: 'exception', message: (e as Error).message.slice(0, 500) }, latency: [], warmup: [], wallMs: Date.now() - t0 } };
  }
}
