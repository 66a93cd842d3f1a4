// A same-origin path to a remote policy server for the headless pages: the
// static server forwards /remote/<i>/... to the server's origin, so an eval
// needs no CORS from the policy server, and a failure the browser would only
// call "Failed to fetch" (refused, reset, closed mid-reply) comes back as a
// 502 naming the socket error (header x-vlalab-proxy-error). One connection
// per request (no keep-alive pool): a restarted server never meets a stale socket.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';

/** Largest request body forwarded: an observation of two 96 px cameras is ~75 KB of JSON. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export function describeSocketError(e: NodeJS.ErrnoException): string {
  if (e.code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  if (e.code === 'ECONNRESET' || e.message === 'socket hang up') return 'the server closed the connection without a reply (socket hang up: did it die?)';
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return `host unreachable (${e.code})`;
  if (e.code === 'ENOTFOUND') return `unknown host (${e.code})`;
  return `${e.code ?? 'error'}: ${e.message}`;
}

function fail(res: ServerResponse, why: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ proxy_error: why });
  res.writeHead(502, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'x-vlalab-proxy-error': '1' });
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
    const h: Record<string, string> = { 'Cache-Control': 'no-store', 'Content-Type': String(ur.headers['content-type'] ?? 'application/octet-stream') };
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
