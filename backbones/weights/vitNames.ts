// ViT checkpoint name maps (our ViT, backbones/vit.ts, is timm's block layout):
//   'timm'        patch_embed.proj.weight, cls_token, pos_embed, blocks.0.attn.qkv.weight,
//                 head.weight, attn_pool.* (MAP head)
//   'hf_siglip'   vision_model.embeddings.patch_embedding.weight,
//                 vision_model.encoder.layers.0.self_attn.q_proj.weight, vision_model.head.probe, ...
//   'torchvision' conv_proj.weight, class_token, encoder.pos_embedding,
//                 encoder.layers.encoder_layer_0.self_attention.in_proj_weight, ..., heads.head.weight
// The fused q|k|v rows of timm's qkv and torchvision's nn.MultiheadAttention
// in_proj are in the same order (q, k, v), so both are a plain transpose.
import type { ViT } from '../vit.ts';
import { type MapEntry, MappingBuilder } from './builder.ts';

/** The MAP head (SigLIP attention pool) under timm's names. */
function timmMapHead(b: MappingBuilder, C: number): void {
  const h = 'attn_pool';
  b.add('map.latent', `${h}.latent`, { k: 'same' }, { theirShapes: [[1, 1, C]] });
  b.lin('map.q', `${h}.q`);
  b.lin('map.kv', `${h}.kv`);
  b.lin('map.proj', `${h}.proj`);
  b.ln('map.norm', `${h}.norm`);
  b.lin('map.mlp.fc1', `${h}.mlp.fc1`);
  b.lin('map.mlp.fc2', `${h}.mlp.fc2`);
}

function posEntry(m: ViT): { prefix: number; grid: number } {
  return { prefix: m.config.classToken ? 1 : 0, grid: Math.floor(m.config.imgSize / m.config.patchSize) };
}

export function timmViTMapping(m: ViT): MapEntry[] {
  const b = new MappingBuilder(m.namedWeights());
  const C = m.config.dim;
  b.add('patch_embed.w', 'patch_embed.proj.weight', { k: 'patch', p: m.config.patchSize });
  b.add('patch_embed.b', 'patch_embed.proj.bias', { k: 'same' });
  if (b.has('cls_token')) b.add('cls_token', 'cls_token', { k: 'same' }, { theirShapes: [[1, 1, C]] });
  b.add('pos_embed', 'pos_embed', { k: 'same' }, { theirShapes: [[1, ...b.shapeOf('pos_embed')]], posEmbed: posEntry(m) });
  for (let i = 0; i < m.config.depth; i++) {
    b.ln(`blocks.${i}.ln1`, `blocks.${i}.norm1`);
    b.lin(`blocks.${i}.attn.qkv`, `blocks.${i}.attn.qkv`);
    b.lin(`blocks.${i}.attn.proj`, `blocks.${i}.attn.proj`);
    b.ln(`blocks.${i}.ln2`, `blocks.${i}.norm2`);
    b.lin(`blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc1`);
    b.lin(`blocks.${i}.mlp.fc2`, `blocks.${i}.mlp.fc2`);
  }
  b.ln('norm', 'norm');
  if (b.has('map.latent')) timmMapHead(b, C);
  if (b.has('head.w')) b.lin('head', 'head');
  return b.finishWithExtras();
}

export function hfSiglipMapping(m: ViT): MapEntry[] {
  if (m.config.classToken) throw new Error('hf_siglip layout: the SigLIP vision tower has no class token');
  const b = new MappingBuilder(m.namedWeights());
  const C = m.config.dim;
  const v = 'vision_model';
  b.add('patch_embed.w', `${v}.embeddings.patch_embedding.weight`, { k: 'patch', p: m.config.patchSize });
  b.add('patch_embed.b', `${v}.embeddings.patch_embedding.bias`, { k: 'same' });
  b.add('pos_embed', `${v}.embeddings.position_embedding.weight`, { k: 'same' }, { posEmbed: posEntry(m) });
  for (let i = 0; i < m.config.depth; i++) {
    const L = `${v}.encoder.layers.${i}`;
    b.ln(`blocks.${i}.ln1`, `${L}.layer_norm1`);
    const qkv = ['q', 'k', 'v'].map((n) => `${L}.self_attn.${n}_proj`);
    b.add(`blocks.${i}.attn.qkv.w`, qkv.map((n) => `${n}.weight`), { k: 'catLinear' }, { theirShapes: [[C, C], [C, C], [C, C]] });
    b.add(`blocks.${i}.attn.qkv.b`, qkv.map((n) => `${n}.bias`), { k: 'catBias' }, { theirShapes: [[C], [C], [C]] });
    b.lin(`blocks.${i}.attn.proj`, `${L}.self_attn.out_proj`);
    b.ln(`blocks.${i}.ln2`, `${L}.layer_norm2`);
    b.lin(`blocks.${i}.mlp.fc1`, `${L}.mlp.fc1`);
    b.lin(`blocks.${i}.mlp.fc2`, `${L}.mlp.fc2`);
  }
  b.ln('norm', `${v}.post_layernorm`);
  if (b.has('map.latent')) {
    const h = `${v}.head`;
    b.add('map.latent', `${h}.probe`, { k: 'same' }, { theirShapes: [[1, 1, C]] });
    b.add(['map.q.w', 'map.kv.w'], `${h}.attention.in_proj_weight`, { k: 'catLinear' }, { theirShapes: [[3 * C, C]] });
    b.add(['map.q.b', 'map.kv.b'], `${h}.attention.in_proj_bias`, { k: 'catBias' }, { theirShapes: [[3 * C]] });
    b.lin('map.proj', `${h}.attention.out_proj`);
    b.ln('map.norm', `${h}.layernorm`);
    b.lin('map.mlp.fc1', `${h}.mlp.fc1`);
    b.lin('map.mlp.fc2', `${h}.mlp.fc2`);
  }
  return b.finishWithExtras();
}

/**
 * torchvision.models.VisionTransformer (vision_transformer.py): a class token
 * whose position embedding is row 0 of encoder.pos_embedding, nn.MultiheadAttention
 * (in_proj q|k|v, out_proj), MLPBlock as nn.Sequential (mlp.0 = fc1, mlp.3 = fc2),
 * LayerNorm eps 1e-6, heads.head = the classifier. A model pooled otherwise
 * (gap / MAP) keeps those weights as extras.
 */
export function torchvisionViTMapping(m: ViT): MapEntry[] {
  if (!m.config.classToken) throw new Error('torchvision layout: torchvision\'s VisionTransformer has a class token (set classToken: true)');
  const b = new MappingBuilder(m.namedWeights());
  const C = m.config.dim;
  b.add('patch_embed.w', 'conv_proj.weight', { k: 'patch', p: m.config.patchSize });
  b.add('patch_embed.b', 'conv_proj.bias', { k: 'same' });
  b.add('cls_token', 'class_token', { k: 'same' }, { theirShapes: [[1, 1, C]] });
  b.add('pos_embed', 'encoder.pos_embedding', { k: 'same' }, { theirShapes: [[1, ...b.shapeOf('pos_embed')]], posEmbed: posEntry(m) });
  for (let i = 0; i < m.config.depth; i++) {
    const L = `encoder.layers.encoder_layer_${i}`;
    b.ln(`blocks.${i}.ln1`, `${L}.ln_1`);
    b.add(`blocks.${i}.attn.qkv.w`, `${L}.self_attention.in_proj_weight`, { k: 'linear' }); // [C,3C] <-> [3C,C]
    b.add(`blocks.${i}.attn.qkv.b`, `${L}.self_attention.in_proj_bias`, { k: 'same' });
    b.lin(`blocks.${i}.attn.proj`, `${L}.self_attention.out_proj`);
    b.ln(`blocks.${i}.ln2`, `${L}.ln_2`);
    b.lin(`blocks.${i}.mlp.fc1`, `${L}.mlp.0`);
    b.lin(`blocks.${i}.mlp.fc2`, `${L}.mlp.3`);
  }
  b.ln('norm', 'encoder.ln');
  if (b.has('head.w') && m.config.pool === 'token') b.lin('head', 'heads.head');
  return b.finishWithExtras();
}
