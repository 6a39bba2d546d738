// Unit tests of the demo's photo inputs (web/demo/photo.js) and labels (web/demo/labels.js), in Node.
// References: the formulas themselves, written out in float64 here (normalisation, z-box bounds, the centre crop of
// torchvision's Resize + CenterCrop, softmax).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  PRESETS, defaultPreset, normalisation, parseValues, boxBounds, centreCrop, photoInput, channelMeans, isPhotoModel,
} from '../web/demo/photo.js';
import { parseLabels, topK, className } from '../web/demo/labels.js';

const close = (a, b, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('presets: ImageNet mean/std for 3 channels, [0, 1] and [−1, 1], custom values; errors name the problem', () => {
  assert.equal(defaultPreset(3), 'imagenet');
  assert.equal(defaultPreset(1), 'unit');
  assert.deepEqual(normalisation('imagenet', 3), { mean: PRESETS.imagenet.mean, std: PRESETS.imagenet.std });
  assert.deepEqual(normalisation('symmetric', 3), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.deepEqual(normalisation('unit', 1), { mean: [0], std: [1] });
  assert.deepEqual(normalisation('custom', 3, { mean: [0.1, 0.2, 0.3], std: [2] }), { mean: [0.1, 0.2, 0.3], std: [2, 2, 2] });
  assert.throws(() => normalisation('imagenet', 1), /ImageNet's mean\/std are for 3 channels.*has 1/);
  assert.throws(() => normalisation('custom', 3, { mean: [0, 0], std: [1] }), /mean has 2 values; give one, or one per channel \(3\)/);
  assert.throws(() => normalisation('custom', 3, { mean: [0], std: [0] }), /std must be positive/);
  assert.throws(() => normalisation('zscore', 3), /unknown normalisation preset 'zscore'/);
  assert.deepEqual(parseValues('0.485, 0.456 0.406', 'mean'), [0.485, 0.456, 0.406]);
  assert.throws(() => parseValues('0.5, x', 'std'), /std: 'x' is not a number/);
  assert.throws(() => parseValues(' ', 'std'), /std: no values/);
  assert.throws(() => parseValues('1e309', 'mean'), /mean: '1e309' is too large/);
});

test('z-box bounds follow the preset: the normalised black and white of each channel', () => {
  const { low, high } = boxBounds(normalisation('imagenet', 3));
  [0.485, 0.456, 0.406].forEach((m, c) => {
    const s = [0.229, 0.224, 0.225][c];
    close(low[c], -m / s);
    close(high[c], (1 - m) / s);
  });
  assert.deepEqual(boxBounds(normalisation('symmetric', 1)), { low: [-1], high: [1] });
  assert.deepEqual(boxBounds(normalisation('unit', 3)), { low: [0, 0, 0], high: [1, 1, 1] });
});

test('centreCrop: the shorter side is scaled to the model, the centre is kept (torchvision Resize + CenterCrop)', () => {
  // 200×150 photo → 96×96: scale 96/150, the crop is the centre 150×150
  const a = centreCrop(200, 150, 96, 96);
  close(a.scale, 96 / 150);
  close(a.x, 25); close(a.y, 0); close(a.width, 150); close(a.height, 150);
  // portrait 300×600 → 224×224: the centre 300×300
  const b = centreCrop(300, 600, 224, 224);
  close(b.x, 0); close(b.y, 150); close(b.width, 300); close(b.height, 300);
  // a non-square model, 64 high × 128 wide, from a square photo: the photo is scaled to cover 128 wide
  const c = centreCrop(100, 100, 64, 128);
  close(c.width, 100); close(c.height, 50); close(c.y, 25);
  assert.throws(() => centreCrop(0, 10, 4, 4), /no pixels/);
});

test('photoInput: NCHW, per-channel normalised; luminance for one channel; channelMeans', () => {
  const rgba = Uint8Array.from([255, 0, 51, 255, 0, 255, 102, 255]); // two pixels, 1×2
  const norm = normalisation('imagenet', 3);
  const x = photoInput(rgba, 1, 2, 3, norm);
  const want = [(1 - 0.485) / 0.229, (0 - 0.485) / 0.229, (0 - 0.456) / 0.224, (1 - 0.456) / 0.224, (0.2 - 0.406) / 0.225, (0.4 - 0.406) / 0.225];
  want.forEach((v, i) => close(x[i], v, 1e-5));
  const grey = photoInput(rgba, 1, 2, 1, normalisation('symmetric', 1));
  close(grey[0], (0.299 + 0.114 * 0.2 - 0.5) / 0.5, 1e-5);
  const means = channelMeans(x, 3);
  close(means[0], (want[0] + want[1]) / 2, 1e-5);
  assert.throws(() => photoInput(rgba, 2, 2, 3, norm), /expected 16 RGBA bytes, got 8/);
  assert.throws(() => photoInput(rgba, 1, 2, 4, norm), /1- or 3-channel input \(this model's has 4\)/);
});

test('photo mode is every 1- or 3-channel image input except MNIST 1×28×28', () => {
  assert.equal(isPhotoModel({ C: 1, H: 28, W: 28 }), false);
  assert.equal(isPhotoModel({ C: 3, H: 28, W: 28 }), true);
  assert.equal(isPhotoModel({ C: 3, H: 224, W: 224 }), true);
  assert.equal(isPhotoModel({ C: 1, H: 64, W: 64 }), true);
  assert.equal(isPhotoModel(null), false);
});

test('labels: lines, JSON arrays, index objects and Keras pairs; top-k with softmax probabilities', () => {
  assert.deepEqual(parseLabels('cat\ndog\r\nbird\n'), ['cat', 'dog', 'bird']);
  assert.deepEqual(parseLabels('["cat", "dog"]'), ['cat', 'dog']);
  assert.deepEqual(parseLabels('{"1": "dog", "0": "cat"}'), ['cat', 'dog']);
  assert.deepEqual(parseLabels('{"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}'), ['tench', 'goldfish']);
  assert.deepEqual(parseLabels('{"0": "a", "2": "c"}'), ['a', 'class 1', 'c']);
  assert.throws(() => parseLabels('{"a": 1}'), /array of names or an object from class index to name/);
  assert.throws(() => parseLabels('[1, 2]'), /label 0 is not a name/);
  assert.throws(() => parseLabels('[oops'), /not valid JSON/);
  assert.throws(() => parseLabels('\n \n'), /no names/);
  assert.deepEqual(parseLabels('cat\n\ndog'), ['cat', null, 'dog'], 'a blank line: a class without a name');
  assert.equal(className(parseLabels('cat\n\ndog'), 1), 'class 1');
  assert.throws(() => parseLabels('PK\u0003\u0004\u0000\u0000binary'), /not text/);
  assert.throws(() => parseLabels('caf\uFFFD\nlatte'), /not text/);
  assert.equal(className(['a'], 0), 'a');
  assert.equal(className(['a'], 3), 'class 3');
  assert.equal(className(null, 2), 'class 2');

  const logits = [1, 3, -2, 3, 0.5, 2];
  const top = topK(logits, 3);
  assert.deepEqual(top.map((t) => t.class), [1, 3, 5], 'largest first; ties by class index');
  const z = logits.reduce((s, v) => s + Math.exp(v), 0);
  top.forEach((t) => close(t.probability, Math.exp(logits[t.class]) / z, 1e-12));
  assert.equal(topK(Float32Array.from([1e4, 0]), 1)[0].probability, 1, 'stable for large logits');
});
