// Issue 23, any policy over the wire, without a browser: the handshake against
// the Python servers (each side refuses a mismatch naming the field), replies
// that are malformed, NaN, oversized, wrongly shaped, out of bounds or late are
// named errors, chunks execute as chunkExecution.ts says, a server that dies
// mid-request is named (directly and through the pages' proxy), and through the
// CLI an unreachable or mismatched server stops eval before any browser or record.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkResumedRecords } from '../../src/eval/fingerprint.ts';
import { parseRemoteTarget } from '../../src/eval/remote.ts';
import { startServer } from '../../src/runtime/server.ts';
import { RemoteClient, type RemoteOptions } from '../../src/worker/remoteClient.ts';
import { checkServerDeclaration, clientDeclaration } from '../../src/worker/remoteSpec.ts';
import { closedPort, FAULTY, observation, PRIVILEGED, REFERENCE, startPyServer, stopAllPyServers, type PyServer } from './remoteServers.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-remote-'));
afterAll(async () => {
  await stopAllPyServers();
  rmSync(dir, { recursive: true, force: true });
});
async function py(script: string, args: string[] = []): Promise<PyServer> {
  return startPyServer(script, args);
}
const client = (s: { url: string; server: string }, o: Partial<RemoteOptions> = {}) =>
  new RemoteClient({ url: s.url, display: s.server, cameras: ['scene', 'wrist'], resolution: 96, version: 'test', ...o });
const privileged = () => PRIVILEGED;

function vlalab(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const p = spawn(process.execPath, ['bin/vlalab.mjs', ...args], { env: { ...process.env, VLALAB_CHROMIUM: '/nonexistent/chromium' }, timeout: 200_000 });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stderr })));
}

describe('handshake', () => {
  it('settles identity, inputs and chunk length with the reference server, and acts within the bounds', async () => {
    const s = await py(REFERENCE);
    const c = client(s);
    expect(await c.start()).toMatchObject({ name: 'scripted-py', version: '1.0', model: 'scripted-py@1.0', cameras: ['scene'], privileged: true, proprio: true, chunkLength: 1 });
    expect(c.policyInfo).toMatchObject({ backbone: 'scripted (privileged state)', chunkExecution: 'open_loop', remote: { model: 'scripted-py@1.0', privileged: true } });
    await c.reset({ id: 'pick_place-1', instruction: 'put the red cube in the blue bowl' });
    const r = await c.act(observation(), { captureMs: 2, privileged });
    // the cube is 10 cm away in +x at hover height: the expert moves +x at the step bound, gripper open
    // the cube is 10 cm away in +x and the TCP 4 cm above hover height: both clipped to the 2.5 cm step, gripper open
    expect(Array.from(r.action)).toEqual(Array.from(Float32Array.from([0.025, 0, -0.025, 0, 0, 0])));
    expect(r.inferred).toBe(true);
    expect(r.timing.policyMs).toBeGreaterThanOrEqual(0);
    expect(r.timing.transferMs).toBeGreaterThan(0);
    expect(r.timing.totalMs).toBeGreaterThanOrEqual(2 + r.timing.transferMs + r.timing.policyMs! - 0.01);
  });

  it('vlalab refuses a server whose declaration differs, naming the field', async () => {
    const s = await py(FAULTY, ['--gripper-open', '1', '--accept-any']);
    await expect(client(s).start()).rejects.toThrow(/^handshake: action\.gripper\.open: the server declares 1, vlalab 0$/);
    const mine = clientDeclaration({ cameras: ['scene'], resolution: 96, version: 't' });
    const { gripper: _, ...noGripper } = mine.action;
    const good = { protocol: 'vlalab-remote-policy', protocol_version: 1, policy: { name: 'p', version: '1' }, control_hz: 10, observation: { proprio: mine.observation.proprio }, action: { ...mine.action } };
    expect(checkServerDeclaration(good, mine)).toMatchObject({ model: 'p@1', cameras: [], proprio: true, privileged: false, chunkLength: 1 });
    const bad: [unknown, RegExp][] = [
      [{ ...good, protocol_version: 2 }, /protocol_version: the server declares 2, vlalab 1/],
      [{ ...good, control_hz: 15 }, /control_hz: the server declares 15, vlalab 10/],
      [{ ...good, action: { ...good.action, units: ['cm', 'cm', 'cm', 'rad', '1', '1'] } }, /action\.units\[0\]: the server declares "cm", vlalab "m"/],
      [{ ...good, action: { ...good.action, high: [1, 1, 1, 1, 1, 1] } }, /action\.high\[0\]: the server declares 1, vlalab 0\.025/],
      [{ ...good, action: { ...good.action, normalization: 'mean_std' } }, /action\.normalization: the server declares "mean_std", vlalab "none"/],
      [{ ...good, action: noGripper }, /the server does not declare action\.gripper/],
      [{ ...good, action: { ...good.action, chunk_length: 0 } }, /action\.chunk_length must be an integer in \[1, 64\]/],
      [{ ...good, observation: { depth: {} } }, /observation\.depth: vlalab has no such observation/],
      [{ ...good, observation: { images: { scene: { shape: [64, 64, 3], dtype: 'uint8' } } } }, /observation\.images\.scene\.shape\[0\]: the server declares 64, vlalab 96/],
      [{ ...good, policy: { name: 'has space', version: '1' } }, /policy\.name must be 1-64 letters/],
      [{ ...good, policy: undefined }, /does not declare policy/],
    ];
    for (const [reply, msg] of bad) expect(() => checkServerDeclaration(reply, mine)).toThrow(msg);
  });

  it('a server refuses vlalab when its declaration does not fit, naming the field', async () => {
    const [a, b] = await Promise.all([py(FAULTY, ['--camera', 'top']), py(FAULTY, ['--gripper-open', '1'])]);
    await expect(client(a).start()).rejects.toThrow(/^handshake: the server refused the handshake: 127\.0\.0\.1:\d+ answered HTTP 409 at the handshake: observation\.images\.top: the client does not send this camera$/);
    await expect(client(b).start()).rejects.toThrow(/the server refused the handshake: .* action\.gripper: this policy takes \{"index": 4, "open": 1, "closed": 0\}, the client declares \{"index": 4, "open": 0, "closed": 1\}$/);
  });
});

describe('replies', () => {
  it('malformed, NaN, null, oversized, wrongly shaped, out-of-bounds, HTTP 500 and late replies are named errors', async () => {
    const kinds = ['nan', 'null', 'malformed', 'oversized', 'shape', 'chunk', 'bounds', 'http500', 'slow'];
    const s = await py(FAULTY, ['--faults', kinds.map((k, i) => `${i + 1}:${k}`).join(','), '--fault-step', '1', '--slow-s', '5']);
    const c = client(s, { timeoutMs: 2000 });
    await c.start();
    const expected = [
      /^nan: the reply of 127\.0\.0\.1:\d+ at step 1 holds NaN \(not a finite number; JSON has no NaN or Infinity\)$/,
      /^nan: reply\.actions\[0\]\[2\] \(dz\) is null, not a number \(JSON\.stringify writes NaN as null\)$/,
      /^malformed: the reply of 127\.0\.0\.1:\d+ at step 1 is not JSON/,
      /^oversized: 127\.0\.0\.1:\d+ at step 1: the reply is oversized: \d+ bytes \(at most 262144\)$/,
      /^shape: reply\.actions\[0\] must be 6 numbers \(dx, dy, dz, dyaw, gripper, terminate\), got \[0,0,0,0,0\]$/,
      /^shape: reply\.actions holds 2 actions; the handshake declared chunk_length 1$/,
      /^bounds: reply\.actions\[0\]\[0\] \(dx\) = 0\.05 is outside the declared bounds \[-0\.025, 0\.025\]; vlalab clips nothing silently/,
      /^http: 127\.0\.0\.1:\d+ answered HTTP 500 at step 1: RuntimeError: the policy blew up$/,
      /^timeout: no reply from 127\.0\.0\.1:\d+ within 2000 ms \(--remote-timeout\) at step 1$/,
    ];
    for (const [i, msg] of expected.entries()) {
      await c.reset({ id: kinds[i], instruction: 'x' });
      await c.act(observation(), { privileged }); // step 0 is fine
      await expect(c.act(observation(), { privileged }), kinds[i]).rejects.toThrow(msg);
    }
  });

  it('chunks execute as the chunk execution says: open loop asks every K steps, receding:2 every 2', async () => {
    const s = await py(FAULTY, ['--chunk', '4']);
    const pattern = async (o: Partial<RemoteOptions>) => {
      const c = client(s, o);
      await c.start();
      await c.reset({ id: 'chunks', instruction: 'x' });
      const inferred: boolean[] = [];
      for (let t = 0; t < 9; t++) inferred.push((await c.act(observation(), { privileged })).inferred);
      return { inferred: inferred.map(Number).join(''), info: c.policyInfo };
    };
    expect(await pattern({})).toMatchObject({ inferred: '100010001', info: { chunkLength: 4, chunkExecution: 'open_loop' } });
    expect(await pattern({ chunkExecution: { mode: 'receding', every: 2 } })).toMatchObject({ inferred: '101010101', info: { chunkExecution: 'receding2' } });
    const stats = (await (await fetch(`${s.url}/stats`)).json()) as Record<string, { requests: number }>;
    expect(Object.values(stats).map((e) => e.requests)).toEqual([3, 5]);
  });

  it('a server that dies mid-request is named, directly and through the pages\' same-origin proxy', async () => {
    const a = await py(FAULTY, ['--faults', '1:die', '--fault-step', '1']);
    const c = client(a);
    await c.start();
    await c.reset({ id: 'dies', instruction: 'x' });
    await c.act(observation(), { privileged });
    await expect(c.act(observation(), { privileged })).rejects.toThrow(/^unreachable: cannot reach 127\.0\.0\.1:\d+ at step 1: (the connection was closed without a reply|other side closed)/);
    expect(await a.exited).toBe(3);
    await expect(client(a).start()).rejects.toThrow(/^unreachable: cannot reach 127\.0\.0\.1:\d+ at the handshake: connection refused \(nothing listens there\)$/);

    const b = await py(FAULTY, ['--faults', '1:die', '--fault-step', '1']);
    const web = await startServer(dir, { proxies: { '/remote/0': b.url } });
    try {
      const p = client({ url: `${web.url}/remote/0`, server: b.server });
      await p.start();
      await p.reset({ id: 'dies', instruction: 'x' });
      await p.act(observation(), { privileged });
      await expect(p.act(observation(), { privileged })).rejects.toThrow(/^unreachable: cannot reach 127\.0\.0\.1:\d+ at step 1: the server closed the connection without a reply \(socket hang up: did it die\?\)$/);
      await b.exited;
      await expect(client({ url: `${web.url}/remote/0`, server: b.server }, { reconnectMs: 300 }).start()).rejects.toThrow(/at the handshake: connection refused/);
    } finally {
      await web.close();
    }
  });

  it('resume refuses records of another remote model under the label, naming both', () => {
    const rec = { suite: 's', suiteVersion: '1', split: 'x', task: 'pick_place', seed: 1, instruction: '', policy: 'scripted-py', remoteModel: 'scripted-py@1.0', backbone: 'b', backend: 'remote', success: true, steps: 1, terminated: true, latency: [], warmup: [], wallMs: 1 };
    expect(() => checkResumedRecords([rec], [{ label: 'scripted-py', remoteModel: 'scripted-py@2.0' }], 'f')).toThrow(/holds episodes of "scripted-py" from remote policy scripted-py@1\.0, but "scripted-py" is now remote policy scripted-py@2\.0/);
    expect(checkResumedRecords([rec], [{ label: 'scripted-py', remoteModel: 'scripted-py@1.0' }], 'f')).toEqual([]);
  });
});

describe('eval --policy remote:HOST:PORT (CLI)', () => {
  it('an unreachable server or a refused handshake stops the run before any browser: exit 1, no records', async () => {
    const ref = await py(REFERENCE);
    const port = await closedPort();
    const outs = ['gone', 'mismatch'].map((n) => join(dir, n));
    const [gone, mismatch] = await Promise.all([
      vlalab(['eval', '--policy', `remote:127.0.0.1:${port}`, '--episodes', '2', '--out', outs[0]]),
      vlalab(['eval', '--policy', `remote:${ref.server}`, '--resolution', '64', '--episodes', '2', '--out', outs[1]]),
    ]);
    expect(gone).toMatchObject({ status: 1, stderr: expect.stringMatching(new RegExp(`--policy remote:127\\.0\\.0\\.1:${port}: unreachable: cannot reach 127\\.0\\.0\\.1:${port} at the handshake: connection refused`)) });
    expect(mismatch).toMatchObject({ status: 1, stderr: expect.stringMatching(/the server refused the handshake: .*observation\.images\.scene\.shape: this policy takes \[96, 96, 3\], the client sends \[64, 64, 3\]/) });
    for (const r of [gone, mismatch]) expect(r.stderr).not.toMatch(/Chromium not found/);
    for (const o of outs) expect(existsSync(join(o, 'episodes.jsonl'))).toBe(false);
  }, 240_000);

  it('parses remote:HOST:PORT, refusing a malformed one', () => {
    expect(parseRemoteTarget('remote:127.0.0.1:8765')).toEqual({ server: '127.0.0.1:8765', url: 'http://127.0.0.1:8765' });
    expect(parseRemoteTarget('remote:[::1]:80')).toEqual({ server: '[::1]:80', url: 'http://[::1]:80' });
    expect(parseRemoteTarget('checkpoints/x')).toBeNull();
    for (const bad of ['remote:127.0.0.1', 'remote:host:99999', 'remote::80']) expect(() => parseRemoteTarget(bad)).toThrow(/expected remote:HOST:PORT with a port in 1\.\.65535/);
  });
});
