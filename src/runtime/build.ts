// Keeps dist/ (the Vite build of src/app) in step with the sources, so every
// Node entry point that drives the browser runs the same code as the repo.
// A lock directory serializes builds: parallel test workers or CLI runs would
// otherwise wipe each other's dist/ (Vite empties outDir).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');
export const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.vlalab-build.json');
const LOCK = join(ROOT, 'node_modules', '.vlalab-build.lock');

/** Directories whose files end up in the browser bundle. */
const SOURCE_DIRS = ['sim', 'tasks', 'policies', 'backbones', 'src', 'checkpoints'];
/** Node-only code: never bundled, so editing it must not trigger a rebuild. */
const EXCLUDED_DIRS = ['src/cli', 'src/runtime'];
/** ...except these runtime files, which the page imports too. */
const INCLUDED_FILES = ['src/runtime/b64.ts', 'vite.config.ts', 'package.json'];

export interface EnsureBuiltOptions {
  force?: boolean;
  /** Called with the one status line instead of printing it to stderr. */
  log?: (line: string) => void;
}

function newestMtime(dir: string, excluded: Set<string>): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0; // directory not created yet (other agents' folders)
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    const rel = relative(ROOT, p).split(sep).join('/');
    if (e.isDirectory()) {
      if (!excluded.has(rel) && e.name !== 'node_modules' && !e.name.startsWith('.')) {
        newest = Math.max(newest, newestMtime(p, excluded));
      }
    } else if (e.isFile()) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

/** Newest modification time of anything that goes into the bundle. */
export function newestSourceMtime(): number {
  const excluded = new Set(EXCLUDED_DIRS);
  let newest = 0;
  for (const d of SOURCE_DIRS) newest = Math.max(newest, newestMtime(join(ROOT, d), excluded));
  for (const f of INCLUDED_FILES) {
    const p = join(ROOT, f);
    if (existsSync(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!existsSync(join(DIST, 'headless.html')) || !existsSync(STAMP)) return true;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as { sourcesAsOf?: number };
    return typeof stamp.sourcesAsOf !== 'number' || newestSourceMtime() > stamp.sourcesAsOf;
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** mkdir is atomic: whoever creates the directory holds the lock. */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A build never takes minutes here; an old lock is left over from a killed process.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 3 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      } catch { /* removed meanwhile */ }
      if (Date.now() > deadline) throw new Error(`ensureBuilt: timed out waiting for build lock ${LOCK}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/**
 * Builds dist/ with Vite if it is missing or older than any bundled source.
 * Returns true when it built. Safe to call from several processes at once.
 */
export async function ensureBuilt(opts: EnsureBuiltOptions = {}): Promise<boolean> {
  if (!opts.force && !isStale()) return false;
  return withLock(async () => {
    // Another process may have finished a build while we waited for the lock.
    if (!opts.force && !isStale()) return false;
    // Record the source state as of the START of the build, so edits made
    // while Vite runs still count as newer than the result.
    const sourcesAsOf = Math.max(newestSourceMtime(), 0);
    const started = Date.now();
    const line = `[vlalab] building browser app with vite -> ${relative(process.cwd(), DIST) || DIST}`;
    (opts.log ?? ((l: string) => process.stderr.write(l + '\n')))(line);
    const { build } = await import('vite');
    await build({
      configFile: join(ROOT, 'vite.config.ts'),
      // The config's root is cwd-relative; pin it so builds work from any cwd.
      root: join(ROOT, 'src', 'app'),
      logLevel: 'warn',
    });
    writeFileSync(STAMP, JSON.stringify({ sourcesAsOf, builtAt: Date.now(), buildMs: Date.now() - started }));
    return true;
  });
}

export interface DistSnapshot {
  dir: string;
  /** Deletes the copy (synchronous, so it also works in an 'exit' handler). */
  remove(): void;
}

/**
 * Copies dist/ to a private temp directory, under the build lock. A session
 * serves its copy, so a rebuild by another process (Vite empties dist/)
 * cannot pull lazily loaded chunks (shaders, wasm) from under a running page.
 */
export async function snapshotDist(): Promise<DistSnapshot> {
  return withLock(async () => {
    if (!existsSync(join(DIST, 'headless.html'))) throw new Error(`snapshotDist: ${DIST} is not built`);
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-dist-'));
    cpSync(DIST, dir, { recursive: true });
    return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
  });
}
