// Argument pre-processing shared by the CLI's commands (node:util parseArgs underneath).
import type { ParseArgsConfig } from 'node:util';

/**
 * `--episodes -1` would make parseArgs stop with "argument is ambiguous" (it
 * reads -1 as an option): glue a negative number to its string option so the
 * option's own check can say what is wrong with it.
 */
export function glueNegativeValues(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : null;
    if (name && options[name]?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]);
  }
  return out;
}

