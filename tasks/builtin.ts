// Built-in suites, shipped as JSON data in tasks/suites/, plus loading of
// user suite files.
import tabletopV1 from './suites/tabletop-v1.json';
import { parseSuite, validateSuite, type SuiteSpec } from './suite.ts';

export const DEFAULT_SUITE = 'tabletop';

const builtins: Record<string, SuiteSpec> = {
  tabletop: validateSuite(tabletopV1, 'tasks/suites/tabletop-v1.json'),
};

export function builtinSuiteNames(): string[] {
  return Object.keys(builtins);
}

/**
 * A suite by built-in name, or from a JSON file path (Node only: pass a
 * reader so this module stays browser-safe).
 */
export function resolveSuite(nameOrPath: string, readFile?: (path: string) => string): SuiteSpec {
  const b = builtins[nameOrPath];
  if (b) return b;
  if (nameOrPath.endsWith('.json')) {
    if (!readFile) throw new Error(`cannot read suite file "${nameOrPath}" here`);
    let text: string;
    try {
      text = readFile(nameOrPath);
    } catch (e) {
      throw new Error(`cannot read suite file "${nameOrPath}": ${(e as Error).message}`);
    }
    return parseSuite(text, nameOrPath);
  }
  throw new Error(`unknown suite "${nameOrPath}": use a built-in name (${builtinSuiteNames().join(', ')}) or a path to a .json suite file`);
}
