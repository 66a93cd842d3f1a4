// A Node-side handle on one headless page running the built app. Everything
// that needs a browser (rendering, in-browser episodes, WebGPU) goes through
// HeadlessSession.call(method, ...args) -> window.vlalab[method](...args).
import type { Browser, Page } from 'playwright-core';
import type { PageApi, PageMethod, PageResult } from '../app/api/index.ts';
import { ensureBuilt, snapshotDist, type DistSnapshot } from './build.ts';
import { startServer, type StaticServer } from './server.ts';
import { launchBrowser } from './browser.ts';

export interface SessionOptions {
  /** Launch Chromium with the SwiftShader WebGPU flags. */
  webgpu?: boolean;
  /** Page under dist/ to open. */
  page?: string;
  /** Extra query parameters for the page URL. */
  query?: Record<string, string>;
  executablePath?: string;
  /** Extra Chromium flags. */
  extraArgs?: string[];
  /** Receives page console errors and uncaught page errors. Default: print to stderr. */
  onError?: (message: string) => void;
  /** Also forward console.log/info/warn lines (debugging). */
  onConsole?: (type: string, text: string) => void;
  /** Run ensureBuilt() first (default true). */
  build?: boolean;
  /** How long to wait for window.vlalab.ready (default 60 s). */
  readyTimeoutMs?: number;
  crossOriginIsolation?: boolean;
  /** Extra directories to serve, e.g. { '/data': '/abs/path/data' } (weights, datasets). */
  mounts?: Record<string, string>;
  /** URL prefixes forwarded to remote policy servers, e.g. { '/remote/1': 'http://127.0.0.1:8765' } (runtime/proxy.ts). */
  proxies?: Record<string, string>;
  /** Forward /remote/<HOST:PORT>/... to any policy server (the demo page's remote driver; runtime/proxy.ts). */
  remoteProxy?: boolean;
}

type VlalabWindow = { vlalab?: Record<string, unknown> & { ready?: boolean } };

/** Chromium/Debian noise that says nothing about our code. */
const NOISE = [/favicon\.ico/, /dbus/i, /GPU stall due to ReadPixels/i,
  // the remote-policy proxy's answer while a server is gone (runtime/proxy.ts): the episode's failure names it
  /Failed to load resource: the server responded with a status of 502/];

const openSessions = new Set<HeadlessSession>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers cannot await; playwright kills its own browser processes
  // on exit, so this only starts the closes and drops the server sockets.
  process.once('exit', () => {
    for (const s of openSessions) {
      s.snapshot.remove();
      void s.close();
    }
  });
}

/** Closes every open session (browser, server, dist/ copy): the CLI's Ctrl-C outside a run loop. */
export async function closeAllSessions(): Promise<void> {
  await Promise.all([...openSessions].map((s) => s.close()));
}

export class HeadlessSession {
  /** Errors reported by the page so far (also passed to onError). */
  readonly errors: string[] = [];
  private closing: Promise<void> | null = null;

  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    readonly server: StaticServer,
    readonly url: string,
    /** Private copy of dist/ that this session serves. */
    readonly snapshot: DistSnapshot,
  ) {}

  static async open(opts: SessionOptions = {}): Promise<HeadlessSession> {
    if (opts.build !== false) await ensureBuilt();
    const snapshot = await snapshotDist();
    let server: StaticServer | undefined;
    let browser: Browser | undefined;
    try {
      server = await startServer(snapshot.dir, { crossOriginIsolation: opts.crossOriginIsolation, mounts: opts.mounts, proxies: opts.proxies, remoteProxy: opts.remoteProxy });
      browser = await launchBrowser({ executablePath: opts.executablePath, webgpu: opts.webgpu, extraArgs: opts.extraArgs });
      const page = await browser.newPage();
      const qs = new URLSearchParams(opts.query ?? {}).toString();
      const url = `${server.url}/${opts.page ?? 'headless.html'}${qs ? `?${qs}` : ''}`;
      const session = new HeadlessSession(browser, page, server, url, snapshot);
      openSessions.add(session);
      installExitHook();

      const report = opts.onError ?? ((m: string) => process.stderr.write(`[page] ${m}\n`));
      page.on('console', (msg) => {
        const text = msg.text();
        opts.onConsole?.(msg.type(), text);
        if (msg.type() === 'error' && !NOISE.some((re) => re.test(text))) {
          session.errors.push(text);
          report(text);
        }
      });
      page.on('pageerror', (err) => {
        const text = `uncaught: ${err.stack ?? err.message}`;
        session.errors.push(text);
        report(text);
      });

      await page.goto(url, { waitUntil: 'load' });
      try {
        await page.waitForFunction(() => (window as unknown as VlalabWindow).vlalab?.ready === true, undefined, {
          timeout: opts.readyTimeoutMs ?? 60_000,
          polling: 50,
        });
      } catch (e) {
        await session.close();
        const why = session.errors.length ? `; page errors:\n${session.errors.join('\n')}` : '';
        throw new Error(`HeadlessSession: ${url} never set window.vlalab.ready (${(e as Error).message})${why}`);
      }
      return session;
    } catch (e) {
      await browser?.close().catch(() => {});
      await server?.close();
      snapshot.remove();
      throw e;
    }
  }

  /**
   * Runs window.vlalab[method](...args) in the page; args and result must be
   * JSON-like. Typed by the page API (src/app/api/index.ts): the arguments are
   * the page function's, the result what it resolves to.
   */
  async call<M extends PageMethod>(method: M, ...args: Parameters<PageApi[M]>): Promise<PageResult<M>> {
    if (this.closing) throw new Error(`HeadlessSession.call(${method}): session is closed`);
    return this.page.evaluate(
      async ({ method, args }) => {
        const api = (window as unknown as VlalabWindow).vlalab;
        const fn = api?.[method];
        if (typeof fn !== 'function') {
          const names = api ? Object.keys(api).filter((k) => typeof api[k] === 'function') : [];
          throw new Error(`window.vlalab.${method} is not a function (available: ${names.join(', ')})`);
        }
        return (await (fn as (...a: unknown[]) => unknown).apply(api, args)) as never;
      },
      { method: method as string, args: args as unknown[] },
    ) as Promise<PageResult<M>>;
  }

  /** Closes page, browser and server. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      openSessions.delete(this);
      await this.browser.close().catch(() => {});
      await this.server.close();
      this.snapshot.remove();
    })();
    return this.closing;
  }
}
