// What an eval must know before its first episode, so a result cannot be
// false: which model each label is (a checkpoint's files, or an UNTRAINED
// registry preset, labelled as such everywhere), whether every policy and
// backend actually loads in the worker as the episodes will run it (a
// truncated weights file used to come back as a 0% row, exit 0), and whether
// the split's instructions fit the policy's tokenizer (words it sees as [UNK],
// words dropped past its maxTextLen). A policy with the frozen sentence
// encoder (textEncoderKind 'use-lite') needs its model files: the runner
// serves their directory to the pages (sentenceEncoderMount), and a missing
// or corrupt file fails that policy's setup naming the local file.
import { type ChunkExecution, chunkExecutionLabel } from '../../policies/chunkExecution.ts';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { PointEstimate } from '../../policies/gpt.ts';
import { listPolicies, policyConfig } from '../../policies/registry.ts';
import { SentenceEncoderError } from '../../policies/sentenceEncoder.ts';
import { defaultUseDir } from '../../policies/sentenceEncoderNode.ts';
import { normalizeText, TextTokenizer } from '../../policies/textTokenizer.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { clip } from '../../tasks/grammar.ts';
import type { SuiteSpec } from '../../tasks/suite.ts';
import { CONFIG_FILE, parseConfig } from '../train/checkpoint.ts';
import { BACKEND_ORDER, type BackendRequest, isBackendRequest } from '../worker/fallback.ts';
import { DEFAULT_SENTENCE_ENCODER_URL } from '../worker/protocol.ts';
import type { ServerSpec } from '../worker/remoteSpec.ts';
import { checkpointSha256 } from './fingerprint.ts';
import type { EpisodeRef } from './records.ts';
import type { RemoteIdentity } from './remote.ts';

export interface PolicySpec {
  /** Label in records and reports. */
  label: string;
  kind: 'expert' | 'policy';
  /** Checkpoint directory (served to the page) or registry name (untrained). */
  checkpoint?: string;
  name?: string;
  /** A registry preset with fresh random weights, not a trained checkpoint. */
  untrained?: boolean;
  blind?: boolean;
  /** Greedy decoding's point estimate, overriding the checkpoint's (policies/gpt.ts). */
  decodePoint?: PointEstimate;
  /** How predicted chunks are executed, overriding the checkpoint's (policies/chunkExecution.ts). */
  chunkExecution?: ChunkExecution;
  /** SHA-256 of the checkpoint's config + weights (fingerprint.ts): stamped on its records, checked on resume. */
  sha256?: string;
  /** A remote policy server (remote.ts): where it is and what it declared at the handshake. */
  remote?: { server: string; url: string; spec: ServerSpec };
  /** Its declared "name@version": stamped on its records, checked on resume and merge like sha256. */
  remoteModel?: string;
}

/** Thrown when a policy or backend cannot run at all: the eval stops before recording anything for it. */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

export const UNTRAINED = ' (untrained)';

/**
 * "expert", a checkpoint directory, or a registry name; "blind:<x>" zeroes the
 * image. A decode override is part of a learned policy's label (`cnn@median`),
 * so runs of one checkpoint decoded two ways keep apart in one run directory.
 * A registry name is an untrained preset: its label says so, so it can never
 * pass for the trained checkpoint of the same name.
 */
export function parsePolicySpec(arg: string, decodePoint?: PointEstimate, chunkExecution?: ChunkExecution, remotes?: Map<string, RemoteIdentity>): PolicySpec {
  if (arg === 'expert') return { label: 'expert', kind: 'expert' };
  const blind = arg.startsWith('blind:');
  const target = blind ? arg.slice('blind:'.length) : arg;
  if (target.startsWith('remote:')) {
    // Labelled by the server's declared name, as a checkpoint by its directory; --decode does not apply (no decoder here).
    const id = remotes?.get(target);
    if (!id) throw new SetupError(`--policy ${arg}: a remote policy is known only after its handshake (eval's runner shakes hands before planning)`);
    const label = `${id.spec.name}${chunkExecution ? `@${chunkExecutionLabel(chunkExecution)}` : ''}${blind ? '+blind' : ''}`;
    return { label, kind: 'policy', blind, remote: { ...id.target, spec: id.spec }, remoteModel: id.spec.model, ...(chunkExecution ? { chunkExecution } : {}) };
  }
  const isDir = existsSync(target) && statSync(target).isDirectory();
  if (isDir && !existsSync(join(target, CONFIG_FILE))) throw new SetupError(`${target} is not a checkpoint directory (no config.json)`);
  const presets = listPolicies();
  if (!isDir && !presets.includes(target)) {
    const what = existsSync(target) ? `${resolve(target)} is a file, not a checkpoint directory` : `no checkpoint directory ${isAbsolute(target) ? target : `${target} (${resolve(target)})`}`;
    throw new SetupError(`--policy ${arg}: ${what}, and no registry preset of that name (presets: ${presets.join(', ')}; or "expert")`);
  }
  const base = isDir ? basename(resolve(target)) : `${target}${UNTRAINED}`;
  const label = `${base}${decodePoint ? `@${decodePoint}` : ''}${chunkExecution ? `@${chunkExecutionLabel(chunkExecution)}` : ''}${blind ? '+blind' : ''}`;
  return {
    label, kind: 'policy', checkpoint: isDir ? resolve(target) : undefined, name: isDir ? undefined : target, blind,
    ...(isDir ? {} : { untrained: true }),
    ...(decodePoint ? { decodePoint } : {}), ...(chunkExecution ? { chunkExecution } : {}), ...(isDir ? { sha256: checkpointSha256(target) } : {}),
  };
}

/** The policies to run: the requested ones, plus expert and blind baselines unless disabled. */
export function policyPlan(args: string[], baselines: boolean, decodePoint?: PointEstimate, chunkExecution?: ChunkExecution, remotes?: Map<string, RemoteIdentity>): PolicySpec[] {
  const specs = args.map((a) => parsePolicySpec(a, decodePoint, chunkExecution, remotes));
  if (baselines) {
    if (!specs.some((s) => s.kind === 'expert')) specs.unshift(parsePolicySpec('expert'));
    for (const s of [...specs]) if (s.kind === 'policy' && !s.blind && !specs.some((x) => x.label === `${s.label}+blind`)) specs.push({ ...s, label: `${s.label}+blind`, blind: true });
  }
  const dup = specs.find((s, i) => specs.findIndex((x) => x.label === s.label) !== i);
  if (dup) throw new SetupError(`two policies are labelled "${dup.label}": give checkpoints distinct directory names (a remote policy is labelled by its server's declared name)`);
  return specs;
}

/** --backend must be one the worker knows; checked before any browser starts. */
export function checkBackend(backend: string | undefined): void {
  backendRequest(backend);
}

/** --backend as the page takes it (default 'auto'); anything else is a SetupError naming the choices. */
export function backendRequest(backend: string | undefined): BackendRequest {
  if (backend === undefined) return 'auto';
  if (!isBackendRequest(backend)) throw new SetupError(`--backend must be auto or one of ${BACKEND_ORDER.join(', ')}, got "${backend}"`);
  return backend;
}

/**
 * A worker's load error names the served URL (/ckpt/<i>/..., the sentence
 * encoder's files under DEFAULT_SENTENCE_ENCODER_URL); say which local files it means.
 */
export function localizeLoadError(message: string, spec: PolicySpec, specIndex: number, sentenceEncoderDir?: string): string {
  if (spec.remote) return message.replace(/https?:\/\/[^\s/]+\/remote\/\d+/g, spec.remote.url);
  let m = message;
  if (spec.checkpoint) m = m.replace(new RegExp(`https?://[^\\s/]+/ckpt/${specIndex}/`, 'g'), `${spec.checkpoint}/`);
  if (sentenceEncoderDir) m = m.replace(new RegExp(`https?://[^\\s/]+${DEFAULT_SENTENCE_ENCODER_URL}`, 'g'), `${sentenceEncoderDir.replace(/\/$/, '')}/`);
  return m;
}

/**
 * The instruction encoder a learned policy runs with: 'scratch', or
 * 'use-lite:<input>' (as the worker's PolicyInfo.textEncoder says it);
 * 'remote' for a remote policy server, which encodes for itself.
 */
export function textEncoderOf(spec: PolicySpec): string {
  if (spec.remote) return 'remote';
  const c = policyTextConfig(spec);
  return c.textEncoderKind === 'use-lite' ? `use-lite:${c.textEncoderInput}` : 'scratch';
}

/**
 * Mounts for the pages when a policy needs the frozen sentence encoder: its
 * model directory (VLALAB_USE_DIR, else the npm package's dist/) at
 * DEFAULT_SENTENCE_ENCODER_URL. {} when none does; a SetupError when one does
 * and there is no model directory.
 */
export function sentenceEncoderMount(specs: PolicySpec[]): { mounts: Record<string, string>; dir?: string } {
  const users = specs.filter((s) => s.kind === 'policy' && textEncoderOf(s).startsWith('use-lite:'));
  if (users.length === 0) return { mounts: {} };
  try {
    const dir = resolve(defaultUseDir());
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SentenceEncoderError(`sentence encoder: model directory ${dir} does not exist`);
    return { mounts: { [DEFAULT_SENTENCE_ENCODER_URL.replace(/\/$/, '')]: dir }, dir };
  } catch (e) {
    throw new SetupError(`"${users[0].label}" cannot run${users[0].checkpoint ? ` (${users[0].checkpoint})` : ''}: its text encoder is ${textEncoderOf(users[0])}: ${(e as Error).message}`);
  }
}

export interface InstructionCheck {
  label: string;
  maxTextLen: number;
  /** Out-of-vocabulary words ([UNK] for the policy) and in how many episodes. */
  unknownWords: Record<string, number>;
  /** Episodes whose instruction has more words than fit (maxTextLen - 2: BOS and EOS). */
  truncated: number;
  example?: { instruction: string; dropped: string[] };
}

/** The text side of a learned policy's config: vocabulary and text length of its tokenizer (policies/policy.ts builds TextTokenizer(config.vocab)), encoder kind. */
function policyTextConfig(spec: PolicySpec): { vocab: string[]; maxTextLen: number; textEncoderKind: string; textEncoderInput: string } {
  const pick = (c: { vocab: string[]; maxTextLen: number; textEncoderKind?: string; textEncoderInput?: string }) =>
    ({ vocab: c.vocab, maxTextLen: c.maxTextLen, textEncoderKind: c.textEncoderKind ?? 'scratch', textEncoderInput: c.textEncoderInput ?? 'roles' });
  if (spec.checkpoint) {
    const file = join(spec.checkpoint, CONFIG_FILE);
    return pick(parseConfig(readFileSync(file, 'utf8'), file).policy.config);
  }
  return pick(policyConfig(spec.name!));
}

/**
 * How the episodes' instructions reach each learned policy's tokenizer
 * (`instructions`: the texts the policies will get, default the sampled
 * ones). A frozen sentence encoder has its own subword vocabulary, so only
 * scratch encoders are checked.
 */
export function checkInstructions(suite: SuiteSpec, split: string, episodes: EpisodeRef[], specs: PolicySpec[], instructions?: string[]): InstructionCheck[] {
  const texts = instructions ?? episodes.map((e) => sampleEpisode(suite, e.task, split, e.seed).instruction);
  const checks: InstructionCheck[] = [];
  for (const s of specs) {
    if (s.kind !== 'policy' || s.remote || s.blind && specs.some((x) => x !== s && !x.blind && x.checkpoint === s.checkpoint && x.name === s.name)) continue;
    const { vocab, maxTextLen, textEncoderKind } = policyTextConfig(s);
    if (textEncoderKind !== 'scratch') continue;
    const tok = new TextTokenizer(vocab);
    const fit = maxTextLen - 2;
    const c: InstructionCheck = { label: s.label, maxTextLen, unknownWords: {}, truncated: 0 };
    for (const t of texts) {
      const words = normalizeText(t);
      for (const w of new Set(words)) if (tok.idOf(w) === 1) c.unknownWords[w] = (c.unknownWords[w] ?? 0) + 1;
      if (words.length > fit) {
        c.truncated++;
        c.example ??= { instruction: t, dropped: words.slice(fit) };
      }
    }
    checks.push(c);
  }
  return checks;
}

/** One warning line per problem, or none. */
export function instructionWarnings(checks: InstructionCheck[], episodes: number): string[] {
  const out: string[] = [];
  for (const c of checks) {
    const unk = Object.entries(c.unknownWords).sort((a, b) => b[1] - a[1]);
    if (unk.length) {
      out.push(`warning: "${c.label}" will see ${unk.length} word${unk.length > 1 ? 's' : ''} of this split's instructions as [UNK] (not in its vocabulary): ` +
        unk.slice(0, 8).map(([w, n]) => `"${w}" (${n}/${episodes} episodes)`).join(', ') + (unk.length > 8 ? `, ... (${unk.length} in all)` : ''));
    }
    if (c.truncated) {
      out.push(`warning: "${c.label}" reads at most ${c.maxTextLen - 2} words (maxTextLen ${c.maxTextLen}); ${c.truncated}/${episodes} instructions are longer and lose their end, ` +
        `e.g. "${clip(c.example!.instruction, 120)}" drops "${c.example!.dropped.join(' ')}"`);
    }
  }
  return out;
}
