import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPreset } from '../../backbones/index.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { wireToFrame } from '../../src/runtime/b64.ts';
import { encodePng } from '../../src/io/png.ts';
import { GRIPPER } from '../../sim/config.ts';
import { ARTIFACTS, FAKE_SPEECH, openDemo, policyState } from './demoPage.ts';
import { capturePolicyFrames, differingPixels, readFixture } from './policyFrames.ts';

// Drives the built demo page like a person: commands (typed, picked, from the
// history, spoken), the keyboard, the layout on a laptop and a phone, a
// policy in the worker; keeps screenshots in .artifacts/demo/.
const shipped = existsSync('checkpoints') ? readdirSync('checkpoints').filter((n) => existsSync(`checkpoints/${n}/config.json`)) : [];
let session: HeadlessSession;
const errors: string[] = [];
const status = () => session.page.textContent('#status');

beforeAll(async () => {
  session = await HeadlessSession.open({ page: 'index.html', onError: (m) => errors.push(m) });
  await session.page.setViewportSize({ width: 1280, height: 720 });
});
afterAll(async () => {
  await session?.close();
});

describe('demo page', () => {
  it('renders the policy cameras exactly as before the viewer camera got its new look', async () => {
    const p = session.page;
    const want = readFixture().frames;
    const got = await capturePolicyFrames(p);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    const diffs: Record<string, number> = {};
    for (const [key, w] of Object.entries(want)) {
      const a = wireToFrame(got[key]), b = wireToFrame(w);
      diffs[key] = differingPixels(a.data, b.data);
      if (diffs[key] > 0) writeFileSync(`${ARTIFACTS}/policy-${key.replaceAll('/', '-')}.png`, encodePng(a.width, a.height, a.data));
    }
    expect(diffs).toEqual(Object.fromEntries(Object.keys(want).map((k) => [k, 0])));
    // The viewer camera is a different engine: anti-aliased, with soft (PCF) shadows.
    const orbit = await p.evaluate(() => (window as any).vlalab.orbit());
    expect(orbit).toMatchObject({ antialias: true, shadows: { filter: 'pcf' } });
    expect(orbit.msaaSamples).toBeGreaterThan(1);
    await p.click('#reset'); // the page's own episode again
    await p.waitForFunction(() => /ready/.test(document.querySelector('#status')?.textContent ?? ''));
    expect(errors).toEqual([]);
  });

  it('reads a command before running it, offers examples, keeps a history, and shows errors as messages', async () => {
    const p = session.page;
    const ep = await p.evaluate(() => (window as any).vlalab.env().episode);
    const obj = ep.layout.objects[0], bowl = ep.layout.bowls[1];
    const noun = obj.shape === 'cube' ? 'block' : obj.shape;
    await p.fill('#text', `Could you PLEASE gently drop the ${obj.color} ${noun} into the ${bowl.color} dish?`);
    // the preview, before anything runs
    expect(await p.textContent('#preview')).toBe(`reads as: ${obj.name} ("${obj.color} ${noun}") → ${bowl.name} ("${bowl.color} dish") · ignored: gently`);
    expect(await policyState(p)).toBe('ready');
    await p.click('#set');
    await p.waitForFunction(() => /ready/.test(document.querySelector('#status')?.textContent ?? ''));
    expect(await p.textContent('#reading')).toBe(`object: ${obj.name} ("${obj.color} ${noun}") · destination: ${bowl.name} ("${bowl.color} dish") · ignored: gently`);
    expect(await p.textContent('#instruction')).toBe(`put the ${obj.name} in the ${bowl.name}`);
    // examples for this scene, the set goal first; a chip fills the box (and does not run)
    const now = await p.evaluate(() => (window as any).vlalab.env().episode.goal);
    expect(now).toEqual({ object: obj.name, target: bowl.name });
    const chips = await p.$$eval('#examples .chip', (bs) => bs.map((b) => b.textContent ?? ''));
    expect(chips.length).toBeGreaterThanOrEqual(3);
    expect(chips[0]).toBe(`put the ${obj.name} in the ${bowl.name}`);
    await p.click('#examples .chip >> nth=2');
    expect(await p.inputValue('#text')).toBe(chips[2]);
    expect(await p.getAttribute('#preview', 'class')).toBe('ok');
    await p.click('#set');
    await p.waitForFunction((c) => (window as any).vlalab.env().episode.command?.text === c, chips[2]);
    // errors: visible messages, the episode stays
    for (const [cmd, why] of [['put the purple prism in the blue bowl', /there is no purple prism in the scene|no blue bowl/], ['please tidy up', /nothing to move/]] as const) {
      await p.fill('#text', cmd);
      expect(await p.textContent('#preview')).toMatch(why);
      await p.press('#text', 'Enter');
      await p.waitForFunction(() => document.querySelector('#status')?.className === 'error');
      expect(await status()).toMatch(why);
      expect(await p.evaluate(() => (window as any).vlalab.env().episode.command?.text)).toBe(chips[2]);
    }
    // history: up walks back through the commands that were set, down returns to the draft
    await p.fill('#text', 'draft');
    await p.press('#text', 'ArrowUp');
    expect(await p.inputValue('#text')).toBe(chips[2]);
    await p.press('#text', 'ArrowUp');
    expect(await p.inputValue('#text')).toMatch(/^Could you PLEASE gently drop/);
    await p.press('#text', 'ArrowDown');
    await p.press('#text', 'ArrowDown');
    expect(await p.inputValue('#text')).toBe('draft');
    expect(errors).toEqual([]);
  });

  it('runs on Enter and stops on Esc, the status saying so, the viewer arm following the gripper', async () => {
    const p = session.page;
    await p.fill('#text', '');
    await p.click('#set');
    await p.waitForFunction(() => /ready/.test(document.querySelector('#status')?.textContent ?? ''));
    const before = await p.evaluate(() => (window as any).vlalab.orbit().arm.joints);
    await p.check('#realtime');
    await p.focus('#view');
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => (window as any).vlalab.result.steps >= 3);
    expect(await policyState(p)).toBe('running');
    await p.keyboard.press('Escape');
    await p.waitForFunction(() => document.querySelector('#st-policy')?.getAttribute('data-state') === 'stopped');
    const stoppedAt = await p.evaluate(() => (window as any).vlalab.result.steps);
    expect(await status()).toBe(`stopped at step ${stoppedAt} — Enter continues`);
    // the arm's joints moved and its flange sits on the palm as the physics has it now
    const { arm, palm } = await p.evaluate(async () => {
      const v = (window as any).vlalab;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const sim = v.env().sim;
      const i = sim.describe().bodies.findIndex((b: { role: string }) => b.role === 'palm');
      return { arm: v.orbit().arm, palm: Array.from(sim.poses().slice(7 * i, 7 * i + 3)) as number[] };
    });
    expect(Math.hypot(arm.flangeDisc[0] - palm[0], arm.flangeDisc[1] - palm[1], arm.flangeDisc[2] - (palm[2] + GRIPPER.palmHalf[2] + 0.01))).toBeLessThan(1e-3);
    expect(Math.max(...arm.joints.map((q: number, j: number) => Math.abs(q - before[j])))).toBeGreaterThan(0.01);
    await p.uncheck('#realtime');
    await p.focus('#view');
    await p.keyboard.press('Enter');
    await p.waitForFunction(() => document.querySelector('#st-policy')?.getAttribute('data-state') === 'done', null, { timeout: 120_000 });
    expect(await p.textContent('#st-policy')).toMatch(/^scripted expert · done \((success|failure)\)$/);
    expect(await p.textContent('#st-backend')).toBe('no tfjs: the scripted expert reads the simulator state');
    expect(errors).toEqual([]);
  });

  it('lays out at 1280x720 with everything in view, and on a phone with the controls under the scene', async () => {
    const p = session.page;
    const box = (sel: string) => p.$eval(sel, (el) => el.getBoundingClientRect().toJSON() as DOMRect);
    for (const sel of ['#bar', '#view', '#text', '#run', '#policy', '#st-policy', '#st-backend', '#replay']) {
      const b = await box(sel);
      expect(b.width * b.height, sel).toBeGreaterThan(0);
      expect(b.left >= 0 && b.top >= 0 && b.right <= 1280 && b.bottom <= 720, `${sel} ${JSON.stringify(b)}`).toBe(true);
    }
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await p.screenshot({ path: `${ARTIFACTS}/desktop-1280x720.png` });
    await p.setViewportSize({ width: 390, height: 844 });
    await p.waitForTimeout(300);
    const [view, text, bar] = [await box('#view'), await box('#text'), await box('#bar')];
    expect(view.width).toBeGreaterThan(340);
    expect(text.top).toBeGreaterThanOrEqual(view.bottom);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await p.$eval('#text', (el) => parseFloat(getComputedStyle(el).fontSize))).toBeGreaterThanOrEqual(16);
    await p.screenshot({ path: `${ARTIFACTS}/phone-390x844.png`, fullPage: true });
    // the status bar stays in sight while scrolling down to the controls
    await p.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    expect((await box('#bar')).top).toBe(0);
    expect(bar.height).toBeLessThan(140);
    await p.evaluate(() => window.scrollTo(0, 0));
    await p.setViewportSize({ width: 1280, height: 720 });
    expect(errors).toEqual([]);
  });

  it('takes a spoken command for confirmation without running it, names a speech failure, and reports a bad link', async () => {
    const { page: p, errors: errs } = await openDemo(session, '?task=juggle&seed=x&policy=ckpt:nope', FAKE_SPEECH);
    try {
      expect(await p.textContent('#status')).toMatch(/the link had problems: task "juggle" is not a task[^]*seed "x"[^]*policy "ckpt:nope" is not on this page/);
      expect(await p.getAttribute('#status', 'class')).toBe('error');
      const ep = await p.evaluate(() => (window as any).vlalab.env().episode);
      const said = `put the ${ep.goal.object} in the ${ep.goal.target}`;
      await p.evaluate((t) => (window as any).__speech.push({ text: t }, { error: 'not-allowed' }), said);
      await p.click('#mic');
      await p.waitForFunction(() => /^heard:/.test(document.querySelector('#heard')?.textContent ?? ''));
      expect(await p.textContent('#heard')).toBe(`heard: “${said}” — check it, then press Enter to run`);
      expect(await p.inputValue('#text')).toBe(said);
      expect(await p.textContent('#preview')).toBe(`reads as: ${ep.goal.object} → ${ep.goal.target}`);
      expect(await p.evaluate(() => (window as any).vlalab.result.steps)).toBe(0);
      expect(await policyState(p)).toBe('ready');
      await p.click('#mic');
      await p.waitForFunction(() => /^speech/.test(document.querySelector('#status')?.textContent ?? ''));
      expect(await p.getAttribute('#status', 'class')).toBe('error');
      expect(await p.textContent('#status')).toBe('speech input failed: the microphone was not allowed (browser permission)');
      expect(await p.inputValue('#text')).toBe(said);
      expect(errs).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('swaps in a policy running in the worker, runs an episode, and updates the HUD and the status', async () => {
    const p = session.page;
    const option = shipped.length ? `ckpt:${shipped[0]}` : 'preset:efficientnet-film';
    await p.selectOption('#backend', 'wasm');
    await p.selectOption('#policy-select', option);
    await p.waitForFunction(() => /tfjs wasm/.test(document.querySelector('#driver-info')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await p.textContent('#st-backend')).toBe('tfjs wasm (as asked)');
    expect(await policyState(p)).toBe('ready');
    await p.uncheck('#realtime');
    const before = await p.evaluate(() => (window as any).vlalab.result.episode);
    await p.click('#run');
    await p.waitForFunction((n) => (window as any).vlalab.result.episode > n, before, { timeout: 180_000 });
    const result = await p.evaluate(() => ({ ...(window as any).vlalab.result }));
    expect(result.done).toBe(true);
    expect(result.steps).toBeGreaterThan(0);
    expect(result.driver).toBe(option);
    expect(await status()).toMatch(/episode over after \d+ steps: (SUCCESS|failure)/);
    expect(await policyState(p)).toBe('done');
    // The HUD shows measured latency parts (numbers, not dashes) and the step count.
    expect(await p.textContent('#hud')).toMatch(new RegExp(`step ${result.steps}/`));
    expect(await p.$$eval('#hud tr:nth-child(3) td', (tds) => tds.slice(1).map((td) => Number(td.textContent)))).toSatisfy((xs: number[]) => xs.length === 5 && xs.every((x) => Number.isFinite(x) && x >= 0));
    await p.screenshot({ path: `${ARTIFACTS}/policy-episode.png` });
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
    await p.screenshot({ path: `${ARTIFACTS}/looks-at.png` });
    expect(errors).toEqual([]);
  });
});
