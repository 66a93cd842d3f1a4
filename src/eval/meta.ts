// Run metadata for evaluation reports: versions, renderer, browser, CPU,
// git commit, and the run's arguments, so a result can be traced and redone.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SuiteSpec } from '../../tasks/suite.ts';
import { machineInfo } from '../runtime/machine.ts';
import type { HeadlessSession } from '../runtime/session.ts';

const require = createRequire(import.meta.url);

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function evalMeta(session: HeadlessSession, run: { suite: SuiteSpec; split: string; [k: string]: unknown }): Promise<Record<string, unknown>> {
  let renderer: unknown = null;
  try {
    renderer = await session.call('rendererInfo');
  } catch (e) {
    renderer = { error: (e as Error).message };
  }
  const { suite, ...rest } = run;
  return {
    ...rest,
    suite: suite.name,
    suiteVersion: suite.version,
    machine: machineInfo(),
    versions: {
      tfjs: pkgVersion('@tensorflow/tfjs'),
      babylon: pkgVersion('@babylonjs/core'),
      rapier: pkgVersion('@dimforge/rapier3d-compat'),
      playwright: pkgVersion('playwright-core'),
      chromium: session.browser.version(),
    },
    renderer,
  };
}
