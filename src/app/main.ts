// Placeholder demo page: the hand-built sample scene rendered by the same
// BabylonRenderer the headless runtime uses, with a mouse-orbit view camera
// and a second canvas showing the wrist camera. The lead extends this later
// (live episodes, policy overlays).
import { BabylonRenderer } from '../../sim/render/babylonRenderer.ts';
import { sampleScene } from '../../sim/render/sampleScene.ts';
import type { CameraSpec, Vec3 } from '../../sim/types.ts';
import pkg from '../../package.json';

const sample = sampleScene();
const viewCanvas = document.getElementById('view') as HTMLCanvasElement;
const wristCanvas = document.getElementById('wrist') as HTMLCanvasElement;

// Orbit state: spherical coordinates around the table centre (z up).
const orbit = { azimuth: -Math.PI / 2, elevation: 0.75, distance: 0.85 };
const center: Vec3 = [0, 0, 0.03];

function viewSpec(): CameraSpec {
  const { azimuth, elevation, distance } = orbit;
  const c = Math.cos(elevation);
  return {
    name: 'view',
    mount: 'fixed',
    position: [
      center[0] + distance * c * Math.cos(azimuth),
      center[1] + distance * c * Math.sin(azimuth),
      center[2] + distance * Math.sin(elevation),
    ],
    target: center,
    fovDeg: 45,
  };
}

const view = new BabylonRenderer(viewCanvas, { width: 512, height: 512, cameras: [viewSpec()] });
view.setScene(sample.desc);
const wristSpec = sample.cameras.find((c) => c.mount === 'wrist');
const wrist = wristSpec ? new BabylonRenderer(wristCanvas, { width: 256, height: 256, cameras: [wristSpec] }) : null;
wrist?.setScene(sample.desc);

let drag: { x: number; y: number } | null = null;
viewCanvas.addEventListener('pointerdown', (e) => {
  drag = { x: e.clientX, y: e.clientY };
  viewCanvas.setPointerCapture(e.pointerId);
});
viewCanvas.addEventListener('pointerup', () => (drag = null));
viewCanvas.addEventListener('pointermove', (e) => {
  if (!drag) return;
  orbit.azimuth -= (e.clientX - drag.x) * 0.01;
  // Clamp short of the pole: the camera's up vector degenerates there.
  orbit.elevation = Math.min(1.5, Math.max(0.05, orbit.elevation + (e.clientY - drag.y) * 0.01));
  drag = { x: e.clientX, y: e.clientY };
});
viewCanvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    orbit.distance = Math.min(3, Math.max(0.25, orbit.distance * Math.exp(e.deltaY * 0.001)));
  },
  { passive: false },
);

// Same readiness flag as headless.html, so HeadlessSession can open this page
// too (screenshots, smoke tests). Set after the first frame is on screen.
const page = { ready: false, page: 'demo', version: pkg.version as string };
(window as unknown as { vlalab: typeof page }).vlalab = page;

const t0 = performance.now();
async function frame(): Promise<void> {
  const poses = sample.poses((performance.now() - t0) / 1000);
  view.setCamera(viewSpec());
  await view.draw(poses);
  await wrist?.draw(poses);
  page.ready = true;
  requestAnimationFrame(() => void frame());
}
frame().catch((e: unknown) => console.error('demo render failed:', e));
