// The viewer camera's own Babylon engine and scene: anti-aliased (MSAA),
// tone-mapped, soft shadows (percentage-closer filtering) from a key light,
// the look of looks.ts and the IK arm of arm.ts. It is a separate engine on a
// separate canvas from the policy renderer, so nothing added here can appear
// in the frames the policy sees (tests/app/demo.browser.test.ts compares
// those with frames captured before this view existed).
import { Engine } from '@babylonjs/core/Engines/engine';
import { Scene } from '@babylonjs/core/scene';
import { TargetCamera } from '@babylonjs/core/Cameras/targetCamera';
import { HemisphericLight } from '@babylonjs/core/Lights/hemisphericLight';
import { DirectionalLight } from '@babylonjs/core/Lights/directionalLight';
import { ShadowGenerator } from '@babylonjs/core/Lights/Shadows/shadowGenerator';
import '@babylonjs/core/Lights/Shadows/shadowGeneratorSceneComponent';
import { ImageProcessingConfiguration } from '@babylonjs/core/Materials/imageProcessingConfiguration';
import { Color3, Color4 } from '@babylonjs/core/Maths/math.color';
import { Quaternion, Vector3 } from '@babylonjs/core/Maths/math.vector';
import { TransformNode } from '@babylonjs/core/Meshes/transformNode';
import type { Mesh } from '@babylonjs/core/Meshes/mesh';
import { DEFAULT_CAMERAS } from '../../../sim/config.ts';
import { shapeMeshes } from '../../../sim/render/meshes.ts';
import { cameraWorldPose, lookRotation } from '../../../sim/render/cameraMath.ts';
import type { CameraSpec, PoseBuffer, SceneDescription, Vec3 } from '../../../sim/types.ts';
import { quatYaw, solveArm } from './ik.ts';
import { ArmModel, buildStage, cameraModel, LookMaterials } from './looks.ts';

const SHADOW_MAP = 1024;

export interface OrbitInfo {
  antialias: boolean;
  msaaSamples: number;
  shadows: { filter: 'pcf'; mapSize: number; casters: number };
  renders: number;
  /** Centre of the arm's flange disc as drawn (1 cm above the palm top when the arm reaches), and the six joint angles. */
  arm: { flangeDisc: Vec3; joints: number[] } | null;
}

export class OrbitScene {
  readonly engine: Engine;
  private readonly scene: Scene;
  private readonly camera: TargetCamera;
  private readonly looks: LookMaterials;
  private readonly shadows: ShadowGenerator;
  private readonly arm: ArmModel;
  private readonly fixedCasters: Mesh[];
  private nodes: TransformNode[] = [];
  private palm = -1;
  private wristCam: Mesh;
  renders = 0;

  constructor(canvas: HTMLCanvasElement) {
    // antialias: MSAA on the default framebuffer; preserveDrawingBuffer so a
    // MediaRecorder capture and screenshots see the last frame.
    this.engine = new Engine(canvas, true, {
      preserveDrawingBuffer: true, stencil: true, alpha: false, premultipliedAlpha: false,
      audioEngine: false, doNotHandleTouchAction: true, failIfMajorPerformanceCaveat: false,
    }, false);
    // Sharp on high-density screens, capped: SwiftShader and phones pay per pixel.
    this.engine.setHardwareScalingLevel(1 / Math.min(2, globalThis.devicePixelRatio || 1));
    const scene = (this.scene = new Scene(this.engine));
    scene.useRightHandedSystem = true;
    scene.clearColor = new Color4(0.13, 0.14, 0.17, 1);
    scene.ambientColor = new Color3(0.3, 0.3, 0.32);
    scene.skipPointerMovePicking = true;
    const ip = scene.imageProcessingConfiguration;
    ip.toneMappingEnabled = true;
    ip.toneMappingType = ImageProcessingConfiguration.TONEMAPPING_ACES;
    ip.exposure = 1.25;
    ip.contrast = 1.15;

    this.camera = new TargetCamera('viewer', new Vector3(0, -1, 1), scene, false);
    this.camera.upVector = new Vector3(0, 0, 1);
    this.camera.rotationQuaternion = new Quaternion();
    this.camera.updateUpVectorFromRotation = true;
    this.camera.minZ = 0.01;
    this.camera.maxZ = 30;
    scene.activeCamera = this.camera;

    const hemi = new HemisphericLight('fill', new Vector3(0, 0, 1), scene);
    hemi.intensity = 0.42;
    hemi.groundColor = new Color3(0.18, 0.18, 0.2);
    hemi.specular = new Color3(0, 0, 0);
    const key = new DirectionalLight('key', new Vector3(0.45, 0.6, -1).normalize(), scene);
    key.position = new Vector3(-0.9, -1.2, 2);
    key.intensity = 1.15;
    key.specular = new Color3(1, 0.97, 0.92);
    const gen = (this.shadows = new ShadowGenerator(SHADOW_MAP, key));
    gen.usePercentageCloserFiltering = true; // soft edges (PCF), WebGL2
    gen.filteringQuality = ShadowGenerator.QUALITY_MEDIUM;
    gen.bias = 0.0008;
    gen.normalBias = 0.004;
    gen.darkness = 0.25;

    this.looks = new LookMaterials(scene);
    const stage = buildStage(scene, this.looks, DEFAULT_CAMERAS[0]);
    for (const m of stage.receivers) m.receiveShadows = true;
    this.arm = new ArmModel(scene, this.looks);
    this.wristCam = cameraModel(scene, this.looks, 'wristcam', 0.6);
    this.fixedCasters = [...stage.casters, ...this.arm.meshes, this.wristCam, ...(this.wristCam.getChildMeshes() as Mesh[])];
  }

  /** Rebuilds the bodies for a new episode (the stage, arm and materials stay). */
  setScene(desc: SceneDescription): void {
    for (const n of this.nodes) n.dispose(false, false);
    this.wristCam.parent = null;
    const map = this.shadows.getShadowMap()!;
    map.renderList = [...this.fixedCasters];
    this.nodes = desc.bodies.map((b, i) => {
      const node = new TransformNode(`viewer_body${i}`, this.scene);
      node.rotationQuaternion = new Quaternion();
      b.parts.forEach((part, p) => {
        const partNode = new TransformNode(`${node.name}_part${p}`, this.scene);
        partNode.parent = node;
        partNode.position.set(...part.offset);
        for (const mesh of shapeMeshes(`${node.name}_p${p}`, this.scene, part.shape)) {
          mesh.parent = partNode;
          mesh.material = this.looks.get(b.role, part.color);
          mesh.isPickable = false;
          mesh.receiveShadows = b.role !== 'palm' && b.role !== 'finger';
          map.renderList!.push(mesh);
        }
      });
      return node;
    });
    this.palm = desc.bodies.findIndex((b) => b.role === 'palm');
    if (this.palm >= 0) {
      // The wrist camera where the policy's wrist camera is mounted on the palm.
      const spec = DEFAULT_CAMERAS.find((c) => c.mount === 'wrist')!;
      const pose = cameraWorldPose({ ...spec, mount: 'fixed' });
      const q = lookRotation(pose);
      this.wristCam.parent = this.nodes[this.palm];
      this.wristCam.position.set(...pose.eye);
      this.wristCam.rotationQuaternion = new Quaternion(q[0], q[1], q[2], q[3]);
    }
  }

  /** Poses the bodies and the arm, places the camera and renders. False while shaders still compile. */
  render(poses: PoseBuffer, view: CameraSpec): boolean {
    const n = this.nodes.length;
    if (poses.length < n * 7) throw new Error(`OrbitScene: ${poses.length / 7} poses for ${n} bodies`);
    for (let i = 0; i < n; i++) {
      const o = i * 7;
      this.nodes[i].position.set(poses[o], poses[o + 1], poses[o + 2]);
      this.nodes[i].rotationQuaternion!.set(poses[o + 3], poses[o + 4], poses[o + 5], poses[o + 6]);
    }
    if (this.palm >= 0) {
      const o = this.palm * 7;
      this.arm.update(solveArm([poses[o], poses[o + 1], poses[o + 2]], quatYaw([poses[o + 3], poses[o + 4], poses[o + 5], poses[o + 6]])));
    }
    const pose = cameraWorldPose(view);
    const q = lookRotation(pose);
    this.camera.position.set(...pose.eye);
    this.camera.rotationQuaternion!.set(q[0], q[1], q[2], q[3]);
    this.camera.fov = (view.fovDeg * Math.PI) / 180;
    const ready = this.scene.isReady();
    this.scene.render();
    this.renders++;
    return ready;
  }

  info(): OrbitInfo {
    const gl = this.engine._gl as WebGL2RenderingContext;
    const p = this.arm.pose;
    const disc = this.arm.meshes[this.arm.meshes.length - 1].position;
    return {
      antialias: gl.getContextAttributes()?.antialias === true,
      msaaSamples: Number(gl.getParameter(gl.SAMPLES)),
      shadows: { filter: 'pcf', mapSize: SHADOW_MAP, casters: this.shadows.getShadowMap()?.renderList?.length ?? 0 },
      renders: this.renders,
      arm: p ? { flangeDisc: [disc.x, disc.y, disc.z], joints: [...p.joints] } : null,
    };
  }

  dispose(): void {
    this.looks.dispose();
    this.scene.dispose();
    this.engine.dispose();
  }
}
