// Transformer helpers of the demo, without the DOM (tested in Node: tests/demo-transformer.test.mjs).
//
// A vision transformer cuts the image into a G×G grid of patches, one token each, and usually puts a
// CLS token in front (T = G² + 1 tokens; its final state is what the head classifies). lrp-wasm's
// `explain(x, { attention: true })` returns every softmax layer's output: per block the attention
// weights [heads, T, T] (row i: how token i mixes the tokens' values), with size-1 axes where the
// export kept a batch axis. These functions turn them into what the page shows.

/** The shape without its size-1 axes (a kept batch axis, a single head), but never empty. */
export function squeeze(shape) {
  const s = shape.filter((d) => d !== 1);
  return s.length ? s : [1];
}

/** The patch grid of T tokens: T = G² + 1 (a CLS token first) or T = G² (patches only); else null. */
export function tokenGrid(T) {
  for (const cls of [1, 0]) {
    const G = Math.round(Math.sqrt(T - cls));
    if (G >= 2 && G * G === T - cls) return { grid: G, cls: cls === 1 };
  }
  return null;
}

/**
 * The attention blocks among the softmax outputs: each whose shape squeezes to [heads, T, T] or [T, T]
 * with a CLS token and a square patch grid. Returns { blocks, tokens, heads, grid } (tokens, heads and
 * grid of the first such block), or null when there is none: then the model is not a ViT this page can show.
 */
export function attentionBlocks(entries) {
  const blocks = [];
  for (const e of entries ?? []) {
    const s = squeeze(e.outputShape);
    const [heads, rows, cols] = s.length === 2 ? [1, ...s] : s;
    if (s.length < 2 || s.length > 3 || rows !== cols) continue;
    const g = tokenGrid(cols);
    if (!g || !g.cls) continue; // no CLS token: there is no "CLS row" to show
    blocks.push({ index: e.index, name: e.name, heads, tokens: cols, grid: g.grid, weights: e.weights ?? null });
  }
  if (!blocks.length) return null;
  const { tokens, heads, grid } = blocks[0];
  return { blocks, tokens, heads, grid };
}

/**
 * The CLS token's attention over the patch grid in one block: row 0 of the head's T×T weights, columns
 * 1..G², as a G×G grid (row-major, like the patches). `head` is a head index or 'mean' (mean over heads).
 */
export function clsAttention(block, head) {
  const { heads, tokens: T, grid: G, weights } = block;
  const out = new Float32Array(G * G);
  const hs = head === 'mean' ? [...Array(heads).keys()] : [head];
  for (const h of hs) {
    if (!(Number.isInteger(h) && h >= 0 && h < heads)) throw new Error(`head ${h} is not one of 0..${heads - 1}`);
    const row = h * T * T; // row 0 of head h
    for (let p = 0; p < G * G; p++) out[p] += weights[row + 1 + p] / hs.length;
  }
  return out;
}

/** An H×W map summed over a G×G grid of patches (pixel (y, x) belongs to patch ⌊yG/H⌋, ⌊xG/W⌋). */
export function patchSums(map, H, W, G) {
  const out = new Float32Array(G * G);
  for (let y = 0; y < H; y++) {
    const py = Math.floor((y * G) / H);
    for (let x = 0; x < W; x++) out[py * G + Math.floor((x * G) / W)] += map[y * W + x];
  }
  return out;
}

/** A G×G grid upsampled to H×W by repeating each patch's value over its pixels (nearest neighbour). */
export function upsample(gridValues, G, H, W) {
  const out = new Float32Array(H * W);
  for (let y = 0; y < H; y++) {
    const py = Math.floor((y * G) / H);
    for (let x = 0; x < W; x++) out[y * W + x] = gridValues[py * G + Math.floor((x * G) / W)];
  }
  return out;
}

/** Ranks 1..n, ties sharing their mean rank. */
function ranks(values) {
  const order = [...values.keys()].sort((i, j) => values[i] - values[j]);
  const r = new Float64Array(values.length);
  for (let a = 0; a < order.length;) {
    let b = a;
    while (b + 1 < order.length && values[order[b + 1]] === values[order[a]]) b++;
    for (let k = a; k <= b; k++) r[order[k]] = (a + b) / 2 + 1;
    a = b + 1;
  }
  return r;
}

/**
 * Spearman's rank correlation of two equally long arrays: do they order the patches alike? null when
 * either is constant (no ranking to compare).
 */
export function spearman(a, b) {
  if (a.length !== b.length || a.length < 2) return null;
  const ra = ranks(a), rb = ranks(b);
  const mean = (a.length + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) ** 2;
    sbb += (rb[i] - mean) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

/**
 * How the relevance flow shows a layer of a transformer ({ tokens, heads, grid } from attentionBlocks):
 *   { view: 'tokens', n: tokens, size, cls }  tokens first ([T, D], [T, heads, d], or [G², D] without
 *                                             the CLS token): one unit per token, shown on the grid
 *   { view: 'heads', n: heads, size }         heads first ([heads, T, T], [heads, T, d]): one unit per head
 *   null                                      anything else (the page's usual channel or unit view)
 * `size` is the number of values of one unit; a unit's values are contiguous (row-major).
 */
export function transformerView(shape, model) {
  if (!model) return null;
  const s = squeeze(shape);
  const rest = (k) => s.slice(k).reduce((a, b) => a * b, 1);
  const patches = model.grid * model.grid;
  if (s.length >= 2 && s[0] === model.tokens) return { view: 'tokens', n: s[0], size: rest(1), cls: true };
  if (s.length >= 2 && s[0] === patches) return { view: 'tokens', n: s[0], size: rest(1), cls: false };
  if (s.length >= 3 && model.heads > 1 && s[0] === model.heads && s.slice(1).includes(model.tokens)) {
    return { view: 'heads', n: s[0], size: rest(1) };
  }
  return null;
}
