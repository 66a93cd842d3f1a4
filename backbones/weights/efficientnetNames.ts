// EfficientNet checkpoint name maps (our EfficientNet, backbones/efficientnet.ts,
// follows torchvision's block structure; timm's efficientnet_b0/b3 have the
// same blocks and widths under other names):
//   'torchvision' features.0.0.weight (stem conv), features.0.1 (BN),
//                 features.S.L.block.J.{0,1} (conv, BN) | .fc1/.fc2 (SE), features.8.0 (head),
//                 classifier.1
//   'timm'        conv_stem, bn1, blocks.(S-1).L.{conv_pw, bn1, conv_dw, bn2, se.conv_reduce,
//                 se.conv_expand, conv_pwl, bn3}, conv_head, bn2, classifier
// timm's first stage (expand ratio 1) is a DepthwiseSeparableConv: conv_dw,
// bn1, se, conv_pw (the projection), bn2.
import type { EfficientNet } from '../efficientnet.ts';
import { type MapEntry, MappingBuilder } from './builder.ts';

export function torchvisionEfficientNetMapping(m: EfficientNet): MapEntry[] {
  const b = new MappingBuilder(m.namedWeights());
  b.add('stem.conv', 'features.0.0.weight', { k: 'conv' });
  b.bn('stem.bn', 'features.0.1');
  m.layout.blocks.forEach((spec, i) => {
    const base = `features.${spec.stage}.${spec.layer}.block`;
    let j = 0;
    if (b.has(`blocks.${i}.expand.conv`)) {
      b.add(`blocks.${i}.expand.conv`, `${base}.${j}.0.weight`, { k: 'conv1x1' });
      b.bn(`blocks.${i}.expand.bn`, `${base}.${j}.1`);
      j++;
    }
    b.add(`blocks.${i}.dw.conv`, `${base}.${j}.0.weight`, { k: 'depthwise' });
    b.bn(`blocks.${i}.dw.bn`, `${base}.${j}.1`);
    j++;
    b.add(`blocks.${i}.se.fc1.w`, `${base}.${j}.fc1.weight`, { k: 'conv1x1' });
    b.add(`blocks.${i}.se.fc1.b`, `${base}.${j}.fc1.bias`, { k: 'same' });
    b.add(`blocks.${i}.se.fc2.w`, `${base}.${j}.fc2.weight`, { k: 'conv1x1' });
    b.add(`blocks.${i}.se.fc2.b`, `${base}.${j}.fc2.bias`, { k: 'same' });
    j++;
    b.add(`blocks.${i}.project.conv`, `${base}.${j}.0.weight`, { k: 'conv1x1' });
    b.bn(`blocks.${i}.project.bn`, `${base}.${j}.1`);
  });
  const headIdx = m.config.blocks.length + 1;
  b.add('head.conv', `features.${headIdx}.0.weight`, { k: 'conv1x1' });
  b.bn('head.bn', `features.${headIdx}.1`);
  if (b.has('classifier.w')) {
    b.add('classifier.w', 'classifier.1.weight', { k: 'linear' });
    b.add('classifier.b', 'classifier.1.bias', { k: 'same' });
  }
  return b.finishWithExtras();
}

export function timmEfficientNetMapping(m: EfficientNet): MapEntry[] {
  const b = new MappingBuilder(m.namedWeights());
  b.add('stem.conv', 'conv_stem.weight', { k: 'conv' });
  b.bn('stem.bn', 'bn1');
  m.layout.blocks.forEach((spec, i) => {
    const base = `blocks.${spec.stage - 1}.${spec.layer}`;
    const se = () => {
      b.add(`blocks.${i}.se.fc1.w`, `${base}.se.conv_reduce.weight`, { k: 'conv1x1' });
      b.add(`blocks.${i}.se.fc1.b`, `${base}.se.conv_reduce.bias`, { k: 'same' });
      b.add(`blocks.${i}.se.fc2.w`, `${base}.se.conv_expand.weight`, { k: 'conv1x1' });
      b.add(`blocks.${i}.se.fc2.b`, `${base}.se.conv_expand.bias`, { k: 'same' });
    };
    if (b.has(`blocks.${i}.expand.conv`)) {
      // InvertedResidual
      b.add(`blocks.${i}.expand.conv`, `${base}.conv_pw.weight`, { k: 'conv1x1' });
      b.bn(`blocks.${i}.expand.bn`, `${base}.bn1`);
      b.add(`blocks.${i}.dw.conv`, `${base}.conv_dw.weight`, { k: 'depthwise' });
      b.bn(`blocks.${i}.dw.bn`, `${base}.bn2`);
      se();
      b.add(`blocks.${i}.project.conv`, `${base}.conv_pwl.weight`, { k: 'conv1x1' });
      b.bn(`blocks.${i}.project.bn`, `${base}.bn3`);
    } else {
      // DepthwiseSeparableConv
      b.add(`blocks.${i}.dw.conv`, `${base}.conv_dw.weight`, { k: 'depthwise' });
      b.bn(`blocks.${i}.dw.bn`, `${base}.bn1`);
      se();
      b.add(`blocks.${i}.project.conv`, `${base}.conv_pw.weight`, { k: 'conv1x1' });
      b.bn(`blocks.${i}.project.bn`, `${base}.bn2`);
    }
  });
  b.add('head.conv', 'conv_head.weight', { k: 'conv1x1' });
  b.bn('head.bn', 'bn2');
  if (b.has('classifier.w')) b.lin('classifier', 'classifier');
  return b.finishWithExtras();
}
