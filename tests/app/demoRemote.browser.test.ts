// Issue 23: the demo page's driver list has the remote policy server, reached
// through the page server's proxy by address (src/runtime/proxy.ts; the
// example server sends no CORS headers, so a page calling it directly would
// fail). Driven like a person would: type the address, pick the driver, see
// its identity and the network | policy latency, run an episode of the Python
// reference server (its scripted-expert port must take the in-page expert's
// episode step for step), and see a bad address, nothing listening, a
// refused handshake and a server dying mid-episode named in the page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { closedPort, FAULTY, REFERENCE, startPyServer, stopAllPyServers, type PyServer } from '../eval/remoteServers.ts';
import { ARTIFACTS, openDemo, policyState } from './demoPage.ts';

let session: HeadlessSession;
let ref: PyServer;
const errors: string[] = [];

interface PageRecord { steps: number; actions: number[][]; timings: (Record<string, number | boolean> | null)[]; outcome: { steps: number; success: boolean } | null }
const record = () => session.page.evaluate(() => (window as any).vlalab.record() as PageRecord);
const status = () => session.page.textContent('#status');
/** Waits until the status line shows `want` as an error (then asserts it, so a timeout shows what it said instead). */
async function errorShown(want: string): Promise<void> {
  await session.page.waitForFunction((w) => document.querySelector('#status')?.textContent === w, want, { timeout: 60_000 }).catch(() => undefined);
  expect(await status()).toBe(want);
  expect(await session.page.getAttribute('#status', 'class')).toBe('error');
}

/** Runs the page's episode to its end (real time off). */
async function runEpisode(): Promise<PageRecord> {
  const p = session.page;
  const before = await p.evaluate(() => (window as any).vlalab.result.episode);
  await p.click('#run');
  // over, or stopped by an error (which the status names)
  await p.waitForFunction((n) => (window as any).vlalab.result.episode > n || document.querySelector('#st-policy')?.getAttribute('data-state') === 'error', before, { timeout: 240_000 })
    .catch(() => undefined);
  const r = await p.evaluate(() => ({ ...(window as any).vlalab.result }));
  expect({ over: r.episode > before, steps: r.steps, status: await status() }).toMatchObject({ over: true });
  return record();
}

/** Types `server` into the address box and presses Enter: a new address connects by itself, whatever the list shows. */
async function typeAddress(server: string): Promise<void> {
  await session.page.fill('#remote-addr', server);
  await session.page.press('#remote-addr', 'Enter');
}

beforeAll(async () => {
  ref = await startPyServer(REFERENCE);
  session = await HeadlessSession.open({ page: 'index.html', remoteProxy: true, onError: (m) => errors.push(m) });
  await session.page.setViewportSize({ width: 1280, height: 720 });
});
afterAll(async () => {
  await session?.close();
  await stopAllPyServers();
});

describe('demo page, remote policy server', () => {
  it('runs an episode of the Python reference server from the page: its identity, network | policy latency, the expert\'s actions', async () => {
    const p = session.page;
    await p.uncheck('#realtime');
    // the in-page scripted expert's episode first (the page opens with it)
    const expert = await runEpisode();
    expect(expert.outcome?.success).toBe(true);

    // the address box appears with the remote entry (and tries its default address), then takes the server's
    expect(await p.isVisible('#remote-addr')).toBe(false);
    await p.selectOption('#policy-select', 'remote');
    expect(await p.inputValue('#remote-addr')).toBe('127.0.0.1:8765');
    await p.waitForFunction(() => !/shaking hands/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60_000 });
    await typeAddress(ref.server);
    await p.waitForFunction(() => /scripted-py@1\.0 at/.test(document.querySelector('#driver-info')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await p.textContent('#driver-info')).toBe(`scripted-py@1.0 at ${ref.server}: scripted (privileged state), chunk 1 (open_loop), reads the command as typed; latency: network | the server's own compute`);
    expect(await p.textContent('#st-policy')).toBe('scripted-py@1.0 (remote) · ready');
    expect(await p.textContent('#st-backend')).toBe(`no tfjs here: the policy runs in the server at ${ref.server} (through this page's proxy)`);
    expect(new URL(p.url()).searchParams.get('policy')).toBe(`remote:${ref.server}`);
    expect(await p.$$eval('#hud tr:first-child th', (ths) => ths.map((th) => th.textContent))).toEqual(['ms', 'capture', 'network', 'policy', 'total']);

    const remote = await runEpisode();
    expect(await p.evaluate(() => ({ ...(window as any).vlalab.result }))).toMatchObject({ done: true, success: true, driver: `remote:${ref.server}` });
    expect(await status()).toMatch(/^episode over after \d+ steps: SUCCESS/);
    expect(await policyState(p)).toBe('done');
    // the port of the scripted expert, over HTTP through the proxy, takes the in-page expert's episode step for step
    expect(remote.outcome).toEqual(expert.outcome);
    const diff = Math.max(...remote.actions.flatMap((a, t) => a.map((v, i) => Math.abs(v - expert.actions[t][i]))));
    expect(diff).toBeLessThan(1e-5);
    // every step asked the server (chunk 1): the network part and the server's own compute, both measured
    const steps = remote.timings.filter((t) => t !== null);
    expect(steps).toHaveLength(remote.outcome!.steps);
    for (const t of steps) {
      expect(t).toMatchObject({ inferred: true, backboneMs: 0, decoderMs: 0 });
      expect(t.transferMs as number).toBeGreaterThan(0);
      expect(t.policyMs as number).toBeGreaterThanOrEqual(0);
      expect(t.totalMs as number).toBeGreaterThanOrEqual((t.transferMs as number) + (t.policyMs as number));
    }
    const p50 = await p.$$eval('#hud tr:nth-child(3) td', (tds) => tds.slice(1).map((td) => Number(td.textContent)));
    expect(p50).toHaveLength(4);
    expect(p50.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    expect(p50[1]).toBeGreaterThan(0); // network

    // the first screen still holds everything with the address box there; a phone does not scroll sideways
    for (const sel of ['#remote-addr', '#policy-select', '#policy', '#run']) {
      const b = await p.$eval(sel, (el) => el.getBoundingClientRect().toJSON() as DOMRect);
      expect(b.left >= 0 && b.top >= 0 && b.right <= 1280 && b.bottom <= 720, `${sel} ${JSON.stringify(b)}`).toBe(true);
    }
    await p.screenshot({ path: `${ARTIFACTS}/remote-1280x720.png` });
    await p.setViewportSize({ width: 390, height: 844 });
    await p.waitForTimeout(300);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await p.setViewportSize({ width: 1280, height: 720 });

    // a link to the page restores the remote driver, shaking hands again
    const linked = await openDemo(session, `?task=pick_place&seed=0&policy=${encodeURIComponent(`remote:${ref.server}`)}`);
    await linked.page.waitForFunction(() => /scripted-py@1\.0 at/.test(document.querySelector('#driver-info')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await linked.page.inputValue('#remote-addr')).toBe(ref.server);
    expect(await linked.page.inputValue('#policy-select')).toBe('remote');
    expect(linked.errors).toEqual([]);
    await linked.page.close();
    expect(errors).toEqual([]);
  }, 600_000);

  it('names a bad address, nothing listening, a refused handshake and a server dying mid-episode, and keeps the driver it had', async () => {
    const p = session.page;
    const still = 'still driving with scripted-py@1.0 (remote)';
    await typeAddress('not an address');
    await errorShown(`cannot use the remote policy at not an address: the remote policy address must be HOST:PORT with a port in 1..65535 (e.g. 127.0.0.1:8765), got "not an address"; ${still}`);
    // the list shows the driver still in use, the address box what was typed (to fix it)
    expect([await p.inputValue('#policy-select'), await p.inputValue('#remote-addr')]).toEqual(['remote', 'not an address']);
    expect(await p.evaluate(() => (window as any).vlalab.driver())).toBe(`remote:${ref.server}`);

    const closed = `127.0.0.1:${await closedPort()}`;
    await typeAddress(closed);
    await errorShown(`cannot use the remote policy at ${closed}: unreachable: cannot reach ${closed} at the handshake: connection refused (nothing listens there); ${still}`);

    // a server declaring the inverted gripper: vlalab refuses it, naming the field
    const inverted = await startPyServer(FAULTY, ['--gripper-open', '1', '--accept-any']);
    await typeAddress(inverted.server);
    await errorShown(`cannot use the remote policy at ${inverted.server}: handshake: action.gripper.open: the server declares 1, vlalab 0; ${still}`);

    // a server that dies at step 2 of its first episode: that episode stops with the reason
    const dying = await startPyServer(FAULTY, ['--faults', '1:die', '--fault-step', '2']);
    await typeAddress(dying.server);
    await p.waitForFunction((s) => (document.querySelector('#driver-info')?.textContent ?? '').includes(`at ${s}:`), dying.server, { timeout: 60_000 });
    await p.click('#run');
    await errorShown(`driver error: unreachable: cannot reach ${dying.server} at step 2: the server closed the connection without a reply (socket hang up: did it die?)`);
    expect(await policyState(p)).toBe('error');
    expect(await p.evaluate(() => (window as any).vlalab.result.steps)).toBe(2);
    await p.screenshot({ path: `${ARTIFACTS}/remote-died.png` });
    expect(errors).toEqual([]);
  }, 300_000);
});
