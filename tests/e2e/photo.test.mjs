// Browser tests of the demo's photo mode (issue 13): a photo classifier — the bundled shapes CNN, or a model file —
// explains photos: centre crop, normalisation presets whose z-box bounds follow them, class names and the top 5,
// the heatmap over the photo (and over the drawing, for MNIST), downloads, cancelling, and the main-thread rule.
// References: the shapes photos' known labels and object boxes (scripts/train_shapes.py), PyTorch's top-5 for the
// committed photo on the committed 1,000-output model (tests/e2e/fixtures/photo/reference.json, compared within the
// tolerance of the browser's resize), torchvision's ImageNet names, and the normalisation formula itself.
//   node --test --test-concurrency=1 tests/e2e/photo.test.mjs
// Screenshots go to test-output/e2e/ (git-ignored): photo-shapes.png, photo-imagenet.png, photo-drawing.png.
import { test, before, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setup, waitReady, after, stroke, shot, ONE, TIMEOUT, noProblems, ROOT } from './helpers.mjs';
import { readPhotoReference, compareTop5 } from './photo-reference.mjs';

const SHAPES = path.join(ROOT, 'web', 'models', 'shapes-photos');
const shapesIndex = JSON.parse(readFileSync(path.join(SHAPES, 'index.json'), 'utf8'));
const FIXTURE = path.join(ROOT, 'tests', 'e2e', 'fixtures', 'photo');
const IMAGENET = JSON.parse(readFileSync(path.join(ROOT, 'web', 'demo', 'imagenet-labels.json'), 'utf8'));
const IMAGENET_MEAN = [0.485, 0.456, 0.406], IMAGENET_STD = [0.229, 0.224, 0.225];

let env, page;
before(async () => {
  env = await setup();
  page = await env.newPage();
  await page.goto(env.server.url);
  await waitReady(page);
});
afterAll(() => env?.close());

const lastResult = () => page.evaluate(() => window.__lrpDemo.lastResult);

/** Waits for a painted result of `source` (a photo's file name) with a predicate on it; returns it. */
async function resultFor(source, ok = () => true, what = source) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const r = await lastResult();
    if (r && r.source === source && ok(r)) {
      const settled = await page.evaluate(() => window.__lrpDemo.painted >= window.__lrpDemo.requested);
      if (settled) return r;
    }
    if (Date.now() > deadline) throw new Error(`no result for ${what}: ${JSON.stringify(r && { source: r.source, method: r.method })}, status: ${await page.textContent('#status')}`);
    await page.waitForTimeout(50);
  }
}

/** Which share of the overlay's red (positive) ink lies inside `box` (fractions of the overlay canvas). */
function redShareInside(box) {
  return page.evaluate((b) => {
    const c = document.getElementById('photo-heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let inside = 0, total = 0;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = 4 * (y * c.width + x);
        if (!(d[i] > d[i + 2] + 10)) continue; // red: positive relevance
        const a = d[i + 3];
        total += a;
        if (x >= b.x0 * c.width && x < b.x1 * c.width && y >= b.y0 * c.height && y < b.y1 * c.height) inside += a;
      }
    }
    return { share: total > 0 ? inside / total : 0, total };
  }, box);
}

/** The PNG a click on `button` downloads: its file name and size. */
async function download(button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const bytes = readFileSync(await file.path());
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  return { name: file.suggestedFilename(), width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('the shapes model: photo mode, a sample explained, then a committed photo — its label, the heatmap over it on the object', async () => {
  await page.selectOption('#model', 'shapes');
  const sample = await resultFor(shapesIndex[0].file);
  assert.equal(await page.evaluate(() => document.body.dataset.mode), 'photo');
  assert.equal(sample.mode, 'photo');
  assert.equal(sample.predictionName, shapesIndex[0].label, 'the first sample photo is explained when the model is chosen');
  assert.equal(await page.isVisible('#canvas'), false, 'no drawing canvas in photo mode');
  assert.equal(await page.inputValue('#method'), 'epsilon-gamma-box');
  assert.equal(await page.inputValue('#preset'), 'imagenet', 'ImageNet mean/std is the default for 3 channels');

  // a wide photo (320×240) through the file input: the centre 240×240 is the model's 64×64
  const wide = shapesIndex.find((s) => s.width !== s.height);
  await page.setInputFiles('#photo-file', path.join(SHAPES, wide.file));
  const r = await resultFor(wide.file);
  assert.equal(r.predictionName, wide.label, `${wide.file} is a ${wide.label}`);
  assert.equal(r.top5.length, 5);
  assert.equal(r.top5[0].name, wide.label);
  assert.ok(r.top5.every((t, k) => k === 0 || t.logit <= r.top5[k - 1].logit), 'top 5 in decreasing order');
  assert.match(await page.textContent('#top5'), new RegExp(wide.label));
  assert.match(await page.textContent('#status'), new RegExp(`Predicted ${wide.label} \\(\\d+\\.\\d %\\) for ${wide.file}`));
  const photo = await page.evaluate(() => window.__lrpDemo.photo);
  assert.deepEqual(photo.crop, { x: 40, y: 0, width: 240, height: 240 }, 'scaled on the shorter side, centre-cropped');
  assert.match(await page.textContent('#photo-caption'), /320×240, its centre 240×240 scaled to the model's 64×64/);

  // the heatmap is drawn over the photo at the size it is shown
  const boxes = await page.evaluate(() => {
    const rect = (id) => { const b = document.getElementById(id).getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
    const c = document.getElementById('photo-heatmap');
    return { photo: rect('photo'), heat: rect('photo-heatmap'), pixels: [c.width, c.height], dpr: devicePixelRatio };
  });
  assert.deepEqual(boxes.heat, boxes.photo, 'the overlay covers the photo exactly');
  assert.ok(boxes.photo[2] >= 300, `the photo is the main picture (${boxes.photo[2]} px wide)`);
  assert.deepEqual(boxes.pixels, [Math.round(boxes.photo[2] * boxes.dpr), Math.round(boxes.photo[3] * boxes.dpr)], 'at the display resolution');
  assert.deepEqual(r.overlay && [r.overlay.width, r.overlay.height], boxes.pixels);
  // its positive relevance sits on the object: the object's box, in the crop's fractions (the pointing game)
  const [bx0, by0, bx1, by1] = wide.box;
  const c = photo.crop;
  const inside = await redShareInside({ x0: (bx0 - c.x) / c.width, y0: (by0 - c.y) / c.height, x1: (bx1 - c.x) / c.width, y1: (by1 - c.y) / c.height });
  const area = ((bx1 - bx0) * (by1 - by0)) / (c.width * c.height);
  assert.ok(inside.total > 0, 'the overlay has positive relevance');
  assert.ok(inside.share > Math.max(0.5, 2 * area), `${(inside.share * 100).toFixed(0)} % of the red ink inside the object's box (${(area * 100).toFixed(0)} % of the photo)`);
  await shot(page, 'photo-shapes');
});

test('the z-box bounds follow the preset; changing the preset changes the input by the normalisation formula', async () => {
  const file = (await lastResult()).source;
  const before = await lastResult();
  // ImageNet's: low = (0 − mean) / std, high = (1 − mean) / std per channel, passed as one value per channel
  IMAGENET_MEAN.forEach((m, k) => {
    assert.ok(Math.abs(before.options.low[k] - (0 - m) / IMAGENET_STD[k]) < 1e-9);
    assert.ok(Math.abs(before.options.high[k] - (1 - m) / IMAGENET_STD[k]) < 1e-9);
  });
  assert.equal(await page.isVisible('#low'), false, 'the preset sets the bounds: no low/high inputs');
  assert.match(await page.textContent('#preset-help'), /low = \[-2\.118, -2\.036, -1\.804\], high = \[2\.249, 2\.429, 2\.64\]/);

  const unit = await after(page, 'preset', () => page.selectOption('#preset', 'unit'));
  assert.equal(unit.source, file);
  assert.deepEqual(unit.options, { low: [0, 0, 0], high: [1, 1, 1] });
  // the same pixels: mean_[0,1] = mean_imagenet · std + mean, channel by channel
  unit.inputStats.mean.forEach((m, k) => {
    const fromImagenet = before.inputStats.mean[k] * IMAGENET_STD[k] + IMAGENET_MEAN[k];
    assert.ok(Math.abs(m - fromImagenet) < 1e-4, `channel ${k}: ${m} vs ${fromImagenet}`);
  });
  assert.notDeepEqual(unit.logits, before.logits, 'a different input, different logits');

  await page.selectOption('#preset', 'custom');
  await page.fill('#preset-mean', '0.5');
  await page.fill('#preset-std', '0.25, 0.5, 1');
  const custom = await after(page, 'preset', () => page.locator('#preset-std').dispatchEvent('change'));
  assert.deepEqual(custom.options, { low: [-2, -1, -0.5], high: [2, 1, 0.5] });
  custom.inputStats.mean.forEach((m, k) => {
    const want = (unit.inputStats.mean[k] - 0.5) / [0.25, 0.5, 1][k];
    assert.ok(Math.abs(m - want) < 1e-4, `custom channel ${k}: ${m} vs ${want}`);
  });

  // a value that is not a number is named, and the last good normalisation kept
  const requested = await page.evaluate(() => window.__lrpDemo.requested);
  await page.fill('#preset-std', '0.25, zero, 1');
  await page.locator('#preset-std').dispatchEvent('change');
  assert.match(await page.textContent('#preset-help'), /std: 'zero' is not a number — the previous normalisation is kept/);
  assert.equal(await page.evaluate(() => window.__lrpDemo.requested), requested, 'no request for a bad value');

  await page.selectOption('#preset', 'imagenet');
  await page.waitForFunction(() => window.__lrpDemo.lastResult?.options.low?.[0] < -2);
});

test('a labels file names the classes: prediction, top 5, target menu', async () => {
  const names = ['CIRCLE', 'SQUARE', 'TRIANGLE', 'STAR', 'PLUS', 'RING'];
  // the last result is painted again with the names (nothing to compute)
  await page.setInputFiles('#labels-file', { name: 'upper.txt', mimeType: 'text/plain', buffer: Buffer.from(names.join('\n')) });
  await page.waitForFunction(() => window.__lrpDemo.lastResult?.predictionName === 'STAR');
  const r = await lastResult();
  assert.equal(r.top5[0].name, 'STAR');
  assert.match(await page.textContent('#labels-help'), /6 class names \(upper\.txt\)/);
  const options = await page.$$eval('#target-a option', (os) => os.map((o) => o.textContent));
  assert.deepEqual(options, names.map((n, k) => `${k} · ${n}`));
  // a file that is not a labels file is named, the names stay
  await page.setInputFiles('#labels-file', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"a": 1}') });
  await page.waitForFunction(() => document.getElementById('labels-help').classList.contains('error'));
  assert.match(await page.textContent('#labels-help'), /could not be used: a JSON labels file must be an array of names/);
  assert.equal(await page.textContent('#prediction'), 'STAR');
});

test('downloads: the heatmap at the model resolution and over the photo at the photo resolution', async () => {
  const model = await download('#download');
  assert.match(model.name, /^lrp-shapes-epsilon-gamma-box-class3-STAR\.png$/);
  assert.deepEqual([model.width, model.height], [256, 256], '64×64 cells, 4 px each');
  const picture = await download('#download-photo');
  assert.match(picture.name, /^lrp-shapes-epsilon-gamma-box-class3-STAR-photo\.png$/);
  assert.deepEqual([picture.width, picture.height], [240, 240], 'the crop in the photo\'s own pixels');
});

test('a 24-megapixel photo: decoded, cropped and composed off the main thread (no task over 100 ms)', async () => {
  // a 6000×4000 JPEG made in a worker of the page (so that making it is not the page's own long task)
  const base64 = await page.evaluate(async () => {
    const code = `onmessage = async () => {
      const c = new OffscreenCanvas(6000, 4000), g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, 6000, 4000);
      grad.addColorStop(0, '#2a6'); grad.addColorStop(1, '#a4c');
      g.fillStyle = grad; g.fillRect(0, 0, 6000, 4000);
      g.fillStyle = '#e23'; g.beginPath(); g.arc(3000, 2000, 900, 0, 2 * Math.PI); g.fill();
      const bytes = new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
      let s = ''; for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768));
      postMessage(btoa(s));
    };`;
    const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })));
    const out = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(0); });
    w.terminate();
    return out;
  });
  await page.evaluate(() => { window.__lrpDemo.maxLongTask = 0; window.__lrpDemo.longTasks.length = 0; });
  await page.setInputFiles('#photo-file', { name: 'big.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(base64, 'base64') });
  const r = await resultFor('big.jpg');
  assert.equal(r.predictionName, 'CIRCLE', 'named by the labels file given above');
  assert.match(await page.textContent('#photo-caption'), /big\.jpg: 6000×4000 \(kept at 4096×2731\), its centre 4000×4000 scaled to the model's 64×64/);
  const picture = await download('#download-photo');
  assert.deepEqual([picture.width, picture.height], [2731, 2731], 'the crop at the resolution the photo is kept at');
  await page.waitForTimeout(300); // a long task is reported after it ends
  const longest = await page.evaluate(() => window.__lrpDemo.maxLongTask);
  assert.ok(longest < 100, `longest main-thread task ${longest} ms`);
  // back to the star for the tests below
  const wide = shapesIndex.find((s) => s.width !== s.height);
  await page.setInputFiles('#photo-file', path.join(SHAPES, wide.file));
  await resultFor(wide.file);
});

test('a file that is not a photo is named on the page; the last photo stays explained', async () => {
  const before = await lastResult();
  await page.setInputFiles('#photo-file', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a png at all') });
  await page.waitForFunction(() => document.getElementById('status').dataset.kind === 'error');
  assert.match(await page.textContent('#status'), /Could not use the photo: 'broken\.png' is not an image this browser can decode/);
  const after = await lastResult();
  assert.equal(after.id, before.id, 'nothing new was explained');
  assert.equal(after.source, before.source);
});

test('an SVG photo is drawn, then explained like any other', async () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="#3a8"/>' +
    '<circle cx="150" cy="100" r="60" fill="#d33"/></svg>';
  await page.setInputFiles('#photo-file', { name: 'circle.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(svg) });
  const r = await resultFor('circle.svg');
  assert.equal(r.top5.length, 5);
  assert.equal(await page.evaluate(() => window.__lrpDemo.error), null, 'the broken file\'s error is gone once a photo is explained');
  assert.match(await page.textContent('#photo-caption'), /circle\.svg: 2048×1365, its centre 1365×1365/);
  const wide = shapesIndex.find((s) => s.width !== s.height);
  await page.setInputFiles('#photo-file', path.join(SHAPES, wide.file));
  await resultFor(wide.file);
});

test('a new method or target cancels the stale request; a busy state shows; the main thread stays free', async () => {
  // integrated gradients with 256 steps: a few hundred ms or more on the shapes CNN — then the target changes
  const source = (await lastResult()).source;
  await page.selectOption('#method', 'integrated-gradients');
  await resultFor(source, (x) => x.method === 'integrated-gradients');
  const cancelled = await page.evaluate(() => window.__lrpDemo.cancelled);
  await page.fill('#steps', '256');
  await page.locator('#steps').dispatchEvent('change');
  await page.waitForFunction(() => document.body.dataset.busy === '1', null, { timeout: TIMEOUT });
  assert.match(await page.textContent('#busy-text'), /\d+\.\d s/, 'the busy state shows the elapsed time');
  await page.selectOption('#target-kind', 'class');
  await page.selectOption('#target-a', '0');
  const r = await resultFor(source, (x) => x.method === 'integrated-gradients' && x.target === 0, 'class 0');
  assert.equal(r.target, 0);
  const d = await page.evaluate(() => ({ cancelled: window.__lrpDemo.cancelled, error: window.__lrpDemo.error }));
  assert.ok(d.cancelled > cancelled, `stale requests cancelled (${d.cancelled - cancelled})`);
  assert.equal(await page.locator('#status').getAttribute('data-kind') === 'error', false, await page.textContent('#status'));
  await page.selectOption('#target-kind', 'predicted');
  await page.selectOption('#method', 'epsilon-gamma-box');
  await resultFor(r.source, (x) => x.method === 'epsilon-gamma-box' && x.targetSpec.kind === 'predicted');
  // no engine on the page's thread, and no task of it over 100 ms
  const here = await page.evaluate(async () => {
    const lib = await import('/dist/lrp-wasm.js');
    return { threads: lib.engineThreads(), memory: lib.engineMemoryBytes(), longest: window.__lrpDemo.maxLongTask };
  });
  assert.deepEqual([here.threads, here.memory], [0, 0], 'the engine runs in the worker only');
  assert.ok(here.longest < 100, `longest main-thread task ${here.longest} ms`);
});

test('a 1,000-output model file: ImageNet names, the top 5 of PyTorch for the committed photo, no 1,000 bars', async () => {
  await page.setInputFiles('#model-file', path.join(FIXTURE, 'random-1000.onnx'));
  await page.waitForFunction(() => window.__lrpDemo.modelName === 'custom' && document.body.dataset.state === 'ready');
  await page.setInputFiles('#photo-file', path.join(FIXTURE, 'photo.png'));
  const r = await resultFor('photo.png');
  const ref = readPhotoReference(path.join(FIXTURE, 'reference.json'));
  assert.deepEqual(compareTop5(r.top5, ref), [], 'the page\'s top 5 is PyTorch\'s within the resize tolerance');
  r.top5.forEach((t) => assert.equal(t.name, IMAGENET[t.class], `class ${t.class}`));
  assert.match(await page.textContent('#labels-help'), /1,000 class names \(ImageNet-1k, built in\)/);
  assert.equal(await page.textContent('#prediction'), IMAGENET[r.prediction]);
  assert.equal(await page.isVisible('#scores'), false, 'the top 5 instead of 1,000 bars');
  assert.equal(await page.locator('#target-a option').count(), 1000);
  assert.equal(await page.locator('#target-a option').nth(207).textContent(), `207 · ${IMAGENET[207]}`);
  assert.match(await page.textContent('#model-summary'), /input 3×96×96 · 1000 outputs · \d+ layers · [\d.]+ M operations per pass · [\d.]+ k parameters/);
  await shot(page, 'photo-imagenet', { fullPage: true });
});

test('back to MNIST: draw mode, and the heatmap over the drawing lies on the stroke', async () => {
  await page.selectOption('#model', 'mlp');
  await page.waitForFunction(() => document.body.dataset.mode === 'draw' && document.body.dataset.state === 'ready');
  assert.equal(await page.isVisible('#photo'), false);
  const box = await page.locator('#canvas').boundingBox();
  // a '1' to the right of the centre: the 28×28 field is centred on it, so the overlay must be mapped back
  const right = ONE.map(([x, y]) => [x + 0.2, y * 0.7 + 0.1]);
  const r = await after(page, 'pointerup', () => stroke(page, right));
  assert.equal(r.mode, 'draw');
  const ink = await page.evaluate(() => {
    const c = document.getElementById('canvas-heatmap');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sx = 0, sy = 0, m = 0;
    for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
      const a = d[4 * (y * c.width + x) + 3];
      sx += a * x; sy += a * y; m += a;
    }
    return { x: sx / m / c.width, y: sy / m / c.height, m, size: [c.width, c.height], canvas: [document.getElementById('canvas').width, document.getElementById('canvas').height] };
  });
  assert.deepEqual(ink.size, ink.canvas, 'as large as the drawing canvas');
  assert.ok(ink.m > 0, 'the overlay is painted');
  assert.ok(Math.abs(ink.x - 0.7) < 0.08, `the relevance is centred on the stroke's x (0.7): ${ink.x.toFixed(3)}`);
  assert.ok(Math.abs(ink.y - 0.45) < 0.12, `and on its y (0.45): ${ink.y.toFixed(3)}`);
  await shot(page, 'photo-drawing');
});

test('photo mode on a phone-sized screen: no horizontal scrolling, the photo fits', async () => {
  const phone = await env.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  try {
    await phone.goto(env.server.url);
    await waitReady(phone);
    await phone.selectOption('#model', 'shapes');
    await phone.waitForFunction(() => window.__lrpDemo.lastResult?.mode === 'photo', null, { timeout: TIMEOUT });
    const m = await phone.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
      photo: document.getElementById('photo').getBoundingClientRect().width,
      overlay: document.getElementById('photo-heatmap').width,
    }));
    assert.ok(m.scroll <= m.client, `no horizontal scrolling (${m.scroll} > ${m.client})`);
    assert.ok(m.photo > 250 && m.photo <= m.client, `the photo fits the screen (${m.photo} px)`);
    assert.equal(m.overlay, Math.round(m.photo * 2), 'the overlay at the phone\'s pixel density');
    await shot(phone, 'photo-phone', { fullPage: false });
  } finally {
    await phone.context().close();
  }
});

test('photo mode: no console errors, page errors, failed or foreign requests', () => {
  assert.deepEqual(env.problems, noProblems, JSON.stringify(env.problems, null, 2));
});
