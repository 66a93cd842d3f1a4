import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../backbones/index.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';

// Drives the built demo page like a person: types commands, swaps the policy,
// runs an episode, and keeps a screenshot in test-artifacts/ for inspection.
const shipped = existsSync('checkpoints') ? readdirSync('checkpoints').filter((n) => existsSync(`checkpoints/${n}/config.json`)) : [];
let session: HeadlessSession;
const errors: string[] = [];

beforeAll(async () => {
  session = await HeadlessSession.open({ page: 'index.html', onError: (m) => errors.push(m) });
  await session.page.setViewportSize({ width: 1280, height: 760 });
});
afterAll(async () => {
  await session?.close();
});

describe('demo page', () => {
  it('shows a visible message for commands it cannot resolve instead of crashing', async () => {
    const p = session.page;
    await p.fill('#text', 'put the purple prism in the blue bowl');
    await p.click('#command button');
    await p.waitForFunction(() => document.querySelector('#status')?.className === 'error');
    expect(await p.textContent('#status')).toMatch(/there is no purple prism in the scene|no blue bowl/);
    await p.fill('#text', 'please tidy up');
    await p.click('#command button');
    await p.waitForFunction(() => /nothing to move/.test(document.querySelector('#status')?.textContent ?? ''));
    expect(errors).toEqual([]);
  });

  it('reads a command as people type it and shows how it read it, the policy getting the canonical sentence', async () => {
    const p = session.page;
    const ep = await p.evaluate(() => (window as any).vlalab.env().episode);
    const obj = ep.layout.objects[0];
    const bowl = ep.layout.bowls[1];
    const noun = obj.shape === 'cube' ? 'block' : obj.shape;
    await p.fill('#text', `Could you PLEASE gently drop the ${obj.color} ${noun} into the ${bowl.color} dish?`);
    await p.click('#command button');
    await p.waitForFunction(() => /ready/.test(document.querySelector('#status')?.textContent ?? ''));
    expect(await p.textContent('#reading')).toBe(`object: ${obj.name} ("${obj.color} ${noun}") · destination: ${bowl.name} ("${bowl.color} dish") · ignored: gently`);
    expect(await p.textContent('#instruction')).toBe(`put the ${obj.name} in the ${bowl.name}`);
    expect(errors).toEqual([]);
  });

  it('swaps in a policy running in the worker, runs an episode, and updates the HUD', async () => {
    const p = session.page;
    const option = shipped.length ? `ckpt:${shipped[0]}` : 'preset:efficientnet-film';
    await p.selectOption('#backend', 'wasm');
    await p.selectOption('#policy-select', option);
    await p.waitForFunction(() => /tfjs wasm/.test(document.querySelector('#driver-info')?.textContent ?? ''), null, { timeout: 60_000 });
    await p.uncheck('#realtime');
    const before = await p.evaluate(() => (window as any).vlalab.result.episode);
    await p.click('#run');
    await p.waitForFunction((n) => (window as any).vlalab.result.episode > n, before, { timeout: 180_000 });
    const result = await p.evaluate(() => ({ ...(window as any).vlalab.result }));
    expect(result.done).toBe(true);
    expect(result.steps).toBeGreaterThan(0);
    expect(result.driver).toBe(option);
    expect(await p.textContent('#status')).toMatch(/episode over after \d+ steps: (SUCCESS|failure)/);
    // The HUD shows measured latency parts (numbers, not dashes) and the step count.
    const hud = await p.textContent('#hud');
    expect(hud).toMatch(new RegExp(`step ${result.steps}/`));
    expect(await p.$$eval('#hud tr:nth-child(3) td', (tds) => tds.slice(1).map((td) => Number(td.textContent)))).toSatisfy((xs: number[]) => xs.length === 5 && xs.every((x) => Number.isFinite(x) && x >= 0));
    mkdirSync('test-artifacts', { recursive: true });
    await p.screenshot({ path: 'test-artifacts/demo.png' });
    expect(errors).toEqual([]);
  });

  it('overlays what each shipped backbone looks at on the live policy frame', async () => {
    const p = session.page;
    await p.check('#looks');
    const kinds: Record<string, string> = {};
    for (const name of shipped) {
      await p.selectOption('#policy-select', `ckpt:${name}`);
      // read the saliency in the same call that waits for it: a new episode resets it to null
      const handle = await p.waitForFunction((n) => {
        const r = (window as any).vlalab.result;
        return r.driver === `ckpt:${n}` && r.saliency?.updates > 0 ? { ...r.saliency } : null;
      }, name, { timeout: 60_000 });
      const s = (await handle.jsonValue()) as { kind: string; grid: number[] };
      kinds[name] = `${s.kind} ${s.grid.join('x')}`;
      // the overlay is drawn: the canvas has a red-dominant hot spot over a grey frame
      const hot = await p.$eval('#saliency', (c) => {
        const cv = c as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 2] + 60) n++;
        return n;
      });
      expect(hot, name).toBeGreaterThan(10);
      expect(await p.textContent('#looks-info')).toMatch(/(TokenLearner maps|last-layer attention), \d+x\d+ grid/);
    }
    expect(shipped.length).toBeGreaterThanOrEqual(2);
    // A backbone with TokenLearner shows its maps (both shipped ones: the ViT now has the RT-1 token path),
    // one without shows the last layer's attention (policies/saliency.ts; unit-tested for both kinds).
    for (const name of shipped) {
      const cfg = JSON.parse(readFileSync(`checkpoints/${name}/config.json`, 'utf8')).policy.config;
      const learned = { ...getPreset(cfg.backbone), ...cfg.backboneOverrides }.tokenLearnerTokens > 0;
      expect(kinds[name], name).toMatch(learned ? /^tokenlearner \d+x\d+$/ : /^attention \d+x\d+$/);
    }
    expect(kinds['efficientnet-film']).toMatch(/^tokenlearner 6x6$/);
    await p.screenshot({ path: 'test-artifacts/demo-looks-at.png' });
    expect(errors).toEqual([]);
  });
});
