// Language role probe: does what a policy's decoder is conditioned on (the
// sentence embedding feeding FiLM for the CNN, RT-1 style; the language tokens
// for the ViT policy, OpenVLA style) say which named thing is the object and
// which the destination, or only which words occur?
//
// For every train template of the suite, every pair of colors and every
// shape, compare the embedding of an instruction with
//   role swap:     object and destination colors exchanged ("put the red cube
//                  in the purple bowl" -> "put the purple cube in the red bowl")
//   object color:  only the object's color replaced by a third color
// A bag-of-words embedding cannot see a swap (distance 0) but does see a
// replaced word; an embedding that binds words to roles moves at least as far
// under a swap (two roles changed) as under one replaced word. The ratio
// roleSwap / objectColor summarizes it: ~0 = bag of words, >= 1 = roles bound.
// Motivated by the held-out failures of cnn-4, the CNN shipped before the role
// loss (results/language-roles/README.md): half its wrong-object picks were the
// destination or an object of the destination's color.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { VlaPolicy } from '../../policies/policy.ts';
import { createPolicy } from '../../policies/registry.ts';
import { fillTemplate } from '../../tasks/grammar.ts';
import type { SuiteSpec } from '../../tasks/suite.ts';
import { loadPolicy } from '../train/checkpoint.ts';
import { htmlPage } from '../report/charts.ts';

export type Embedder = (texts: string[]) => number[][];

export interface RoleProbeRow {
  task: string;
  family: string;
  /** Instruction pairs compared (per kind). */
  pairs: number;
  /** Mean Euclidean distance under a role swap / under one replaced object color. */
  roleSwap: number;
  objectColor: number;
  /** roleSwap / objectColor. */
  ratio: number;
}

const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

export function roleProbe(embed: Embedder, suite: SuiteSpec): RoleProbeRow[] {
  const { colors, shapes } = suite;
  return suite.tasks.map((task) => {
    const target = (c: string, s: string) => (task.family === 'stack' ? `${c} ${s}` : `${c} bowl`);
    // target shapes: the stack base's shape is the next one, so object and base differ
    const baseShape = (s: string) => shapes[(shapes.indexOf(s) + 1) % shapes.length];
    let swap = 0, color = 0, pairs = 0;
    for (const template of task.templates.train) {
      const texts: string[] = [];
      for (const c1 of colors) for (const c2 of colors) for (const s of shapes) {
        if (c1 === c2) continue;
        const c3 = colors.find((c) => c !== c1 && c !== c2)!;
        texts.push(
          fillTemplate(template, `${c1} ${s}`, target(c2, baseShape(s))),
          fillTemplate(template, `${c2} ${s}`, target(c1, baseShape(s))), // roles swapped
          fillTemplate(template, `${c3} ${s}`, target(c2, baseShape(s))), // object color replaced
        );
      }
      const e = embed(texts);
      for (let i = 0; i < e.length; i += 3) {
        swap += dist(e[i], e[i + 1]);
        color += dist(e[i], e[i + 2]);
        pairs++;
      }
    }
    return { task: task.name, family: task.family, pairs, roleSwap: swap / pairs, objectColor: color / pairs, ratio: color > 0 ? swap / color : Number.NaN };
  });
}

/**
 * What a policy's decoder is conditioned on, one row per text: the sentence
 * embedding (FiLM input: both shipped policies) or, when the decoder reads the
 * language tokens (useTextTokens, 'vit-siglip-openvla'), the per-token features
 * (padding zeroed) flattened in order.
 */
export function policyEmbedder(policy: VlaPolicy): Embedder {
  return (texts) => {
    const enc = policy.encodeInstructions(texts);
    const out = tf.tidy(() => (policy.config.useTextTokens
      ? enc.tokens.mul(enc.mask.expandDims(2)).reshape([texts.length, -1]) // [B,L,D] -> [B,L*D]
      : enc.embedding).arraySync() as number[][]);
    tf.dispose([enc.embedding, enc.tokens, enc.mask]);
    return out;
  };
}

export interface LanguageRolesResult {
  policy: string;
  rows: RoleProbeRow[];
}

/** Probe each checkpoint (directory) or registry name; writes language_roles.{json,html} under `out`. */
export async function runLanguageRoles(o: { policies: string[]; suite: SuiteSpec; out: string }): Promise<LanguageRolesResult[]> {
  const results: LanguageRolesResult[] = [];
  for (const name of o.policies) {
    const policy = existsSync(join(name, 'config.json')) ? await loadPolicy(name) : createPolicy(name);
    try {
      results.push({ policy: name, rows: roleProbe(policyEmbedder(policy), o.suite) });
    } finally {
      policy.dispose();
    }
  }
  mkdirSync(o.out, { recursive: true });
  const meta = { experiment: 'language-roles', suite: o.suite.name, suiteVersion: o.suite.version, createdAt: new Date().toISOString() };
  writeFileSync(join(o.out, 'language_roles.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  const table = `<table><tr><th>policy</th><th>task</th><th>pairs</th><th>role swap</th><th>object color replaced</th><th>ratio</th></tr>${results.flatMap((r) => r.rows.map((x) =>
    `<tr><td style="text-align:left">${r.policy}</td><td>${x.task}</td><td>${x.pairs}</td><td>${x.roleSwap.toFixed(3)}</td><td>${x.objectColor.toFixed(3)}</td><td>${x.ratio.toFixed(2)}</td></tr>`)).join('')}</table>`;
  writeFileSync(join(o.out, 'language_roles.html'), htmlPage('vlalab: language role probe', `<p>Mean distance between instruction embeddings when the object's and the destination's colors are swapped, against when only the object's color is replaced. Ratio ~0: a bag of words (the roles are invisible); &ge; 1: words bound to roles.</p>${table}<pre>${JSON.stringify(meta, null, 2)}</pre>`));
  return results;
}
