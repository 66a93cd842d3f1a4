// Env registry (Gymnasium's `register`/`make`): ids "<suite>/<task>-v<major>",
// one per task of every registered suite. Loading a user suite registers its
// tasks too, so checkEnv and the determinism tests cover them automatically.
import { builtinSuiteNames, resolveSuite } from '../tasks/builtin.ts';
import type { SuiteSpec } from '../tasks/suite.ts';
import { VlaEnv, type EnvOptions } from './env.ts';

export interface EnvSpec {
  id: string;
  suite: SuiteSpec;
  task: string;
  defaultSplit: string;
}

const registry = new Map<string, EnvSpec>();

export function envId(suite: SuiteSpec, task: string): string {
  return `${suite.name}/${task}-v${suite.version.split('.')[0]}`;
}

export function register(spec: EnvSpec): void {
  registry.set(spec.id, spec);
}

/** Register every task of a suite; returns the ids. */
export function registerSuite(suite: SuiteSpec): string[] {
  return suite.tasks.map((t) => {
    const id = envId(suite, t.name);
    register({ id, suite, task: t.name, defaultSplit: 'train' });
    return id;
  });
}

for (const name of builtinSuiteNames()) registerSuite(resolveSuite(name));

export function listEnvs(): string[] {
  return [...registry.keys()].sort();
}

export function getEnvSpec(id: string): EnvSpec {
  const s = registry.get(id);
  if (!s) throw new Error(`unknown env id "${id}" (registered: ${listEnvs().join(', ')})`);
  return s;
}

export function makeEnv(id: string, opts: Partial<Omit<EnvOptions, 'suite' | 'task'>> = {}): VlaEnv {
  const s = getEnvSpec(id);
  return new VlaEnv({ suite: s.suite, task: s.task, split: opts.split ?? s.defaultSplit, ...opts });
}
