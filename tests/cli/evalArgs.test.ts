// Issue 19, CLI edges: every bad count, path or backend is refused before a
// browser starts, with a message saying what is wrong (not Node's "argument is
// ambiguous", not an empty report with exit 0).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { glueNegativeValues } from '../../src/cli/args.ts';

function vlalab(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const p = spawn(process.execPath, ['bin/vlalab.mjs', ...args], { env: { ...process.env, VLALAB_CHROMIUM: '/nonexistent/chromium' }, timeout: 90_000 });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stderr })));
}

describe('CLI edges', () => {
  it('glues a negative number to its string option so the option check can name it', () => {
    const opts = { episodes: { type: 'string' }, quick: { type: 'boolean' } } as const;
    expect(glueNegativeValues(['--episodes', '-1', '--quick'], opts)).toEqual(['--episodes=-1', '--quick']);
    expect(glueNegativeValues(['--quick', '-1'], opts)).toEqual(['--quick', '-1']); // not a string option: left to parseArgs
  });

  // Chromium points nowhere: a case that got past validation would fail on "Chromium not found" instead.
  const cases: [string[], RegExp][] = [
    [['eval', '--policy', 'expert', '--episodes', '-1'], /--episodes must be a non-negative integer, got "-1"/],
    [['eval', '--policy', 'expert', '--episodes', '0'], /--episodes must be at least 1, got "0"/],
    [['eval', '--policy', 'expert', '--workers', '0'], /--workers must be at least 1, got "0"/],
    [['eval', '--policy', 'expert', '--backend', 'nonsense'], /--backend must be auto or one of webgpu, webgl, wasm, cpu, got "nonsense"/],
    [['eval', '--policy', 'checkpoints/efficientnet-flim'], /--policy checkpoints\/efficientnet-flim: no checkpoint directory/],
    [['collect', '--episodes', '0'], /--episodes must be at least 1, got "0"/],
    [['analyze', 'generalization', '--episodes', '-1'], /--episodes must be a positive integer, got "-1"/],
  ];
  it('refuses bad counts, paths and backends with exit 1 and a message naming them', async () => {
    const results = await Promise.all(cases.map(([args]) => vlalab(args)));
    for (const [i, [args, msg]] of cases.entries()) {
      const r = results[i];
      expect({ args, status: r.status, stderr: r.stderr }).toMatchObject({ status: 1, stderr: expect.stringMatching(msg) });
      expect(r.stderr).not.toMatch(/ambiguous|Chromium not found/);
    }
  });
});
