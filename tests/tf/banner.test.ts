// tfjs advises installing @tensorflow/tfjs-node the first time its cpu backend
// runs in Node; that package cannot install here, so the tool silences it
// (src/tf/backend.ts). A fresh process shows what a user's terminal shows.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('tfjs in Node', () => {
  it('prints no "install our node backend" banner once the project starts a backend', () => {
    mkdirSync(resolve('tmp'), { recursive: true }); // inside the project (gitignored) so the script resolves its packages
    const dir = mkdtempSync(join(resolve('tmp'), 'banner-'));
    const script = join(dir, 'run.mts');
    writeFileSync(script, `import * as tf from '@tensorflow/tfjs';\nimport { initBackend } from ${JSON.stringify(resolve('src/tf/backend.ts'))};\nawait initBackend('cpu');\ntf.tidy(() => tf.ones([2]).add(1).dataSync());\nconsole.log('backend', tf.getBackend());\n`);
    const out = execFileSync(process.execPath, [resolve('node_modules/tsx/dist/cli.mjs'), script], { cwd: resolve('.'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    rmSync(dir, { recursive: true, force: true });
    expect(out).toContain('backend cpu');
    expect(out).not.toMatch(/node backend/);
  }, 60_000);
});
