// `vlalab analyze resolution --quick` on the shipped backbones: the cost rows
// follow the predicted scaling (CNN FLOPs ~ pixels; ViT attention share grows
// with the patch count) and the report is written.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shippedBackbones, runResolution } from '../../src/cli/analyze.ts';

const out = mkdtempSync(join(tmpdir(), 'vlalab-res-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('analyze resolution --quick', () => {
  it('measures both shipped backbones at 64/96/128 px with the predicted scaling', async () => {
    const shipped = shippedBackbones();
    expect(shipped).toEqual(['efficientnet_film_s_os16_96', 'siglip_film_tl8_patch16_96']); // checkpoints/*/config.json
    const rows = await runResolution({ quick: true, out });
    expect(rows.map((r) => `${r.backbone}@${r.resolution}`)).toEqual(shipped.flatMap((b) => [64, 96, 128].map((s) => `${b}@${s}`)));
    const cnn = rows.filter((r) => r.family === 'cnn');
    const vit = rows.filter((r) => r.family === 'transformer');
    expect(new Set(cnn.map((r) => r.params)).size).toBe(1); // resolution changes cost, not size
    // CNN: FLOPs within 15% of pixel-proportional (padding makes small maps slightly off)
    for (const r of cnn) expect(r.flops / r.predictedFlops).toBeGreaterThan(0.85);
    for (const r of cnn) expect(r.flops / r.predictedFlops).toBeLessThan(1.15);
    // ViT: a*N + b*N^2 (a fitted at 64 px; the fixed-size MAP head makes it approximate), attention share rising with N
    expect(vit[0].flops / vit[0].predictedFlops).toBeCloseTo(1, 6);
    for (const r of vit) expect(Math.abs(r.flops / r.predictedFlops - 1)).toBeLessThan(0.05);
    expect(vit[2].attentionShare!).toBeGreaterThan(vit[0].attentionShare!);
    expect(rows.every((r) => r.latencyP50Ms > 0 && r.latencyP95Ms >= r.latencyP50Ms)).toBe(true);
    expect(existsSync(join(out, 'resolution.html'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'resolution.json'), 'utf8')).meta.quick).toBe(true);
  }, 120_000);

  it('refuses a shipped checkpoint without a readable plain-preset backbone, naming the file', () => {
    const dir = mkdtempSync(join(out, 'ckpt-'));
    expect(() => shippedBackbones([dir])).toThrow(new RegExp(`cannot read the shipped checkpoint config ${dir}/config.json`));
    const shipped = JSON.parse(readFileSync('checkpoints/vit-siglip/config.json', 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...shipped, policy: { ...shipped.policy, config: { ...shipped.policy.config, backboneOverrides: { depth: 2 } } } }));
    expect(() => shippedBackbones([dir])).toThrow(/overrides its backbone preset \(depth\)/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...shipped, policy: { ...shipped.policy, config: { ...shipped.policy.config, backbone: undefined } } }));
    expect(() => shippedBackbones([dir])).toThrow(new RegExp(`${dir}/config.json: missing policy.config`)); // parseConfig names the file
  });
});
