// The viewer camera of the demo page: drag (mouse or touch) to orbit, wheel
// to zoom, arrow keys when the canvas has focus. It reads poses and never
// writes physics. Drawing is on demand: a frame is rendered only when the
// poses, the camera or the canvas size changed (or shaders are still
// compiling), so an idle page costs nothing on a software rasterizer.
import type { CameraSpec, PoseBuffer, SceneDescription, Vec3 } from '../../../sim/types.ts';
import { OrbitScene } from './orbitScene.ts';

export class OrbitView {
  readonly scene: OrbitScene;
  private readonly orbit = { azimuth: -Math.PI / 2 - 0.55, elevation: 0.5, distance: 1.6 };
  private readonly center: Vec3 = [0, 0.08, 0.16];
  private dirty = true;
  private last: Float32Array | null = null;
  private lastAt = -Infinity;
  /** Poses to show instead of the live ones (replay); null = live. */
  override: PoseBuffer | null = null;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.scene = new OrbitScene(canvas);
    let drag: { x: number; y: number } | null = null;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointerup', () => (drag = null));
    canvas.addEventListener('pointercancel', () => (drag = null));
    canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.turn((e.clientX - drag.x) * 0.01, (e.clientY - drag.y) * 0.01);
      drag = { x: e.clientX, y: e.clientY };
    });
    canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.zoom(Math.exp(e.deltaY * 0.001));
    }, { passive: false });
    canvas.addEventListener('keydown', (e) => {
      const k: Record<string, () => void> = {
        ArrowLeft: () => this.turn(-0.1, 0), ArrowRight: () => this.turn(0.1, 0),
        ArrowUp: () => this.turn(0, -0.08), ArrowDown: () => this.turn(0, 0.08),
        '+': () => this.zoom(0.9), '-': () => this.zoom(1.1),
      };
      if (k[e.key]) {
        e.preventDefault();
        k[e.key]();
      }
    });
    new ResizeObserver(() => {
      this.scene.engine.resize();
      this.dirty = true;
    }).observe(canvas);
  }

  private turn(dAzimuth: number, dElevation: number): void {
    this.orbit.azimuth -= dAzimuth;
    // Clamp short of the pole (the camera's up vector degenerates there) and above the floor.
    this.orbit.elevation = Math.min(1.5, Math.max(0.05, this.orbit.elevation + dElevation));
    this.dirty = true;
  }

  private zoom(factor: number): void {
    this.orbit.distance = Math.min(4, Math.max(0.3, this.orbit.distance * factor));
    this.dirty = true;
  }

  spec(): CameraSpec {
    const { azimuth, elevation, distance } = this.orbit;
    const c = Math.cos(elevation);
    const [cx, cy, cz] = this.center;
    return {
      name: 'viewer', mount: 'fixed', fovDeg: 40, target: this.center,
      position: [cx + distance * c * Math.cos(azimuth), cy + distance * c * Math.sin(azimuth), cz + distance * Math.sin(elevation)],
    };
  }

  setScene(desc: SceneDescription): void {
    this.scene.setScene(desc);
    this.dirty = true;
  }

  /**
   * Called every animation frame with the live poses; draws only when
   * something changed. Pose changes are drawn at most at the control rate
   * (10 Hz): on a software rasterizer a viewer frame costs more than a
   * policy step, and both share the GPU process, so redrawing on every
   * animation frame would slow the episode itself. Camera moves draw at once.
   */
  frame(live: PoseBuffer): void {
    const poses = this.override ?? live;
    if (!this.dirty && this.last && sameValues(this.last, poses)) return;
    if (!this.dirty && performance.now() < this.lastAt + 100) return;
    this.draw(poses);
  }

  /** Draws now (the clip recorder needs a frame per step). */
  draw(poses: PoseBuffer): void {
    const ready = this.scene.render(poses, this.spec());
    this.last = Float32Array.from(poses);
    this.lastAt = performance.now();
    this.dirty = !ready;
  }
}

function sameValues(a: Float32Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
