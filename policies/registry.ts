// Policy registry: named presets of VlaPolicyConfig.
//   'efficientnet-film': RT-1 style (arXiv:2212.06817) — FiLM-EfficientNet + TokenLearner (8 tokens/camera),
//                        language only through FiLM, GPT decoder over action tokens.
//   'vit-siglip':        OpenVLA style (arXiv:2406.09246) — SigLIP-style ViT patch tokens + language
//                        tokens in the causal decoder. This preset is NOT the shipped
//                        checkpoints/vit-siglip: that one is RT-1's token path on a SigLIP-style ViT
//                        (backbone siglip_film_tl8_patch16_96: FiLM per block + TokenLearner,
//                        useTextTokens false), built with --set overrides and warm starts
//                        (docs/checkpoints.md).
// Any preset takes overrides, e.g. createPolicy('efficientnet-film', { blind: true }) zeros the images.
import { POLICY_DEFAULTS, VlaPolicy, type VlaPolicyConfig } from './policy.ts';

export const POLICY_PRESETS: Record<string, Partial<VlaPolicyConfig>> = {
  'efficientnet-film': {
    backbone: 'efficientnet_film_s_96',
    useTextTokens: false,
  },
  'vit-siglip': {
    backbone: 'siglip_tiny_patch8_96',
    useTextTokens: true,
  },
};

export function listPolicies(): string[] {
  return Object.keys(POLICY_PRESETS).sort();
}

/** Resolved config of a preset with overrides (unknown fields rejected). */
export function policyConfig(name: string, overrides: Partial<VlaPolicyConfig> = {}): VlaPolicyConfig {
  const preset = POLICY_PRESETS[name];
  if (!preset) throw new Error(`unknown policy '${name}'. Registered: ${listPolicies().join(', ')}`);
  for (const k of Object.keys(overrides)) {
    if (!(k in POLICY_DEFAULTS)) throw new Error(`policy '${name}': unknown config field '${k}'`);
  }
  return structuredClone({ ...POLICY_DEFAULTS, ...preset, ...overrides });
}

export function createPolicy(name: string, overrides: Partial<VlaPolicyConfig> = {}): VlaPolicy {
  return new VlaPolicy(policyConfig(name, overrides));
}
