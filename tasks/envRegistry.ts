// The suite tasks in the env registry (sim/registry.ts): ids
// "<suite>/<task>-v<major>", one per task of every registered suite. The
// built-in suites register at load, as Gymnasium's envs package registers its
// envs; registerSuite adds a user suite's tasks, so checkEnv and the
// determinism tests loop over them too. makeEnv and getEnvSpec here are the
// registry's, typed for suite envs.
import { getEnvSpec as getSpec, register, type EnvSpec, type MakeOptions } from '../sim/registry.ts';
import { builtinSuiteNames, resolveSuite } from './builtin.ts';
import { SuiteEnv } from './env.ts';
import type { SuiteSpec } from './suite.ts';

export { listEnvs } from '../sim/registry.ts';

export interface SuiteEnvSpec extends EnvSpec {
  suite: SuiteSpec;
  task: string;
  defaultSplit: string;
  make(opts: MakeOptions): SuiteEnv;
}

const suiteSpecs = new WeakSet<EnvSpec>();

export function envId(suite: SuiteSpec, task: string): string {
  return `${suite.name}/${task}-v${suite.version.split('.')[0]}`;
}

/** Register every task of a suite; returns the ids. */
export function registerSuite(suite: SuiteSpec): string[] {
  return suite.tasks.map((t) => {
    const spec: SuiteEnvSpec = {
      id: envId(suite, t.name), suite, task: t.name, defaultSplit: 'train',
      make: (opts) => new SuiteEnv({ ...opts, suite, task: t.name, split: opts.split ?? spec.defaultSplit }),
    };
    register(spec);
    suiteSpecs.add(spec);
    return spec.id;
  });
}

for (const name of builtinSuiteNames()) registerSuite(resolveSuite(name));

/** The spec of a registered suite task (an unknown id, or one registered by something else, is an error). */
export function getEnvSpec(id: string): SuiteEnvSpec {
  const s = getSpec(id);
  if (!isSuiteEnvSpec(s)) throw new Error(`env id "${id}" is not a suite task`);
  return s;
}

function isSuiteEnvSpec(s: EnvSpec): s is SuiteEnvSpec {
  return suiteSpecs.has(s);
}

export function makeEnv(id: string, opts: MakeOptions = {}): SuiteEnv {
  return getEnvSpec(id).make(opts);
}
