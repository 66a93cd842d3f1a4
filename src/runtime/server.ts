// Minimal static file server for dist/. Pages must be served over http (not
// file://) so that module scripts, workers and .wasm fetches work. Binds to
// 127.0.0.1 on an ephemeral port: nothing is exposed beyond this machine and
// parallel sessions never collide.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { forward, forwardByAddress } from './proxy.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm', // required for WebAssembly.instantiateStreaming
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
};

export interface StaticServer {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

export interface ServerOptions {
  /**
   * Send COOP/COEP so the page is crossOriginIsolated (SharedArrayBuffer,
   * finer timers). Off by default: threaded tfjs-wasm hangs in a minified
   * build when isolation is on (see shared notes).
   */
  crossOriginIsolation?: boolean;
  /** Extra directories served under a URL prefix, e.g. { '/data': '/abs/data' }. */
  mounts?: Record<string, string>;
  /** URL prefixes forwarded to another origin (proxy.ts), e.g. { '/remote/1': 'http://127.0.0.1:8765' }: remote policy servers. */
  proxies?: Record<string, string>;
  /** Also forward /remote/<HOST:PORT>/... to any policy server by its address (proxy.ts forwardByAddress): the demo page's remote driver. */
  remoteProxy?: boolean;
}

function send(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

/** Maps a URL path to a file inside `base`, or null if it would escape it. */
function safeJoin(base: string, urlPath: string): string | null {
  const p = normalize(join(base, urlPath));
  return p === base || p.startsWith(base + sep) ? p : null;
}

export async function startServer(dir: string, opts: ServerOptions = {}): Promise<StaticServer> {
  const roots: [string, string][] = Object.entries(opts.mounts ?? {}).map(([prefix, d]) => [prefix.replace(/\/$/, ''), resolve(d)]);
  roots.sort((a, b) => b[0].length - a[0].length); // longest prefix first
  roots.push(['', resolve(dir)]);

  const proxies = Object.entries(opts.proxies ?? {}).map(([prefix, target]) => [prefix.replace(/\/$/, ''), target] as const);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(res, 400, 'bad url');
    }
    const proxy = proxies.find(([pre]) => path.startsWith(pre + '/'));
    if (proxy) return forward(req, res, proxy[1], path.slice(proxy[0].length));
    if (opts.remoteProxy && forwardByAddress(req, res, path)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    const [prefix, base] = roots.find(([pre]) => pre === '' || path === pre || path.startsWith(pre + '/'))!;
    let file = safeJoin(base, path.slice(prefix.length) || '/');
    if (!file) return send(res, 403, 'forbidden');
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      return send(res, 404, `not found: ${path}`);
    }
    const headers: Record<string, string | number> = {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      // dist/ is rebuilt in place: never let the browser reuse a stale file.
      'Cache-Control': 'no-store',
    };
    if (opts.crossOriginIsolation) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const server = createServer(handler);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      // Idempotent; closeAllConnections drops keep-alive sockets that would
      // otherwise hold close() open for seconds.
      closed ??= new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
