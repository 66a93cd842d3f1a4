// A same-origin path to a remote policy server for the headless pages: the
// static server forwards /remote/<i>/... to the server's origin, so an eval
// needs no CORS from the policy server, and a failure the browser would only
// call "Failed to fetch" (refused, reset, closed mid-reply) comes back as a
// 502 naming the socket error (header x-vlalab-proxy-error). One connection
// per request (no keep-alive pool): a restarted server never meets a stale socket.
// Every reply that passed through here carries x-vlalab-proxy, so a page can
// tell "the policy server said" from "the page's own server has no proxy".
// The demo page's remote driver names its server by address instead
// (/remote/<HOST:PORT>/..., forwardByAddress): the npm start / vite preview
// servers (vite.config.ts) and startServer({ remoteProxy }) offer it.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseRemoteAddress } from '../worker/remoteSpec.ts';

/** Largest request body forwarded: an observation of two 96 px cameras is ~75 KB of JSON. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export function describeSocketError(e: NodeJS.ErrnoException): string {
  if (e.code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  if (e.code === 'ECONNRESET' || e.message === 'socket hang up') return 'the server closed the connection without a reply (socket hang up: did it die?)';
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return `host unreachable (${e.code})`;
  if (e.code === 'ENOTFOUND') return `unknown host (${e.code})`;
  return `${e.code ?? 'error'}: ${e.message}`;
}

/** The proxy's own answer (502: the server could not be reached; 4xx: refused here), named in the body. */
function fail(res: ServerResponse, why: string, status = 502): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ proxy_error: why });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'x-vlalab-proxy': '1', 'x-vlalab-proxy-error': '1' });
  res.end(body);
}

/** Forwards `req` (path already stripped of its prefix) to `target` (an http origin) and streams the reply back. */
export function forward(req: IncomingMessage, res: ServerResponse, target: string, path: string): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_REQUEST_BYTES) {
    res.writeHead(413, { 'Content-Type': 'text/plain' });
    res.end('request too large');
    return;
  }
  const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? 'application/json') };
  if (req.headers['content-length']) headers['content-length'] = String(req.headers['content-length']);
  const up = request(new URL(path || '/', target), { method: req.method, headers, agent: false }, (ur) => {
    const h: Record<string, string> = { 'Cache-Control': 'no-store', 'Content-Type': String(ur.headers['content-type'] ?? 'application/octet-stream'), 'x-vlalab-proxy': '1' };
    if (ur.headers['content-length']) h['Content-Length'] = String(ur.headers['content-length']);
    res.writeHead(ur.statusCode ?? 502, h);
    ur.on('error', () => res.destroy());
    ur.on('aborted', () => res.destroy()); // the server died mid-reply: the page sees a broken body, never a short one
    ur.pipe(res);
  });
  up.on('error', (e) => fail(res, describeSocketError(e)));
  // The page gave up (its timeout): stop waiting on the server too.
  res.on('close', () => { if (!res.writableFinished) up.destroy(); });
  req.pipe(up);
}

/** Path prefix of the proxy by address: /remote/<HOST:PORT>/<endpoint> (the address URI-encoded by the page, decoded in `path`). */
export const ADDRESS_PROXY_PREFIX = '/remote/';

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

export interface AddressProxyOptions {
  /**
   * Whether the request's Host header names this server; default: loopback
   * names only (startServer binds 127.0.0.1), which keeps a DNS-rebound page
   * out. Vite checks Host itself (server.allowedHosts).
   */
  allowHost?: (host: string) => boolean;
}

/**
 * Forwards POST /remote/<HOST:PORT>/<path> to http://HOST:PORT/<path> and
 * returns true; false when `path` (decoded) is not under the prefix. Only
 * same-origin POSTs are forwarded: any site's page could otherwise use a
 * running vlalab as a relay into this machine or its network.
 */
export function forwardByAddress(req: IncomingMessage, res: ServerResponse, path: string, o: AddressProxyOptions = {}): boolean {
  if (!path.startsWith(ADDRESS_PROXY_PREFIX)) return false;
  const m = /^\/remote\/([^/]*)(\/.*)?$/.exec(path)!;
  const addr = parseRemoteAddress(m[1]);
  if (!addr) {
    fail(res, `"${m[1]}" is not a policy server address: expected /remote/HOST:PORT/<endpoint> with a port in 1..65535`, 400);
    return true;
  }
  if (req.method !== 'POST') {
    fail(res, `the remote-policy proxy forwards POST only (the protocol's requests), not ${req.method}`, 405);
    return true;
  }
  const host = String(req.headers.host ?? '');
  if (!(o.allowHost ?? ((h: string) => LOOPBACK_HOST.test(h)))(host)) {
    fail(res, `Host "${host}" is not this server's name: the remote-policy proxy answers pages opened from this machine`, 403);
    return true;
  }
  const origin = req.headers.origin;
  if (origin !== `http://${host}` && origin !== `https://${host}`) {
    fail(res, `only this page's own origin may use the remote-policy proxy (Origin: ${origin ?? 'none'}, Host: ${host})`, 403);
    return true;
  }
  forward(req, res, addr.origin, m[2] ?? '/');
  return true;
}
