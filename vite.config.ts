import { defineConfig, type Plugin } from 'vite';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

// The browser app: the interactive demo (index.html) and the page that the
// headless runtime drives (headless.html). Both import the same sim/ and tasks/
// code that runs in Node, so training frames and evaluation frames match.
export default defineConfig({
  root: 'src/app',
  publicDir: false,
  plugins: [checkpoints()],
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
