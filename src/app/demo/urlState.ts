// The demo's state in the URL (?task=stack&seed=3&policy=ckpt:vit-siglip&backend=wasm&cmd=...),
// so a link reproduces an episode: the layout is a pure function of (task,
// seed), the typed command is resolved the same way, and the policy (a
// remote one by its server's address) and the tfjs backend are named. Pure (no DOM) so it is tested in Node. A bad
// value is reported by the field it came from and replaced by the default.
import { isBackendRequest, type BackendRequest } from '../../worker/fallback.ts';
import { parseRemoteAddress } from '../../worker/remoteSpec.ts';

export interface DemoState {
  task: string;
  seed: number;
  /** 'expert', 'ckpt:<name>' (a shipped checkpoint), 'preset:<name>' (untrained) or 'remote:HOST:PORT' (a policy server). */
  policy: string;
  backend: BackendRequest;
  /** Typed command; '' = the episode's sampled instruction. */
  command: string;
}

export const DEFAULT_STATE: Omit<DemoState, 'task'> = { seed: 0, policy: 'expert', backend: 'auto', command: '' };

const KEYS: Record<keyof DemoState, string> = { task: 'task', seed: 'seed', policy: 'policy', backend: 'backend', command: 'cmd' };

/** The state a query string asks for; `problems` names each field that was not usable. */
export function parseState(search: string, tasks: readonly string[]): { state: DemoState; problems: string[]; given: boolean } {
  const q = new URLSearchParams(search);
  const state: DemoState = { task: tasks[0], ...DEFAULT_STATE };
  const problems: string[] = [];
  const task = q.get(KEYS.task);
  if (task !== null) {
    if (tasks.includes(task)) state.task = task;
    else problems.push(`task "${task}" is not a task of this suite (tasks: ${tasks.join(', ')})`);
  }
  const seed = q.get(KEYS.seed);
  if (seed !== null) {
    if (/^\d{1,10}$/.test(seed) && Number(seed) <= 0xffffffff) state.seed = Number(seed);
    else problems.push(`seed "${seed}" is not a whole number from 0 to 4294967295`);
  }
  const policy = q.get(KEYS.policy);
  if (policy !== null) {
    const remote = policy.startsWith('remote:') ? parseRemoteAddress(policy.slice('remote:'.length)) : null;
    if (policy === 'expert' || /^(ckpt|preset):[\w.-]+$/.test(policy)) state.policy = policy;
    else if (remote) state.policy = `remote:${remote.server}`;
    else problems.push(`policy "${policy}" is not expert, ckpt:<name>, preset:<name> or remote:HOST:PORT`);
  }
  const backend = q.get(KEYS.backend);
  if (backend !== null) {
    if (isBackendRequest(backend)) state.backend = backend;
    else problems.push(`backend "${backend}" is not one of auto, webgpu, webgl, wasm, cpu`);
  }
  const cmd = q.get(KEYS.command);
  if (cmd !== null) state.command = cmd.slice(0, 300);
  const given = (Object.values(KEYS) as string[]).some((k) => q.has(k));
  return { state, problems, given };
}

/** Query string for a state ('?task=...'); the command only when one is set. */
export function stateToSearch(s: DemoState): string {
  const q = new URLSearchParams();
  q.set(KEYS.task, s.task);
  q.set(KEYS.seed, String(s.seed));
  q.set(KEYS.policy, s.policy);
  q.set(KEYS.backend, s.backend);
  if (s.command) q.set(KEYS.command, s.command);
  return `?${q.toString()}`;
}
