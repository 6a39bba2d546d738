// Browser tests of the transformer in the demo: the MNIST ViT (web/models/mnist-vit.onnx) starts on
// attn-lrp, explains a drawing live, shows its tokens in the relevance flow, and the attention view puts
// the CLS token's attention of a chosen block and head beside the relevance of the patches.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, after, stroke, readHeatmap, pixelDiff, shot, ONE, SEVEN, noProblems } from './helpers.mjs';

let env, page;
before(async () => {
  ({ env, page } = await openDemo());
});
afterAll(() => env?.close());

const attentionState = () => page.evaluate(() => window.__lrpDemo.attention);
const methodValues = () => page.$$eval('#method option', (os) => os.map((o) => o.value));

/** Selects an option of the attention view and returns what it then shows (it repaints without recomputing). */
async function chooseAttention(id, value) {
  await page.selectOption(id, { value });
  return { state: await attentionState(), map: await readHeatmap(page, 'attention') };
}

test('the MLP offers no transformer composites and no attention view', async () => {
  assert.equal(await page.inputValue('#model'), 'mlp');
  const values = await methodValues();
  assert.ok(!values.includes('attn-lrp') && !values.includes('cp-lrp'), `MLP methods: ${values}`);
  assert.equal(await page.isVisible('#attention-card'), false);
});

test('choosing the ViT starts it on attn-lrp; a drawn digit gets a prediction, a heatmap and attention', async () => {
  await page.selectOption('#model', 'vit');
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'vit' && document.body.dataset.state === 'ready');
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  assert.equal(await page.inputValue('#method'), 'attn-lrp');
  const values = await methodValues();
  for (const v of ['attn-lrp', 'cp-lrp', 'epsilon-plus', 'gradient']) assert.ok(values.includes(v), `ViT methods include ${v}: ${values}`);
  assert.match(await page.textContent('#model-description'), /vision transformer/);
  assert.ok(await page.isVisible('#attention-card'), 'the attention view is shown for the ViT');
  const blocks = await page.$$eval('#att-block option', (os) => os.map((o) => o.value));
  assert.ok(blocks.length >= 2 && blocks.length <= 4, `blocks: ${blocks}`);
  assert.equal(await page.inputValue('#att-block'), String(blocks.length - 1), 'the last block is shown first');
  assert.deepEqual(await page.$$eval('#att-head option', (os) => os.map((o) => o.value)), ['0', '1', '2', '3', 'mean']);

  const r = await stroke(page, ONE);
  assert.equal(r.model, 'vit');
  assert.equal(r.method, 'attn-lrp');
  assert.equal((await page.textContent('#prediction')).trim(), '1', `the vertical bar is a 1: logits ${r.logits.map((v) => v.toFixed(2))}`);
  assert.equal(r.logits.length, 10);
  assert.ok(r.maxAbsRelevance > 0, `max |R| = ${r.maxAbsRelevance}`);
  assert.equal((await readHeatmap(page)).opaque, 784, 'the heatmap is painted');
  assert.match(await page.textContent('#relevance-stats'), /Σ R = .* vs f\d\(x\) = /);

  const a = await attentionState();
  assert.equal(a.grid, 4);
  assert.equal(a.heads, 4);
  assert.equal(a.values.length, 16);
  const attSum = a.values.reduce((s, v) => s + v, 0);
  assert.ok(a.values.every((v) => v >= 0) && Math.abs(attSum + a.self - 1) < 1e-5 && attSum <= 1 + 1e-5,
    `the CLS row is a distribution: patches ${attSum}, itself ${a.self}`);
  const patchSum = a.patchRelevance.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(patchSum - r.sumRelevance) <= 1e-4 * Math.max(1, Math.abs(r.sumRelevance)),
    `the patches hold all the pixel relevance: ${patchSum} vs ${r.sumRelevance}`);
  const att = await readHeatmap(page, 'attention');
  assert.equal(att.opaque, 784, 'the attention map is painted at the digit size');
  assert.ok(att.coloured > 0, 'the attention map is not blank');
  const patches = await readHeatmap(page, 'patch-relevance');
  assert.equal(patches.opaque, 784);
  assert.ok(patches.coloured > 0, 'the patch relevance is not blank');
  assert.match(await page.textContent('#attention-readout'), /Block \d, head 1: .*Rank correlation/);
  await page.locator('#attention-card').scrollIntoViewIfNeeded();
  await shot(page, '30-vit-attention', { fullPage: true });
});

test('the attention view follows the block and head selectors', async () => {
  const base = { state: await attentionState(), map: await readHeatmap(page, 'attention') };
  const perHead = [base.state.values];
  let previous = base;
  for (const head of ['1', '2', '3']) {
    const now = await chooseAttention('#att-head', head);
    assert.equal(now.state.head, Number(head));
    assert.ok(pixelDiff(previous.map, now.map) > 0, `head ${head} shows other weights than the head before`);
    assert.match(await page.textContent('#attention-caption'), new RegExp(`head ${Number(head) + 1}`));
    perHead.push(now.state.values);
    previous = now;
  }
  const mean = await chooseAttention('#att-head', 'mean');
  mean.state.values.forEach((v, p) => {
    const expected = perHead.reduce((s, h) => s + h[p], 0) / perHead.length;
    assert.ok(Math.abs(v - expected) < 1e-6, `patch ${p}: mean of the heads ${v} vs ${expected}`);
  });
  await chooseAttention('#att-head', '0');
  const other = await chooseAttention('#att-block', '0');
  assert.equal(other.state.block, 0);
  assert.notEqual(other.state.layer, base.state.layer, 'another block is another softmax layer');
  assert.ok(pixelDiff(base.map, other.map) > 0, 'the first block attends differently from the last');
  assert.equal(other.state.head, 0, 'the head is kept across blocks');
  // the selections stay while the drawing changes, and the view is recomputed with it
  const r = await stroke(page, [[0.3, 0.3], [0.7, 0.3]]);
  assert.equal(r.model, 'vit');
  const redrawn = await attentionState();
  assert.equal(redrawn.block, 0);
  assert.ok(redrawn.values.some((v, p) => v !== other.state.values[p]), 'a new stroke changes the attention');
  await after(page, 'undo', () => page.click('#undo'));
  await page.selectOption('#att-block', { value: String((await page.$$eval('#att-block option', (os) => os.length)) - 1) });
});

test('attention is live while drawing, like the heatmap', async () => {
  await page.click('#clear');
  await page.waitForFunction(() => window.__lrpDemo.attention === null);
  assert.equal((await readHeatmap(page, 'attention')).opaque, 0, 'cleared with the drawing');
  const box = await page.locator('#canvas').boundingBox();
  const n0 = await page.evaluate(() => Number(document.body.dataset.explained));
  await page.mouse.move(box.x + box.width * 0.24, box.y + box.height * 0.2);
  await page.mouse.down();
  for (const [fx, fy] of SEVEN.slice(1)) {
    await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy, { steps: 4 });
    await page.waitForTimeout(50);
  }
  await page.waitForFunction((n) => Number(document.body.dataset.explained) > n && window.__lrpDemo.lastResult.trigger === 'draw', n0);
  assert.ok(await attentionState(), 'the attention view is painted before pointerup');
  assert.equal((await readHeatmap(page, 'attention')).opaque, 784);
  await after(page, 'pointerup', () => page.mouse.up());
});

test('MNIST test digits: the ViT reads the first of every class (nearly) right, with attention for each', async () => {
  await page.waitForFunction(() => window.__lrpDemo.samples?.count > 0);
  const { labels } = await page.evaluate(() => window.__lrpDemo.samples);
  let correct = 0;
  for (let c = 0; c < 10; c++) {
    const r = await after(page, 'sample', () => page.selectOption('#sample', String(labels.indexOf(c))));
    assert.equal(r.model, 'vit');
    if (r.prediction === c) correct++;
    const a = await attentionState();
    assert.ok(a && a.values.some((v) => v > 0), `digit ${c}: the attention view is painted`);
  }
  assert.ok(correct >= 9, `${correct}/10 first test digits per class classified correctly`);
  await page.click('#clear');
  await stroke(page, ONE);
});

test('cp-lrp and a Zennit composite explain the ViT too', async () => {
  const attn = await readHeatmap(page);
  const cp = await after(page, 'method', () => page.selectOption('#method', 'cp-lrp'));
  assert.equal(cp.method, 'cp-lrp');
  assert.ok(cp.maxAbsRelevance > 0);
  assert.ok(pixelDiff(attn, await readHeatmap(page)) > 0, 'cp-lrp differs from attn-lrp');
  assert.match(await page.textContent('#method-help'), /CP-LRP/);
  const ep = await after(page, 'method', () => page.selectOption('#method', 'epsilon-plus'));
  assert.ok(ep.maxAbsRelevance > 0);
  assert.notEqual(await page.locator('#status').getAttribute('data-kind'), 'error', await page.textContent('#status'));
  assert.match(await page.textContent('#patch-caption'), /epsilon-plus/, 'the patch relevance follows the method');
  await after(page, 'method', () => page.selectOption('#method', 'attn-lrp'));
});

test('relevance flow: tokens on the patch grid, heads summed, a token restricts the map', async () => {
  const r = await page.evaluate(() => window.__lrpDemo.lastResult);
  assert.equal(await page.locator('#flow-chart .flow-row').count(), r.layers.length + 1, 'one bar per layer plus the input');
  let u = await page.evaluate(() => window.__lrpDemo.units);
  assert.equal(u.view, 'tokens', `the flow starts on a tokens layer (layer ${u.layer})`);
  assert.equal(u.values.length, 17, 'CLS + 16 patches');
  assert.equal(u.cells.length, 17);
  // click the patch that holds the most relevance: only what flows through that token is kept
  const k = u.values.reduce((best, v, i) => (i > 0 && Math.abs(v) > Math.abs(u.values[best]) ? i : best), 1);
  const cell = u.cells[k];
  await page.locator('#units').scrollIntoViewIfNeeded();
  const box = await page.locator('#units').boundingBox();
  const size = await page.$eval('#units', (c) => ({ w: c.width, h: c.height }));
  const full = await readHeatmap(page);
  const ru = await after(page, 'unit', () => page.mouse.click(
    box.x + ((cell.x + cell.w / 2) * box.width) / size.w, box.y + ((cell.y + cell.h / 2) * box.height) / size.h));
  assert.equal(ru.unit.unit, k, 'the clicked token is chosen');
  assert.match(await page.textContent('#unit-caption'), /Through token \d+ \(patch row \d, column \d\) of layer/);
  const restricted = await readHeatmap(page, 'heatmap-unit');
  assert.equal(restricted.opaque, 784);
  assert.ok(pixelDiff(full, restricted) > 0, 'one token carries less than the whole map');
  await shot(page, '31-vit-flow-token', { fullPage: true });
  await after(page, 'unit', () => page.click('#unit-clear'));
  // an attention softmax [heads, T, T]: one unit per head
  const softmax = r.layers.find((l) => l.kind === 'softmax');
  await after(page, 'unit', () => page.selectOption('#flow-layer', String(softmax.index)));
  u = await page.evaluate(() => window.__lrpDemo.units);
  assert.equal(u.view, 'heads');
  assert.equal(u.values.length, 4);
  const rh = await after(page, 'unit', () => page.fill('#unit', '2').then(() => page.locator('#unit').dispatchEvent('change')));
  assert.match(rh.unit.label, /^head 2 of layer/);
  await after(page, 'unit', () => page.click('#unit-clear'));
});

test('back to the MLP: its default method, no attention view; the ViT again starts on attn-lrp', async () => {
  const r = await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  assert.equal(r.method, 'epsilon-plus', 'attn-lrp is not offered for the MLP: its default method instead');
  assert.equal(await page.isVisible('#attention-card'), false);
  await page.selectOption('#method', 'deep-taylor');
  const rv = await after(page, 'model', () => page.selectOption('#model', 'vit'));
  assert.equal(rv.method, 'attn-lrp');
  assert.ok(await page.isVisible('#attention-card'));
  assert.ok(await attentionState(), 'the attention view is painted for the drawing');
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  await page.selectOption('#method', 'epsilon-plus');
});

test('no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});
