// The proxy by address that the demo page's remote driver goes through
// (/remote/<HOST:PORT>/..., src/runtime/proxy.ts): in startServer (headless
// sessions) and in the Vite dev and preview servers (npm start, vite
// preview). It forwards same-origin POSTs to the Python reference server,
// marks what it forwarded, and refuses other origins, other hosts, other
// methods and what is not an address, naming why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StaticServer } from '../../src/runtime/server.ts';
import { RemoteClient } from '../../src/worker/remoteClient.ts';
import { clientDeclaration } from '../../src/worker/remoteSpec.ts';
import { closedPort, REFERENCE, startPyServer, stopAllPyServers, type PyServer } from '../eval/remoteServers.ts';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** POST with the headers a page would send (Node's fetch cannot set Origin or Host). */
function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST'): Promise<Reply> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : data);
  });
}

const DECL = clientDeclaration({ cameras: ['scene', 'wrist'], resolution: 96, version: '0.1.0' });
const at = (s: PyServer) => `/remote/${encodeURIComponent(s.server)}`;

let py: PyServer;
let site: StaticServer;
let plain: StaticServer;
let dir: string;

beforeAll(async () => {
  py = await startPyServer(REFERENCE);
  dir = mkdtempSync(join(tmpdir(), 'vlalab-proxy-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  site = await startServer(dir, { remoteProxy: true });
  plain = await startServer(dir);
});
afterAll(async () => {
  await site?.close();
  await plain?.close();
  await stopAllPyServers();
  rmSync(dir, { recursive: true, force: true });
});

/** The checks every server offering the proxy must pass, against `base` (its origin). */
async function expectProxy(base: string): Promise<void> {
  const same = { origin: base };
  const ok = await post(base, `${at(py)}/handshake`, DECL, same);
  expect(ok.status, ok.body).toBe(200);
  expect(ok.headers['x-vlalab-proxy']).toBe('1');
  expect(JSON.parse(ok.body).policy).toMatchObject({ name: 'scripted-py', version: '1.0' });

  const named = async (r: Promise<Reply>, status: number, why: RegExp) => {
    const got = await r;
    expect(got.status, got.body).toBe(status);
    expect(got.headers['x-vlalab-proxy-error']).toBe('1');
    expect(JSON.parse(got.body).proxy_error).toMatch(why);
  };
  await named(post(base, `${at(py)}/handshake`, DECL, { origin: 'http://evil.example' }), 403, /only this page's own origin .*Origin: http:\/\/evil\.example/);
  await named(post(base, `${at(py)}/handshake`, DECL), 403, /Origin: none/);
  await named(post(base, `${at(py)}/handshake`, DECL, same, 'GET'), 405, /POST only .*not GET/);
  await named(post(base, '/remote/not%20an%20address/handshake', DECL, same), 400, /"not an address" is not a policy server address/);
  await named(post(base, '/remote/127.0.0.1:99999/handshake', DECL, same), 400, /"127\.0\.0\.1:99999" is not a policy server address/);
  const closed = await closedPort();
  await named(post(base, `/remote/127.0.0.1:${closed}/handshake`, DECL, same), 502, /connection refused \(nothing listens there\)/);
}

describe('remote-policy proxy by address', () => {
  it('startServer({ remoteProxy }) forwards same-origin POSTs and refuses the rest, naming why', async () => {
    await expectProxy(site.url);
    // a page served under another name (DNS rebinding) is not this machine's page
    const port = new URL(site.url).port;
    const r = await post(site.url, `${at(py)}/handshake`, DECL, { host: `rebound.example:${port}`, origin: `http://rebound.example:${port}` });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).proxy_error).toMatch(/Host "rebound\.example:\d+" is not this server's name/);
    // without the option the static server takes the POST for itself: method not allowed, no proxy mark
    const none = await post(plain.url, `${at(py)}/handshake`, DECL, { origin: plain.url });
    expect([none.status, none.headers['x-vlalab-proxy']]).toEqual([405, undefined]);
  });

  it('RemoteClient through a page server without the proxy names that, not the policy server', async () => {
    const c = new RemoteClient({ url: `${plain.url}${at(py)}`, proxied: true, display: py.server, cameras: ['scene', 'wrist'], resolution: 96, version: '0.1.0' });
    await expect(c.start()).rejects.toThrow(`unreachable: cannot reach ${py.server} at the handshake: this page's own server does not forward to policy servers (it answered HTTP 405 without vlalab's proxy): open the page with npm start or vite preview`);
    // Node's fetch sends no Origin: the proxy refuses it, and the client shows the proxy's reason
    const n = new RemoteClient({ url: `${site.url}${at(py)}`, proxied: true, display: py.server, cameras: ['scene', 'wrist'], resolution: 96, version: '0.1.0' });
    await expect(n.start()).rejects.toThrow(/^unreachable: cannot reach 127\.0\.0\.1:\d+ at the handshake: only this page's own origin may use the remote-policy proxy \(Origin: none/);
  });

  it('the Vite dev server (npm start) and vite preview offer the same proxy', async () => {
    const { createServer, preview } = await import('vite');
    const dev = await createServer({
      configFile: 'vite.config.ts', logLevel: 'silent', optimizeDeps: { noDiscovery: true, include: [] },
      server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    });
    try {
      await dev.listen();
      await expectProxy(dev.resolvedUrls!.local[0].replace(/\/$/, ''));
    } finally {
      await dev.close();
    }
    const prev = await preview({ configFile: 'vite.config.ts', logLevel: 'silent', build: { outDir: dir }, preview: { host: '127.0.0.1', port: 0 } });
    try {
      await expectProxy(prev.resolvedUrls!.local[0].replace(/\/$/, ''));
    } finally {
      await prev.close();
    }
  }, 120_000);
});
