// Unit tests of the demo's transformer helpers (web/demo/transformer.js), in Node: reading the attention
// blocks of a ViT, the CLS row over the patch grid, patch sums, rank correlation, and how the relevance
// flow views a layer's shape.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  squeeze, tokenGrid, attentionBlocks, clsAttention, patchSums, upsample, spearman, transformerView,
} from '../web/demo/transformer.js';

/** Attention weights [heads, T, T] whose entry (h, i, j) is a recognisable number: h·10000 + i·100 + j. */
function weights(heads, T) {
  const w = new Float32Array(heads * T * T);
  for (let h = 0; h < heads; h++) for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[(h * T + i) * T + j] = h * 10000 + i * 100 + j;
  return w;
}

test('squeeze drops size-1 axes but keeps a scalar shape', () => {
  assert.deepEqual(squeeze([1, 4, 17, 17]), [4, 17, 17]);
  assert.deepEqual(squeeze([4, 1, 17, 17]), [4, 17, 17]);
  assert.deepEqual(squeeze([1, 1]), [1]);
});

test('tokenGrid: G² + 1 tokens have a CLS token, G² do not, others are no grid', () => {
  assert.deepEqual(tokenGrid(17), { grid: 4, cls: true });
  assert.deepEqual(tokenGrid(16), { grid: 4, cls: false });
  assert.deepEqual(tokenGrid(197), { grid: 14, cls: true });
  assert.deepEqual(tokenGrid(5), { grid: 2, cls: true });
  assert.equal(tokenGrid(12), null);
  assert.equal(tokenGrid(2), null, 'one patch is no grid');
});

test('attentionBlocks: [heads, T, T] softmax outputs with a CLS token, size-1 axes anywhere', () => {
  const entries = [
    { index: 17, name: 'a', outputShape: [4, 17, 17], weights: weights(4, 17) },
    { index: 40, name: 'b', outputShape: [1, 4, 17, 17], weights: weights(4, 17) },
    { index: 50, name: 'c', outputShape: [4, 1, 17, 17], weights: weights(4, 17) },
    { index: 60, name: 'one head', outputShape: [17, 17], weights: weights(1, 17) },
    { index: 70, name: 'no CLS', outputShape: [4, 16, 16] },
    { index: 80, name: 'not square', outputShape: [4, 17, 16] },
    { index: 90, name: 'classifier-like', outputShape: [10] },
  ];
  const a = attentionBlocks(entries);
  assert.deepEqual(a.blocks.map((b) => [b.index, b.heads, b.tokens, b.grid]), [[17, 4, 17, 4], [40, 4, 17, 4], [50, 4, 17, 4], [60, 1, 17, 4]]);
  assert.equal(a.tokens, 17);
  assert.equal(a.heads, 4);
  assert.equal(a.grid, 4);
  assert.equal(attentionBlocks([{ index: 1, outputShape: [10] }]), null, 'no attention: not a ViT');
  assert.equal(attentionBlocks(undefined), null);
});

test('clsAttention: row 0, columns 1..G² of the head, as the G×G grid; the mean over heads', () => {
  const [block] = attentionBlocks([{ index: 0, outputShape: [1, 3, 5, 5], weights: weights(3, 5) }]).blocks;
  assert.equal(block.grid, 2);
  assert.deepEqual(Array.from(clsAttention(block, 0)), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(clsAttention(block, 2)), [20001, 20002, 20003, 20004]);
  assert.deepEqual(Array.from(clsAttention(block, 'mean')), [10001, 10002, 10003, 10004]);
  assert.throws(() => clsAttention(block, 3), /head 3 is not one of 0..2/);
});

test('patchSums adds each 7×7 patch of a 28×28 map; upsample spreads a grid back over its pixels', () => {
  const map = new Float32Array(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) map[y * 28 + x] = y * 28 + x;
  const sums = patchSums(map, 28, 28, 4);
  let expected = 0;
  for (let y = 7; y < 14; y++) for (let x = 21; x < 28; x++) expected += y * 28 + x; // row 1, column 3
  assert.equal(sums[1 * 4 + 3], expected);
  assert.equal(sums.reduce((a, b) => a + b, 0), map.reduce((a, b) => a + b, 0), 'nothing lost or counted twice');
  const up = upsample(Float32Array.from([1, 2, 3, 4]), 2, 28, 28);
  assert.equal(up[0], 1);
  assert.equal(up[13], 1);
  assert.equal(up[14], 2);
  assert.equal(up[14 * 28], 3);
  assert.equal(up[28 * 28 - 1], 4);
  assert.deepEqual(Array.from(patchSums(up, 28, 28, 2)), [196, 392, 588, 784], 'each patch is 14×14 pixels');
});

test('spearman: the same order is 1, the reverse −1, ties share ranks, a constant has none', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  assert.equal(spearman([1], [2]), null);
});

test("transformerView: the ViT's layers as tokens, heads, or the page's usual view", () => {
  const vit = { tokens: 17, heads: 4, grid: 4 };
  assert.deepEqual(transformerView([17, 64], vit), { view: 'tokens', n: 17, size: 64, cls: true });
  assert.deepEqual(transformerView([1, 17, 64], vit), { view: 'tokens', n: 17, size: 64, cls: true });
  assert.deepEqual(transformerView([17, 4, 16], vit), { view: 'tokens', n: 17, size: 64, cls: true });
  assert.deepEqual(transformerView([16, 64], vit), { view: 'tokens', n: 16, size: 64, cls: false });
  assert.deepEqual(transformerView([4, 17, 17], vit), { view: 'heads', n: 4, size: 289 });
  assert.deepEqual(transformerView([4, 16, 17], vit), { view: 'heads', n: 4, size: 272 });
  assert.equal(transformerView([64, 4, 4], vit), null, 'the patch embedding conv: channels');
  assert.equal(transformerView([64], vit), null);
  assert.equal(transformerView([17, 64], null), null, 'not a transformer');
});
