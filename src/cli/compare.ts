// `vlalab compare RUN_A [RUN_B]`: paired comparison of two policies' eval
// episodes (eval/compare.ts) with a verdict per task and overall. Exit codes
// make it a CI gate: 0 no regression, 1 a REGRESSED verdict, 2 bad input
// (missing directory, unreadable records, unknown label, nothing paired).
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { anyRegression, chooseLabel, pairedCompare, readRunRecords } from '../eval/compare.ts';
import { compareDirName, formatCompareTable, slug, writeCompare } from '../eval/compareReport.ts';

const HELP = `vlalab compare RUN_A RUN_B [options]      compare policy B (in RUN_B) against policy A (in RUN_A)
vlalab compare RUN --policy-a LABEL --policy-b LABEL      two policies of one run directory
  --policy-a LABEL  the policy of RUN_A (default: its only learned policy, i.e. not "expert" nor "+blind")
  --policy-b LABEL  the policy of RUN_B (same default)
  --policy LABEL    the same label on both sides (two runs of one policy)
  --alpha A         significance level of the exact McNemar test (default 0.05)
  --effect D        the difference in success rate, 0..1, that HELD must have had 80% power to detect (default 0.1)
  --out DIR         where compare.json and compare.html go (default RUN_B/compare-vs-<basename of RUN_A>;
                    one run: RUN/compare-<A>-vs-<B>)
Episodes are paired by (suite, split, task, seed); unpaired ones are counted and left out. Per task and overall:
IMPROVED / REGRESSED (p < alpha, B better / worse), HELD (not significant, power >= 0.8 at --effect) or
UNDERPOWERED (not significant, less power than that). Exit 1 when any verdict is REGRESSED, 2 on bad input, else 0.`;

/** A number in (0, 1), or (0, 1] with `oneOk`; `dflt` when absent. */
function unitNumber(v: string | undefined, name: string, dflt: number, oneOk: boolean): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!(x > 0 && (x < 1 || (oneOk && x === 1)))) throw new Error(`--${name} must be a number in (0, 1${oneOk ? ']' : ')'}, got "${v}"`);
  return x;
}

/** Runs the command; returns the exit code (errors are printed here, exit 2). */
export async function runCompare(args: string[]): Promise<number> {
  try {
    const { values: v, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { 'policy-a': { type: 'string' }, 'policy-b': { type: 'string' }, policy: { type: 'string' }, alpha: { type: 'string' }, effect: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length < 1 || positionals.length > 2) throw new Error(`give one or two run directories, got ${positionals.length} (see vlalab compare --help)`);
    const [dirA, dirB = positionals[0]] = positionals;
    const oneRun = resolve(dirA) === resolve(dirB);
    if (oneRun && (v['policy-a'] === undefined || v['policy-b'] === undefined)) throw new Error(`comparing two policies of one run (${dirA}) needs --policy-a LABEL and --policy-b LABEL`);
    const alpha = unitNumber(v.alpha, 'alpha', 0.05, false), effect = unitNumber(v.effect, 'effect', 0.1, true);
    const recordsA = readRunRecords(dirA), recordsB = oneRun ? recordsA : readRunRecords(dirB);
    const labelA = chooseLabel(recordsA, dirA, '--policy-a', v['policy-a'] ?? v.policy);
    const labelB = chooseLabel(recordsB, dirB, '--policy-b', v['policy-b'] ?? v.policy);
    if (oneRun && labelA === labelB) throw new Error(`--policy-a and --policy-b are both "${labelA}" in one run: nothing to compare`);
    const c = pairedCompare(recordsA.filter((r) => r.policy === labelA), recordsB.filter((r) => r.policy === labelB), { alpha, effect });
    const sides = { runA: dirA, runB: dirB };
    const out = v.out ?? (oneRun ? join(dirA, compareDirName(labelA, labelB)) : join(dirB, `compare-vs-${slug(basename(resolve(dirA)))}`));
    console.log(formatCompareTable(c, sides));
    const files = writeCompare(out, c, sides);
    console.log(`\nreport: ${files.html}`);
    const regressed = anyRegression(c);
    if (regressed) console.log(`REGRESSED: ${[...c.rows, c.overall].filter((r) => r.verdict === 'REGRESSED').map((r) => r.name).join(', ')}`);
    return regressed ? 1 : 0;
  } catch (e) {
    console.error(`vlalab compare: ${(e as Error).message}`);
    return 2;
  }
}
