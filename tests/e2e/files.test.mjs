// Browser tests of files: the user's own ONNX model (a good one, a non-image one, a broken one), an
// image file chosen or dropped, and the heatmap downloaded as a PNG.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buildModel } from '../helpers/onnx-builder.mjs';
import { openDemo, after, stroke, readHeatmap, shot, ROOT, ONE, noProblems } from './helpers.mjs';

let env, page;
before(async () => {
  ({ env, page } = await openDemo());
});
afterAll(() => env?.close());

/** A PNG of a dark digit-like shape on a light background, drawn by the page's own canvas. */
async function makeImage(p, shape) {
  const b64 = await p.evaluate((s) => {
    const c = document.createElement('canvas');
    c.width = 120;
    c.height = 90;
    const g = c.getContext('2d');
    g.fillStyle = '#f4f1ea';
    g.fillRect(0, 0, c.width, c.height);
    g.strokeStyle = '#202020';
    g.lineWidth = 9;
    g.lineCap = 'round';
    g.beginPath();
    s.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
    g.stroke();
    return c.toDataURL('image/png').split(',')[1];
  }, shape);
  return Buffer.from(b64, 'base64');
}

test('an image file (chosen, then dropped) is converted to 28×28 grey like MNIST and explained', async () => {
  const one = await makeImage(page, [[60, 12], [60, 78]]);
  const r = await after(page, 'image', () => page.setInputFiles('#image-file', { name: 'one.png', mimeType: 'image/png', buffer: one }));
  assert.equal(r.prediction, 1, `a dark vertical bar on light paper (inverted) is a 1: ${r.logits.map((v) => v.toFixed(1))}`);
  assert.match(await page.textContent('#status'), /image one\.png/);
  const ink = await page.evaluate(() => {
    const d = document.getElementById('input').getContext('2d').getImageData(0, 0, 28, 28).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++;
    return { n, corner: d[0] };
  });
  assert.ok(ink.n > 10 && ink.n < 300, `ink pixels ${ink.n}`);
  assert.equal(ink.corner, 0, 'the light background became black (inverted)');
  await shot(page, '20-image-file');
  // drop a "7" on the canvas
  const seven = await makeImage(page, [[25, 15], [95, 15], [55, 80]]);
  const r7 = await after(page, 'image', () => page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'seven.png', { type: 'image/png' }));
    const zone = document.getElementById('drop-zone');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, seven.toString('base64')));
  assert.match(await page.textContent('#status'), /image seven\.png/);
  assert.match(String(r7.prediction), /^[0-9]$/);
  assert.ok(r7.maxAbsRelevance > 0);
  await shot(page, '21-image-drop');
  // something that is not an image: an error in the page, not a blank screen
  await page.setInputFiles('#image-file', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('hello') });
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  assert.match(await page.textContent('#status'), /notes\.png/);
  await page.click('#clear');
});

test('download the heatmap as a 280×280 PNG', async () => {
  await stroke(page, ONE);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.match(download.suggestedFilename(), /^lrp-mlp-epsilon-plus-class1\.png$/);
  const file = await download.path();
  const bytes = await fs.readFile(file);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
  assert.equal(bytes.readUInt32BE(16), 280, 'width');
  assert.equal(bytes.readUInt32BE(20), 280, 'height');
});

test('loading an ONNX model file: the CNN, shown with its input shape and layers, explains the drawing', async () => {
  const r = await after(page, 'model', () => page.setInputFiles('#model-file', path.join(ROOT, 'web/models/mnist-cnn.onnx')));
  assert.equal(await page.inputValue('#model'), 'custom');
  assert.match(await page.textContent('#model-summary'), /mnist-cnn\.onnx · input 1×28×28 · 10 outputs · 13 layers/);
  assert.equal(await page.locator('#model-layers li').count(), 13);
  assert.equal(r.prediction, 1);
  assert.ok(r.maxAbsRelevance > 0);
  assert.ok(r.layers.length === 13);
  await shot(page, '22-own-model', { fullPage: true });
});

test('a model with a non-28×28 image input (tiny CNN, 2×12×12), dropped on the page: the drawing is resized', async () => {
  const bytes = await fs.readFile(path.join(ROOT, 'tests/fixtures/golden/tiny-cnn/model.onnx'));
  const r = await after(page, 'model', () => page.evaluate(async (b64) => {
    const data = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], 'tiny-cnn.onnx', { type: 'application/octet-stream' }));
    document.querySelector('footer').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes.toString('base64')));
  assert.match(await page.textContent('#model-summary'), /^tiny-cnn\.onnx · input 2×12×12/);
  assert.deepEqual(r.shape, [2, 12, 12]);
  assert.equal(await page.locator('#scores [role="listitem"]').count(), 5, 'one score per output');
  const h = await readHeatmap(page);
  assert.equal(h.width, 12);
  assert.equal(h.height, 12);
  assert.equal(h.opaque, 144);
  assert.match(await page.textContent('#status'), /resized to 12×12 and repeated over 2 channels|Predicted/);
  assert.match(await page.textContent('#input-size'), /12×12×2/);
  await shot(page, '23-tiny-cnn');
});

test('a model whose input is not an image (tiny MLP, 16 features): a clear message', async () => {
  await page.setInputFiles('#model-file', path.join(ROOT, 'tests/fixtures/golden/tiny-mlp/model.onnx'));
  await page.waitForFunction(() => document.body.dataset.inputKind === 'not-image');
  const status = await page.textContent('#status');
  assert.match(status, /\[16\].*not an image/);
  assert.match(await page.textContent('#model-summary'), /input 16 · 4 outputs · 5 layers/);
  assert.equal(await page.textContent('#prediction'), '');
  await shot(page, '24-not-image');
});

test('a broken model file: a visible error naming the problem; the previous model keeps working', async () => {
  const good = await fs.readFile(path.join(ROOT, 'web/models/mnist-mlp.onnx'));
  await after(page, 'model', () => page.selectOption('#model', 'mlp'));
  for (const [name, buffer] of [['truncated.onnx', good.subarray(0, 3000)], ['garbage.onnx', Buffer.from('this is not an ONNX model at all')]]) {
    await page.evaluate(() => document.getElementById('status').removeAttribute('data-kind'));
    await page.setInputFiles('#model-file', { name, mimeType: 'application/octet-stream', buffer });
    await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
    const msg = await page.textContent('#status');
    assert.match(msg, new RegExp(`Could not use your model "${name.replace('.', '\\.')}": Could not load the model file: .{10,}`), msg);
    assert.equal(await page.getAttribute('#status', 'role'), 'alert');
    assert.ok(await page.isVisible('#status'));
  }
  // a well-formed model with an operator the engine does not support: the error names it
  const erf = buildModel({
    input: { name: 'input', shape: [null, 1, 28, 28] },
    output: { name: 'logits', shape: [null, 1, 28, 28] },
    nodes: [{ op: 'Erf', name: 'my_erf', inputs: ['input'], outputs: ['logits'] }],
  });
  await page.evaluate(() => document.getElementById('status').removeAttribute('data-kind'));
  await page.setInputFiles('#model-file', { name: 'erf.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(erf) });
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  assert.match(await page.textContent('#status'), /Could not use your model "erf\.onnx".*unsupported ONNX operator 'Erf' \(node 'my_erf'\)/);
  await shot(page, '25-broken-model');
  assert.equal(await page.inputValue('#model'), 'mlp');
  const r = await stroke(page, ONE);
  assert.equal(r.model, 'mlp');
  assert.equal(r.prediction, 1, 'the MLP still works after the failed load');
});

test('no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});
