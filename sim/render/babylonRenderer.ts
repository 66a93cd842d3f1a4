// Babylon.js (WebGL2) implementation of FrameRenderer. It only READS the
// SceneDescription and PoseBuffers: nothing here can touch physics state.
// All imports are deep module paths; the @babylonjs/core barrel would pull in
// the whole library (~27 MB bundle).
import { Engine } from '@babylonjs/core/Engines/engine';
import { Scene } from '@babylonjs/core/scene';
import { TargetCamera } from '@babylonjs/core/Cameras/targetCamera';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight';
import { DirectionalLight } from '@babylonjs/core/Lights/directionalLight';
import { Color3, Color4 } from '@babylonjs/core/Maths/math.color';
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector';
import { Viewport } from '@babylonjs/core/Maths/math.viewport';
import type { TransformNode } from '@babylonjs/core/Meshes/transformNode';
import type { ShadowGenerator } from '@babylonjs/core/Lights/Shadows/shadowGenerator';
import type { AbstractMesh } from '@babylonjs/core/Meshes/abstractMesh';
import type { CameraSpec, Frame, FrameRenderer, PoseBuffer, Quat, RenderOptions, RGB, SceneDescription, Vec3 } from '../types.ts';
import { cameraWorldPose, lookRotation } from './cameraMath.ts';
import { buildBody, MaterialCache } from './meshes.ts';
import { type Appearance, checkAppearance, tableMaterial } from './appearance.ts';
import type { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial';
import { rgbaToRgbTopDown } from './readback.ts';

export interface BabylonRendererExtras {
  /** Background color (linear RGB in [0, 1]). */
  clearColor?: RGB;
  /** Give up waiting for shader compilation after this long (ms). */
  readyTimeoutMs?: number;
  /**
   * Hard shadows from the key light (one extra shadow-map pass per frame).
   * Off by default: it costs throughput on SwiftShader (see benchRender).
   */
  shadows?: boolean | { mapSize?: number };
}

const DEFAULT_CLEAR: RGB = [0.62, 0.68, 0.75];

/** Where the time of the last render() went (ms); for benchmarks. */
export interface RenderTimings {
  /** Pose upload + camera placement + scene.render() (JS side; GPU work is queued). */
  drawMs: number;
  /** readPixels: waits for the GPU process to finish and copies the pixels back. */
  readMs: number;
  /** Row flip + RGBA->RGB split per camera. */
  convertMs: number;
}

interface CameraEntry {
  spec: CameraSpec;
  camera: TargetCamera;
}

/**
 * All cameras render side by side into ONE canvas of (width x cameras) by
 * height, each into its own viewport, in a single scene.render(); one
 * readPixels then fetches every camera. Each readPixels is a synchronous
 * round trip to the GPU process, so this is ~2x faster than a render +
 * readback per camera.
 */
export class BabylonRenderer implements FrameRenderer {
  readonly width: number;
  readonly height: number;
  private readonly engine: Engine;
  private readonly scene: Scene;
  private readonly materials: MaterialCache;
  private readonly cameras: CameraEntry[] = [];
  private nodes: TransformNode[] = [];
  private palmIndex = -1;
  private sceneReady = false;
  private disposed = false;
  /** Reused RGBA readback buffer of the whole strip: reallocated only when cameras are added. */
  private rgba: Uint8Array;
  private readonly readyTimeoutMs: number;
  private readonly shadowOpt: BabylonRendererExtras['shadows'];
  private readonly sun: DirectionalLight;
  private readonly hemi: HemisphericLight;
  private appearance: Appearance = {};
  /** Table-top material of the current appearance (null = the default table) and the appearance it was built for. */
  private tableMat: { key: string; mat: StandardMaterial | null } = { key: '{}', mat: null };
  private shadowGen: ShadowGenerator | null = null;
  /** Timings of the most recent render(). */
  lastTimings: RenderTimings = { drawMs: 0, readMs: 0, convertMs: 0 };

  constructor(canvas: HTMLCanvasElement | OffscreenCanvas, opts: RenderOptions, extras: BabylonRendererExtras = {}) {
    this.width = opts.width;
    this.height = opts.height;
    this.readyTimeoutMs = extras.readyTimeoutMs ?? 20_000;
    this.shadowOpt = extras.shadows;
    this.rgba = new Uint8Array(0);
    // antialias off: MSAA resolve is the usual source of run-to-run pixel
    // differences. preserveDrawingBuffer keeps the canvas readable after render.
    this.engine = new Engine(
      canvas,
      false,
      {
        preserveDrawingBuffer: true,
        antialias: false,
        stencil: false,
        alpha: false,
        premultipliedAlpha: false,
        audioEngine: false,
        doNotHandleTouchAction: true,
        failIfMajorPerformanceCaveat: false, // SwiftShader counts as a "major caveat"
      },
      false, // no device-ratio scaling: frames must be exactly width x height
    );

    const scene = new Scene(this.engine);
    this.scene = scene;
    scene.useRightHandedSystem = true;
    const c = extras.clearColor ?? DEFAULT_CLEAR;
    scene.clearColor = new Color4(c[0], c[1], c[2], 1);
    scene.ambientColor = new Color3(0.22, 0.22, 0.22);
    scene.skipPointerMovePicking = true;
    scene.skipFrustumClipping = true;

    // Sky/ground fill light (direction = "sky" side, +z) plus a key light from
    // above and slightly to the side so faces of a cube shade differently.
    const hemi = new HemisphericLight('hemi', new Vector3(0, 0, 1), scene);
    hemi.intensity = 0.55;
    hemi.groundColor = new Color3(0.3, 0.3, 0.32);
    hemi.specular = new Color3(0, 0, 0);
    const sun = new DirectionalLight('sun', new Vector3(0.35, 0.55, -1), scene);
    sun.intensity = 0.65;
    sun.specular = new Color3(0, 0, 0);
    sun.position = new Vector3(-0.35, -0.55, 1); // shadow-map origin: above the table, against the light
    this.sun = sun;
    this.hemi = hemi;

    this.materials = new MaterialCache(scene);
    for (const spec of opts.cameras) this.setCamera(spec);
  }

  /** Adds a camera, or replaces the spec of the camera with the same name (e.g. for orbiting or randomization). */
  setCamera(spec: CameraSpec): void {
    let entry = this.cameras.find((e) => e.spec.name === spec.name);
    if (!entry) {
      const camera = new TargetCamera(spec.name, new Vector3(0, 0, 1), this.scene, false);
      // z-up world. Babylon's setTarget assumes y-up, so we never call it: the
      // pose comes from lookRotation() as a quaternion, and
      // updateUpVectorFromRotation derives upVector from it each frame.
      camera.upVector = new Vector3(0, 0, 1);
      camera.rotationQuaternion = new Quaternion(0, 0, 0, 1);
      camera.updateUpVectorFromRotation = true;
      // Babylon's default near plane is 1 unit = 1 m here: far too far for a tabletop.
      camera.minZ = 0.005;
      camera.maxZ = 20;
      entry = { spec, camera };
      this.cameras.push(entry);
      this.layout();
    }
    entry.spec = { ...spec, position: [...spec.position], target: [...spec.target] };
    entry.camera.fov = (spec.fovDeg * Math.PI) / 180;
  }

  /** Sizes the canvas to the camera strip and gives camera i the i-th column. */
  private layout(): void {
    const n = this.cameras.length;
    this.engine.setSize(this.width * n, this.height);
    this.rgba = new Uint8Array(this.width * n * this.height * 4);
    this.cameras.forEach((e, i) => (e.camera.viewport = new Viewport(i / n, 0, 1 / n, 1)));
    this.scene.activeCameras = this.cameras.map((e) => e.camera);
    this.scene.activeCamera = this.cameras[0].camera;
  }

  get cameraNames(): string[] {
    return this.cameras.map((e) => e.spec.name);
  }

  setScene(desc: SceneDescription): void {
    this.assertAlive();
    for (const n of this.nodes) n.dispose(false, false);
    this.nodes = desc.bodies.map((b, i) => buildBody(b, i, this.scene, this.materials));
    this.palmIndex = desc.bodies.findIndex((b) => b.role === 'palm');
    const a = this.appearance;
    const key = JSON.stringify([a.tableTexture, a.checkerStrength, a.tableColor, a.tablePattern]);
    if (key !== this.tableMat.key) {
      this.tableMat.mat?.diffuseTexture?.dispose();
      this.tableMat.mat?.dispose();
      this.tableMat = { key, mat: tableMaterial(this.scene, a) };
    }
    const mat = this.tableMat.mat;
    if (mat) desc.bodies.forEach((b, i) => { if (b.role === 'table') for (const m of this.nodes[i].getChildMeshes()) m.material = mat; });
    this.sceneReady = false;
  }

  /**
   * Rendering-only probes (sim/render/appearance.ts); {} restores the
   * defaults. Lights change at once; the table texture applies from the next
   * setScene (every episode reset calls it).
   */
  setAppearance(a: Appearance): void {
    this.assertAlive();
    this.appearance = checkAppearance(a);
    const k = a.lightScale ?? 1;
    const t = a.lightTint ?? [1, 1, 1];
    this.hemi.intensity = 0.55 * k;
    this.sun.intensity = 0.65 * k;
    this.hemi.diffuse = new Color3(t[0], t[1], t[2]);
    this.sun.diffuse = new Color3(t[0], t[1], t[2]);
  }

  async render(poses: PoseBuffer): Promise<Record<string, Frame>> {
    const t0 = performance.now();
    await this.draw(poses);
    const t1 = performance.now();
    const { width, height } = this;
    const srcWidth = width * this.cameras.length;
    // flushRenderer=false: gl.readPixels already waits for the draws to finish.
    await this.engine.readPixels(0, 0, srcWidth, height, true, false, this.rgba);
    const t2 = performance.now();
    const frames: Record<string, Frame> = {};
    this.cameras.forEach((e, i) => {
      const data = rgbaToRgbTopDown(this.rgba, width, height, true, undefined, { srcWidth, x0: i * width });
      frames[e.spec.name] = { width, height, data };
    });
    this.lastTimings = { drawMs: t1 - t0, readMs: t2 - t1, convertMs: performance.now() - t2 };
    return frames;
  }

  /** Renders every camera into its column of the canvas without reading back (interactive display). */
  async draw(poses: PoseBuffer): Promise<void> {
    await this.prepare(poses);
    if (this.cameras.length === 0) throw new Error('BabylonRenderer: no cameras');
    for (const e of this.cameras) this.placeCamera(e, poses);
    this.scene.render(true, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.materials.dispose();
    this.scene.dispose();
    this.engine.dispose();
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('BabylonRenderer: used after dispose()');
  }

  private async prepare(poses: PoseBuffer): Promise<void> {
    this.assertAlive();
    const n = this.nodes.length;
    if (poses.length < n * 7) {
      throw new Error(`BabylonRenderer: pose buffer has ${poses.length} floats, scene has ${n} bodies (need ${n * 7})`);
    }
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i];
      const o = i * 7;
      node.position.set(poses[o], poses[o + 1], poses[o + 2]);
      // Rapier and Babylon both store quaternions as (x, y, z, w).
      node.rotationQuaternion!.set(poses[o + 3], poses[o + 4], poses[o + 5], poses[o + 6]);
    }
    if (!this.sceneReady) {
      if (this.shadowOpt) await this.setupShadows();
      await this.waitReady();
    }
  }

  /**
   * Loaded lazily so the shadow code (and its shaders) is only fetched when
   * asked for. Every mesh casts; the table and objects receive.
   */
  private async setupShadows(): Promise<void> {
    if (!this.shadowGen) {
      const [{ ShadowGenerator }] = await Promise.all([
        import('@babylonjs/core/Lights/Shadows/shadowGenerator'),
        import('@babylonjs/core/Lights/Shadows/shadowGeneratorSceneComponent'),
      ]);
      const size = typeof this.shadowOpt === 'object' ? (this.shadowOpt.mapSize ?? 512) : 512;
      const gen = new ShadowGenerator(size, this.sun);
      gen.bias = 0.002;
      gen.darkness = 0.35;
      this.shadowGen = gen;
    }
    const gen = this.shadowGen;
    const map = gen.getShadowMap();
    if (map) map.renderList = [];
    for (const node of this.nodes) {
      for (const m of node.getChildMeshes(false) as AbstractMesh[]) {
        gen.addShadowCaster(m, false);
        m.receiveShadows = true;
      }
    }
  }

  /**
   * Polls readiness every few ms instead of scene.whenReadyAsync(), which
   * re-checks only every 100 ms and would add that to every new episode.
   */
  private async waitReady(): Promise<void> {
    const start = performance.now();
    while (!this.scene.isReady()) {
      if (performance.now() - start > this.readyTimeoutMs) {
        throw new Error(`BabylonRenderer: scene not ready after ${this.readyTimeoutMs} ms (shader compilation?)`);
      }
      await new Promise((r) => setTimeout(r, 4));
    }
    this.sceneReady = true;
  }

  private placeCamera(entry: CameraEntry, poses: PoseBuffer): void {
    const { spec, camera } = entry;
    let palmPos: Vec3 | undefined;
    let palmQuat: Quat | undefined;
    if (spec.mount === 'wrist' && this.palmIndex >= 0) {
      const o = this.palmIndex * 7;
      palmPos = [poses[o], poses[o + 1], poses[o + 2]];
      palmQuat = [poses[o + 3], poses[o + 4], poses[o + 5], poses[o + 6]];
    }
    const pose = cameraWorldPose(spec, palmPos, palmQuat);
    const q = lookRotation(pose);
    camera.position.set(pose.eye[0], pose.eye[1], pose.eye[2]);
    camera.rotationQuaternion!.set(q[0], q[1], q[2], q[3]);
  }
}
