// Unit tests of the demo's MNIST-style preprocessing (web/demo/preprocess.js), in Node.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  SIZE,
  BOX,
  rgbaToGrey,
  boundingBox,
  crop,
  resizeArea,
  fitSize,
  fitToBox,
  centerOfMass,
  placeByCenterOfMass,
  preprocess,
  imageToGrey,
} from '../web/demo/preprocess.js';

/** A w×h black image with white filled rectangles [x0, x1) × [y0, y1). */
function image(w, h, rects, value = 1) {
  const g = new Float32Array(w * h);
  for (const [x0, y0, x1, y1] of rects) {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) g[y * w + x] = value;
  }
  return g;
}

const sum = (a) => a.reduce((s, v) => s + v, 0);

/** Bounding box of the non-zero pixels of a 28×28 result. */
const box28 = (x) => boundingBox(x, SIZE, SIZE, 0);

test('boundingBox finds the extent of the ink, exclusive end, null when empty', () => {
  const g = image(50, 40, [[10, 5, 20, 8], [15, 30, 17, 35]]);
  assert.deepEqual(boundingBox(g, 50, 40), { x0: 10, y0: 5, x1: 20, y1: 35 });
  assert.equal(boundingBox(new Float32Array(50 * 40), 50, 40), null);
  // faint pixels under the threshold are ignored
  const faint = image(10, 10, [[2, 2, 4, 4]], 0.02);
  assert.equal(boundingBox(faint, 10, 10, 0.05), null);
  assert.deepEqual(boundingBox(faint, 10, 10, 0), { x0: 2, y0: 2, x1: 4, y1: 4 });
});

test('crop copies exactly the bounding box', () => {
  const g = image(10, 10, [[3, 4, 6, 9]]);
  g[4 * 10 + 3] = 0.5;
  const c = crop(g, 10, { x0: 3, y0: 4, x1: 6, y1: 9 });
  assert.equal(c.width, 3);
  assert.equal(c.height, 5);
  assert.equal(c.data[0], 0.5);
  assert.equal(sum(c.data), 3 * 5 - 0.5);
});

test('resizeArea averages areas (mass scales with the area ratio) and is exact on uniform input', () => {
  const src = new Float32Array(100 * 60).fill(0.7);
  const out = resizeArea(src, 100, 60, 20, 12);
  for (const v of out) assert.ok(Math.abs(v - 0.7) < 1e-5);
  // a 2×2 checker block downscaled by 2 → 0.5 everywhere (anti-aliased, no aliasing)
  const checker = new Float32Array(8 * 8).map((_, i) => ((i % 8) + Math.floor(i / 8)) % 2);
  for (const v of resizeArea(checker, 8, 8, 4, 4)) assert.ok(Math.abs(v - 0.5) < 1e-6);
  // non-integer ratios keep the mean
  const rnd = new Float32Array(37 * 23).map((_, i) => (i * 7919) % 13 / 13);
  const small = resizeArea(rnd, 37, 23, 11, 7);
  assert.ok(Math.abs(sum(small) / small.length - sum(rnd) / rnd.length) < 1e-4);
});

test('fitSize / fitToBox fit 20×20 keeping the aspect ratio', () => {
  assert.deepEqual(fitSize(100, 50), { width: 20, height: 10 });
  assert.deepEqual(fitSize(50, 100), { width: 10, height: 20 });
  assert.deepEqual(fitSize(300, 300), { width: 20, height: 20 });
  assert.deepEqual(fitSize(400, 20), { width: 20, height: 1 });
  assert.deepEqual(fitSize(3, 400), { width: 1, height: 20 });
  assert.deepEqual(fitSize(7, 5), { width: 20, height: 14 }); // small drawings are scaled up
  const f = fitToBox({ data: new Float32Array(60 * 240).fill(1), width: 60, height: 240 });
  assert.equal(f.width, 5);
  assert.equal(f.height, 20);
  assert.equal(BOX, 20);
});

test('placeByCenterOfMass puts the centre of mass at (14, 14) and keeps the mass', () => {
  // An L shape: mass is off-centre within its box.
  const img = { data: image(12, 20, [[0, 0, 3, 20], [0, 17, 12, 20]]), width: 12, height: 20 };
  const out = placeByCenterOfMass(img);
  const c = centerOfMass(out, SIZE, SIZE);
  assert.ok(Math.abs(c.x - 14) < 1e-4 && Math.abs(c.y - 14) < 1e-4, `centre of mass ${c.x}, ${c.y}`);
  assert.ok(Math.abs(c.mass - sum(img.data)) < 1e-3);
  assert.equal(sum(placeByCenterOfMass({ data: new Float32Array(4), width: 2, height: 2 })), 0);
});

test('preprocess: a tall bar (a "1") → 28×28 in [0,1], box height 20, centred', () => {
  const W = 280;
  const g = image(W, W, [[120, 30, 150, 250]]); // 30 wide, 220 tall
  const x = preprocess(g, W, W);
  assert.ok(x instanceof Float32Array);
  assert.equal(x.length, 784);
  for (const v of x) assert.ok(v >= 0 && v <= 1, `value ${v} out of [0,1]`);
  assert.ok(Math.max(...x) > 0.999, 'brightest pixel is 1');
  const c = centerOfMass(x, SIZE, SIZE);
  assert.ok(Math.abs(c.x - 14) < 0.5 && Math.abs(c.y - 14) < 0.5, `centre of mass ${c.x}, ${c.y}`);
  const b = box28(x);
  // 20 tall (+1 for a sub-pixel shift), about 30·20/220 ≈ 3 wide
  assert.ok(b.y1 - b.y0 >= 20 && b.y1 - b.y0 <= 21, `height ${b.y1 - b.y0}`);
  assert.ok(b.x1 - b.x0 >= 3 && b.x1 - b.x0 <= 4, `width ${b.x1 - b.x0}`);
});

test('preprocess: a wide shape fits 20 wide, aspect ratio kept, position/scale invariant', () => {
  const W = 300;
  const a = preprocess(image(W, W, [[20, 100, 220, 150], [20, 150, 60, 200]]), W, W);
  // the same shape, twice as large and elsewhere
  const b = preprocess(image(600, 600, [[200, 40, 600, 140], [200, 140, 280, 240]]), 600, 600);
  const ba = box28(a);
  assert.ok(ba.x1 - ba.x0 >= 20 && ba.x1 - ba.x0 <= 21, `width ${ba.x1 - ba.x0}`);
  assert.ok(ba.y1 - ba.y0 >= 10 && ba.y1 - ba.y0 <= 11, `height ${ba.y1 - ba.y0}`);
  let diff = 0;
  for (let i = 0; i < 784; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  assert.ok(diff < 1e-3, `translation/scale changed the result by ${diff}`);
  for (const x of [a, b]) {
    const c = centerOfMass(x, SIZE, SIZE);
    assert.ok(Math.abs(c.x - 14) < 0.5 && Math.abs(c.y - 14) < 0.5, `centre of mass ${c.x}, ${c.y}`);
  }
});

test('preprocess: off-centre mass (a "7"-like shape) still has its centre of mass at (14, 14)', () => {
  const W = 200;
  const g = image(W, W, [[40, 30, 160, 50]]);
  for (let y = 50; y < 170; y++) {
    const x = Math.round(150 - (y - 50) * 0.6);
    for (let dx = -8; dx < 8; dx++) g[y * W + x + dx] = 1;
  }
  const x = preprocess(g, W, W);
  const c = centerOfMass(x, SIZE, SIZE);
  assert.ok(Math.abs(c.x - 14) < 0.5 && Math.abs(c.y - 14) < 0.5, `centre of mass ${c.x}, ${c.y}`);
  assert.equal(x[0], 0); // corners stay black
  assert.equal(x[783], 0);
});

test('preprocess: empty or blank-noise drawing → null (no prediction); wrong size throws', () => {
  assert.equal(preprocess(new Float32Array(100 * 100), 100, 100), null);
  assert.equal(preprocess(new Float32Array(100 * 100).fill(0.01), 100, 100), null);
  assert.throws(() => preprocess(new Float32Array(10), 5, 5), /expected 5×5 = 25 values, got 10/);
});

test('preprocess: a single dot is accepted and lands in the centre', () => {
  const g = image(100, 100, [[3, 90, 5, 92]]);
  const x = preprocess(g, 100, 100);
  const c = centerOfMass(x, SIZE, SIZE);
  assert.ok(Math.abs(c.x - 14) < 0.5 && Math.abs(c.y - 14) < 0.5);
});

test('rgbaToGrey: white is 1, black 0, transparent counts as black', () => {
  const rgba = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 0, 128, 128, 128, 255]);
  const g = rgbaToGrey(rgba);
  assert.equal(g.length, 4);
  assert.ok(Math.abs(g[0] - 1) < 1e-6);
  assert.equal(g[1], 0);
  assert.equal(g[2], 0);
  assert.ok(Math.abs(g[3] - 128 / 255) < 1e-3);
});

/** RGBA bytes of a w×h image filled with `bg` (an [r, g, b]) and rectangles of colour `ink`. */
function rgbaImage(w, h, bg, ink, rects) {
  const d = new Uint8ClampedArray(4 * w * h);
  for (let i = 0; i < w * h; i++) d.set([...bg, 255], 4 * i);
  for (const [x0, y0, x1, y1] of rects) {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) d.set([...ink, 255], 4 * (y * w + x));
  }
  return d;
}

test('imageToGrey: dark ink on light paper is inverted to white on black, the paper becomes 0', () => {
  const rgba = rgbaImage(60, 40, [240, 236, 225], [20, 20, 30], [[28, 5, 33, 35]]);
  const { grey, inverted, background } = imageToGrey(rgba, 60, 40);
  assert.equal(inverted, true);
  assert.ok(background < 0.1, `background level ${background}`);
  assert.equal(grey[0], 0, 'paper → black');
  assert.ok(grey[20 * 60 + 30] > 0.9, `ink → ${grey[20 * 60 + 30]}`);
  const x = preprocess(grey, 60, 40);
  const b = boundingBox(x, SIZE, SIZE, 0);
  assert.ok(b.y1 - b.y0 >= 20, 'the stroke is fitted to 20 pixels like MNIST');
});

test('imageToGrey: light ink on a dark (grey) background is kept, its background level removed', () => {
  const rgba = rgbaImage(30, 30, [50, 50, 50], [255, 255, 255], [[10, 10, 20, 20]]);
  const { grey, inverted } = imageToGrey(rgba, 30, 30);
  assert.equal(inverted, false);
  assert.equal(grey[0], 0);
  assert.ok(Math.abs(grey[15 * 30 + 15] - 1) < 1e-6);
  assert.throws(() => imageToGrey(new Uint8Array(7), 2, 2), /expected 16 RGBA bytes, got 7/);
});

// Reference: the definition of the pipeline's steps. The crop, the area-averaging resize and the centre-of-mass
// splat are linear maps that move the centre of mass affinely, so the transform must carry the drawing's centre of
// mass onto the field's, and fieldRect must carry the field back onto the drawing (the digit's bounding box).
test('preprocessWithTransform: the transform maps the drawing onto the field, fieldRect maps it back', async () => {
  const { preprocessWithTransform, fieldRect } = await import('../web/demo/preprocess.js');
  const cases = [
    [100, 60, [[10, 5, 20, 50], [20, 40, 70, 50]]], // an L, wider than tall
    [280, 280, [[120, 30, 160, 250]]], // a bar, taller than wide
    [50, 50, [[0, 0, 50, 10], [40, 0, 50, 50]]], // touching the edges
  ];
  for (const [w, h, rects] of cases) {
    const grey = image(w, h, rects);
    const out = preprocessWithTransform(grey, w, h);
    assert.ok(out, 'something is drawn');
    assert.deepEqual(Array.from(out.input), Array.from(preprocess(grey, w, h)), 'the same input as preprocess()');
    const { box, scaleX, scaleY, offsetX, offsetY } = out.transform;
    const drawn = centerOfMass(grey, w, h);
    const field = centerOfMass(out.input, SIZE, SIZE);
    assert.ok(Math.abs(offsetX + scaleX * (drawn.x - box.x0) - field.x) < 0.02, `x: ${field.x}`);
    assert.ok(Math.abs(offsetY + scaleY * (drawn.y - box.y0) - field.y) < 0.02, `y: ${field.y}`);
    const rect = fieldRect(out.transform);
    const back = (u, v) => [rect.x + (u * rect.width) / SIZE, rect.y + (v * rect.height) / SIZE];
    const [x0, y0] = back(offsetX, offsetY);
    assert.ok(Math.abs(x0 - box.x0) < 1e-9 && Math.abs(y0 - box.y0) < 1e-9, 'the field corner of the digit is its box corner');
    const [fx, fy] = back(field.x, field.y);
    assert.ok(Math.abs(fx - drawn.x) < 0.1 && Math.abs(fy - drawn.y) < 0.1, `centre of mass back on the drawing: ${fx}, ${fy}`);
  }
  assert.equal(preprocessWithTransform(new Float32Array(16), 4, 4), null, 'nothing drawn');
});
