// Mouse-orbit view camera for the demo page: drag to orbit, wheel to zoom.
// Renders the scene with its own BabylonRenderer; reads poses, never writes physics.
import { BabylonRenderer } from '../../sim/render/babylonRenderer.ts';
import type { CameraSpec, PoseBuffer, SceneDescription, Vec3 } from '../../sim/types.ts';

export class OrbitView {
  private readonly orbit = { azimuth: -Math.PI / 2, elevation: 0.75, distance: 0.85 };
  private readonly center: Vec3 = [0, 0, 0.03];
  private readonly renderer: BabylonRenderer;

  constructor(private readonly canvas: HTMLCanvasElement, size = 512) {
    this.renderer = new BabylonRenderer(canvas, { width: size, height: size, cameras: [this.spec()] });
    let drag: { x: number; y: number } | null = null;
    canvas.addEventListener('pointerdown', (e) => {
      drag = { x: e.clientX, y: e.clientY };
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener('pointerup', () => (drag = null));
    canvas.addEventListener('pointermove', (e) => {
      if (!drag) return;
      this.orbit.azimuth -= (e.clientX - drag.x) * 0.01;
      // Clamp short of the pole: the camera's up vector degenerates there.
      this.orbit.elevation = Math.min(1.5, Math.max(0.05, this.orbit.elevation + (e.clientY - drag.y) * 0.01));
      drag = { x: e.clientX, y: e.clientY };
    });
    canvas.addEventListener('wheel', (e) => {
      e.preventDefault();
      this.orbit.distance = Math.min(3, Math.max(0.25, this.orbit.distance * Math.exp(e.deltaY * 0.001)));
    }, { passive: false });
  }

  private spec(): CameraSpec {
    const { azimuth, elevation, distance } = this.orbit;
    const c = Math.cos(elevation);
    const [cx, cy, cz] = this.center;
    return {
      name: 'view', mount: 'fixed', fovDeg: 45, target: this.center,
      position: [cx + distance * c * Math.cos(azimuth), cy + distance * c * Math.sin(azimuth), cz + distance * Math.sin(elevation)],
    };
  }

  setScene(desc: SceneDescription): void {
    this.renderer.setScene(desc);
  }

  async draw(poses: PoseBuffer): Promise<void> {
    this.renderer.setCamera(this.spec());
    await this.renderer.draw(poses);
  }
}
