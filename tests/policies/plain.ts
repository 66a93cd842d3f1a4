// A plain policy config: every field a recipe decides at its POLICY_DEFAULTS
// value — the RT-1-style CNN on efficientnet_film_s_96, the scene camera
// only, no auxiliary losses, argmax decoding (what the 'efficientnet-film'
// preset was before the names meant the shipped recipes, issue 24). Spread
// it into a registry name's overrides where a test drives a policy by name
// (the inference worker's `{ name, overrides }`) but checks plumbing that must
// not depend on what a recipe holds. The data fields (vocabulary, action
// bounds, proprio statistics) and the seed are left to the caller.
import { POLICY_DEFAULTS, type VlaPolicyConfig } from '../../policies/config.ts';
import { DATA_FIELDS } from '../../policies/registry.ts';

const LEFT_OUT: readonly string[] = [...DATA_FIELDS, 'seed'];

export const PLAIN_POLICY: Partial<VlaPolicyConfig> = Object.fromEntries(Object.entries(structuredClone(POLICY_DEFAULTS)).filter(([k]) => !LEFT_OUT.includes(k)));

/** The OpenVLA-style ViT as plainly: SigLIP-style patch tokens and language tokens in the decoder, nothing else. */
export const PLAIN_OPENVLA: Partial<VlaPolicyConfig> = { ...PLAIN_POLICY, backbone: 'siglip_tiny_patch8_96', useTextTokens: true };
