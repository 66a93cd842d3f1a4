import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// The browser app: the interactive demo (index.html) and the page that the
// headless runtime drives (headless.html). Both import the same sim/ and tasks/
// code that runs in Node, so training frames and evaluation frames match.
export default defineConfig({
  root: 'src/app',
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: {
        index: resolve(import.meta.dirname, 'src/app/index.html'),
        headless: resolve(import.meta.dirname, 'src/app/headless.html'),
      },
    },
  },
  worker: { format: 'es' },
  server: { fs: { allow: [import.meta.dirname] } },
});
