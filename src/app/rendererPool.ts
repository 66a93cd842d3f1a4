// One BabylonRenderer per frame size, shared by every page API that renders
// (renderScene now; episode runners later). A WebGL context is expensive and
// browsers cap how many can live at once, so we reuse instead of recreating.
import { BabylonRenderer, type BabylonRendererExtras } from '../../sim/render/babylonRenderer.ts';
import type { CameraSpec, RenderOptions, SceneDescription } from '../../sim/types.ts';
import type { Appearance } from '../../sim/render/appearance.ts';

interface PoolEntry {
  renderer: BabylonRenderer;
  canvas: HTMLCanvasElement;
  cameraKey: string;
  sceneKey: string;
  appearanceKey: string;
}

const pool = new Map<string, PoolEntry>();

function cameraKey(cameras: CameraSpec[]): string {
  return cameras.map((c) => c.name).join('|');
}

/**
 * Renderer for these options. Camera poses/fov are updated in place; a
 * different set of camera names (or a new size) gets a fresh renderer.
 */
export function rendererFor(opts: RenderOptions, extras: BabylonRendererExtras = {}, appearance: Appearance = {}): BabylonRenderer {
  const sizeKey = `${opts.width}x${opts.height}${extras.shadows ? ':shadows' : ''}`;
  let entry = pool.get(sizeKey);
  if (entry && entry.cameraKey !== cameraKey(opts.cameras)) {
    entry.renderer.dispose();
    entry.canvas.remove();
    pool.delete(sizeKey);
    entry = undefined;
  }
  if (!entry) {
    const canvas = document.createElement('canvas');
    canvas.width = opts.width;
    canvas.height = opts.height;
    canvas.dataset.vlalab = sizeKey; // visible in page screenshots when debugging
    document.body.appendChild(canvas);
    entry = { renderer: new BabylonRenderer(canvas, opts, extras), canvas, cameraKey: cameraKey(opts.cameras), sceneKey: '', appearanceKey: '{}' };
    pool.set(sizeKey, entry);
  } else {
    for (const c of opts.cameras) entry.renderer.setCamera(c);
  }
  // Probes persist in a pooled renderer: every caller states the look it wants ({} = default).
  const aKey = JSON.stringify(appearance);
  if (aKey !== entry.appearanceKey) {
    entry.renderer.setAppearance(appearance);
    entry.appearanceKey = aKey;
    entry.sceneKey = ''; // the table texture applies on the next setScene
  }
  return entry.renderer;
}

/**
 * Calls setScene only when the description actually changed: scenes arrive
 * by value through page.evaluate, so identity cannot be used.
 */
export function ensureScene(renderer: BabylonRenderer, desc: SceneDescription): void {
  const entry = [...pool.values()].find((e) => e.renderer === renderer);
  const key = JSON.stringify(desc);
  if (entry && entry.sceneKey === key) return;
  renderer.setScene(desc);
  if (entry) entry.sceneKey = key;
}

/** Frees every pooled renderer (tests, page teardown). */
export function disposeAll(): void {
  for (const e of pool.values()) {
    e.renderer.dispose();
    e.canvas.remove();
  }
  pool.clear();
}
