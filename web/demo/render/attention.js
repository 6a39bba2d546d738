// Attention vs relevance (ViT-like models): for a chosen block and head, the CLS token's attention over the
// patches beside each patch's relevance (the heatmap summed per patch), and their rank correlation.
import { $, demo, state } from '../state.js';
import { clsAttention, patchSums, upsample, spearman } from '../transformer.js';
import { fmt, pct, argmax } from '../format.js';
import { methodSelect, labelOf } from '../methods.js';
import { maps, paintMap, clearMap, sizeCanvas, colormapName } from './heatmap.js';

const attentionReadout = $('attention-readout');
let lastAttention = null; // { blocks: attention blocks with their weights | null, R: the pixel relevance }

// Attention is a weight in [0, 1], not a signed relevance: a sequential map, apart from the relevance colours.
const ATTENTION_COLOURS = {
  bwr: (v) => [255 - Math.round(171 * v), 255 - Math.round(216 * v), 255 - Math.round(112 * v)], // white → purple
  coldhot: (v) => [Math.round(170 * v), Math.round(240 * v), Math.round(120 * v)], // black → pale green
};

/** The block and head selectors for the model's attention blocks; the card is shown for ViT-like models only. */
export function fillAttentionControls() {
  const a = state.info.attention;
  $('attention-card').hidden = !a || !state.info.image;
  if (!a) return;
  const blockSel = $('att-block');
  const old = blockSel.value;
  blockSel.textContent = '';
  a.blocks.forEach((b, k) => blockSel.append(new Option(`${k + 1} of ${a.blocks.length} (layer ${b.index})`, String(k))));
  // the last block by default: its CLS row is what the classifier's token gathers last
  blockSel.value = old !== '' && Number(old) < a.blocks.length ? old : String(a.blocks.length - 1);
  fillHeads();
  for (const el of document.querySelectorAll('.att-grid')) el.textContent = `${a.grid}×${a.grid}`;
}

function fillHeads() {
  const block = state.info.attention.blocks[Number($('att-block').value)];
  const headSel = $('att-head');
  const old = headSel.value;
  headSel.textContent = '';
  for (let h = 0; h < block.heads; h++) headSel.append(new Option(`head ${h + 1}`, String(h)));
  if (block.heads > 1) headSel.append(new Option('mean of the heads', 'mean'));
  headSel.value = [...headSel.options].some((o) => o.value === old) ? old : '0';
}

const chosenHead = () => ($('att-head').value === 'mean' ? 'mean' : Number($('att-head').value));

export function clearAttention() {
  lastAttention = null;
  clearMap(maps.attention);
  clearMap(maps.patches);
  attentionReadout.textContent = '';
  demo.attention = null;
}

/** Paints a map of values in [0, max] with the sequential attention colours. */
function paintWeights(map, values, max) {
  const { H, W } = state.info.image;
  sizeCanvas(map.canvas, W, H);
  const c = map.canvas.getContext('2d', { willReadFrequently: true });
  const img = c.createImageData(W, H);
  const colour = ATTENTION_COLOURS[colormapName()] ?? ATTENTION_COLOURS.bwr;
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = colour(max > 0 ? Math.min(1, Math.max(0, values[i] / max)) : 0);
    img.data.set([r, g, b, 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
}

/** The CLS attention of the chosen block and head beside the patch relevance, from the last result. */
function paintAttention() {
  const blocks = lastAttention?.blocks;
  if (!state.info?.attention || !state.info.image) return;
  if (!blocks?.length) {
    clearMap(maps.attention);
    clearMap(maps.patches);
    attentionReadout.textContent = 'No attention weights came with this result.';
    demo.attention = null;
    return;
  }
  const k = Math.min(blocks.length - 1, Number($('att-block').value) || 0);
  const block = blocks[k];
  const head = chosenHead();
  const { H, W } = state.info.image;
  const G = block.grid;
  const att = clsAttention(block, head);
  const attMax = Math.max(...att);
  paintWeights(maps.attention, upsample(att, G, H, W), attMax);
  const patchR = patchSums(lastAttention.R, H, W, G);
  const rMax = Math.max(...Array.from(patchR, Math.abs));
  paintMap(maps.patches, upsample(patchR, G, H, W), rMax);
  const rho = spearman(att, patchR);
  const self = 1 - att.reduce((a, b) => a + b, 0); // row 0 sums to 1: the rest is the CLS token itself
  const top = argmax(att);
  const headText = head === 'mean' ? 'the mean of the heads' : `head ${head + 1}`;
  $('attention-caption').textContent = `CLS attention, block ${k + 1}, ${headText} (max ${pct(attMax)})`;
  $('patch-caption').textContent = `Relevance per patch, ${labelOf(methodSelect)} (max |R| ${fmt(rMax)})`;
  maps.attention.canvas.setAttribute('aria-label', `Attention of the CLS token over the ${G}×${G} patches in block ${k + 1}, ${headText}`);
  attentionReadout.textContent =
    `Block ${k + 1}, ${headText}: the CLS token keeps ${pct(self)} of its attention on itself; the patch it attends to most ` +
    `is row ${Math.floor(top / G) + 1}, column ${(top % G) + 1} (${pct(att[top])}). Rank correlation of attention and patch ` +
    `relevance: ${rho === null ? '— (one of them is constant)' : `ρ = ${rho.toFixed(2)}`} (1: the same order, 0: unrelated).`;
  demo.attention = {
    block: k, head, layer: block.index, grid: G, heads: block.heads,
    values: Array.from(att), patchRelevance: Array.from(patchR), rho, self,
  };
}

/** A result's attention blocks (with their weights; null when none came) and pixel relevance R, painted. */
export function showAttention(blocks, R) {
  lastAttention = { blocks, R };
  paintAttention();
}

export function initAttention() {
  $('att-block').addEventListener('change', () => {
    fillHeads();
    paintAttention();
  });
  $('att-head').addEventListener('change', paintAttention);
}
