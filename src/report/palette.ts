// The one palette of every HTML report (src/eval, src/analysis) and the demo
// page (src/app/demo), with no imports so the browser bundle can take it.
// A policy keeps its colour everywhere: the shipped policies, the expert and
// the blind baselines have fixed colours, and any other label gets one from a
// hash of the label, so a chart that lacks a series (the expert has no
// latency) does not shift the colours of the others, and the same label is
// the same colour in the eval report, the analysis reports and the demo.

/** Categorical colours (Tableau 10 order) for series that are not policies: outcomes, heads, stages. */
export const PALETTE: readonly string[] = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f'];

/** Fixed colours of the policies people compare most (those of the committed eval report); a blind baseline is its policy's pale twin. */
export const POLICY_COLORS: Readonly<Record<string, string>> = {
  expert: '#4e79a7',
  'efficientnet-film': '#f28e2b',
  'efficientnet-film+blind': '#ffbe7d',
  'vit-siglip': '#59a14f',
  'vit-siglip+blind': '#8cd17d',
};

/** Colours a label without a fixed one may take: the rest of Tableau 10, none of them a fixed policy colour or its pale twin. */
const FREE = ['#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f', '#bab0ac'];

const BLIND = '+blind';

/** FNV-1a, 32 bit: a label's stable number. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const hex = (rgb: number[]) => `#${rgb.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`;

/** A colour off the free list, from the hash: the k-th further try steps the hue by the golden angle (HSL 55%, 45%). */
function hashedHue(label: string, k: number): string {
  const h = ((hash(label) + k * 137.508) % 360) / 60, c = 0.55 * (1 - Math.abs(2 * 0.45 - 1)), x = c * (1 - Math.abs((h % 2) - 1)), m = 0.45 - c / 2;
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return hex([r + m, g + m, b + m].map((v) => v * 255));
}

/** A blind baseline's colour: its policy's, mixed 45% with white. */
function pale(color: string): string {
  const rgb = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  return hex(rgb.map((v) => v + 0.45 * (255 - v)));
}

/** One label's colour on its own (the demo's driver): its fixed colour, else one of the free colours by hash; "X+blind" X's, pale. */
export function policyColor(label: string): string {
  if (POLICY_COLORS[label]) return POLICY_COLORS[label];
  if (label.endsWith(BLIND) && label.length > BLIND.length) return pale(policyColor(label.slice(0, -BLIND.length)));
  return FREE[hash(label) % FREE.length];
}

/**
 * The colours of the policies of one report, distinct within it: fixed
 * colours first; every other label its hashed free colour (policyColor), or,
 * taken already by a label that came before it, the next free one, and past
 * the free list a hue from its hash; "X+blind" is X's colour, pale. Build it
 * once from every label the report shows and use it for every chart and
 * legend, so a series missing from one chart changes nothing.
 */
export function policyColors(labels: Iterable<string>): (label: string) => string {
  const map = new Map<string, string>();
  const used = new Set<string>();
  const all = [...new Set(labels)];
  const blind = (l: string) => !POLICY_COLORS[l] && l.endsWith(BLIND) && l.length > BLIND.length;
  for (const l of all) if (POLICY_COLORS[l]) (map.set(l, POLICY_COLORS[l]), used.add(POLICY_COLORS[l]));
  for (const l of all) {
    if (map.has(l) || blind(l)) continue;
    const start = hash(l) % FREE.length;
    let c = [...FREE.keys()].map((k) => FREE[(start + k) % FREE.length]).find((f) => !used.has(f));
    for (let k = 0; c === undefined || used.has(c); k++) c = hashedHue(l, k);
    map.set(l, c);
    used.add(c);
  }
  for (const l of all) if (blind(l)) map.set(l, pale(map.get(l.slice(0, -BLIND.length)) ?? policyColor(l.slice(0, -BLIND.length))));
  return (label) => map.get(label) ?? policyColor(label);
}
