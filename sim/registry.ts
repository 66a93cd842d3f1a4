// Env registry (Gymnasium's `register`/`make`): ids "<suite>/<task>-v<major>"
// map to specs that build the env. Like Gymnasium's registration module it
// imports no env: the built-in suites register their tasks from tasks/
// (tasks/envRegistry.ts), and so does a user suite loaded there.
import type { EnvOptions, VlaEnv } from './env.ts';

/** make()'s per-call overrides: env options plus the split to sample from. */
export interface MakeOptions extends EnvOptions {
  split?: string;
}

export interface EnvSpec {
  id: string;
  /** Gymnasium's entry_point: builds an env of this id with make()'s overrides. */
  make(opts: MakeOptions): VlaEnv;
}

const registry = new Map<string, EnvSpec>();

export function register(spec: EnvSpec): void {
  registry.set(spec.id, spec);
}

export function listEnvs(): string[] {
  return [...registry.keys()].sort();
}

export function getEnvSpec(id: string): EnvSpec {
  const s = registry.get(id);
  if (!s) throw new Error(`unknown env id "${id}" (registered: ${listEnvs().join(', ')})`);
  return s;
}

export function makeEnv(id: string, opts: MakeOptions = {}): VlaEnv {
  return getEnvSpec(id).make(opts);
}
