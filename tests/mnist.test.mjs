// The bundled models, through the package as users load them: accuracy on all 10,000 MNIST test digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from 'lrp-wasm';
import { readMnist } from '../scripts/mnist.mjs';

const modelPath = (name) => fileURLToPath(new URL(`../web/models/${name}`, import.meta.url));
const { images, labels } = readMnist('test');

async function accuracy(name) {
  const model = await loadModel(modelPath(name));
  assert.deepEqual(model.inputShape, [1, 28, 28]);
  assert.equal(model.outputSize, 10);
  let correct = 0;
  const batch = 500;
  for (let start = 0; start < images.length; start += batch) {
    const logits = model.predictBatch(images.slice(start, start + batch));
    logits.forEach((l, i) => { if (l.indexOf(Math.max(...l)) === labels[start + i]) correct++; });
  }
  model.dispose();
  return correct / images.length;
}

test('mnist-mlp.onnx: at least 98.0% on the 10,000 MNIST test digits', async () => {
  assert.equal(images.length, 10000);
  const acc = await accuracy('mnist-mlp.onnx');
  console.log(`mnist-mlp test accuracy: ${(100 * acc).toFixed(2)}%`);
  assert.ok(acc >= 0.98, `accuracy ${(100 * acc).toFixed(2)}% < 98.0%`);
});

test('mnist-cnn.onnx: at least 99.0% on the 10,000 MNIST test digits', async () => {
  const acc = await accuracy('mnist-cnn.onnx');
  console.log(`mnist-cnn test accuracy: ${(100 * acc).toFixed(2)}%`);
  assert.ok(acc >= 0.99, `accuracy ${(100 * acc).toFixed(2)}% < 99.0%`);
});

test('mnist-cnn.onnx: batch-norms are folded and explanations favour the digit', async () => {
  const model = await loadModel(modelPath('mnist-cnn.onnx'));
  assert.ok(!model.layers.some((l) => l.kind === 'batchnorm'));
  assert.ok(model.layers.some((l) => l.kind === 'conv'));
  for (let k = 0; k < 20; k++) {
    const r = model.explain(images[k], { composite: 'epsilon-plus-flat' });
    assert.ok(r.relevance.every(Number.isFinite));
    assert.ok(r.relevance.reduce((a, b) => a + b, 0) > 0);
  }
  model.dispose();
});

test('mnist-mlp.onnx: explanations of real digits are finite and favour the digit', async () => {
  const model = await loadModel(modelPath('mnist-mlp.onnx'));
  for (let k = 0; k < 20; k++) {
    const r = model.explain(images[k], { composite: 'epsilon-plus-flat' });
    assert.ok(r.relevance.every(Number.isFinite));
    const total = r.relevance.reduce((a, b) => a + b, 0);
    assert.ok(total > 0, `digit ${k}: total relevance ${total} should be positive for the predicted class`);
  }
  model.dispose();
});

// The small ViT (scripts/train_mnist.py --model vit): 16 patches of 7×7 + a class token, 4 blocks of
// 4-head attention. Its accuracy through the package, its logits against onnxruntime-web (the
// independent referee; the training script checks the ONNX file against PyTorch), and the
// transformer explanations.
test('mnist-vit.onnx: at least 97.5% on the 10,000 MNIST test digits', async () => {
  const t0 = performance.now();
  const acc = await accuracy('mnist-vit.onnx');
  console.log(`mnist-vit test accuracy: ${(100 * acc).toFixed(2)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  assert.ok(acc >= 0.975, `accuracy ${(100 * acc).toFixed(2)}% < 97.5%`);
});

test('mnist-vit.onnx: logits match onnxruntime-web on 100 test digits', async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const bytes = readFileSync(modelPath('mnist-vit.onnx'));
  const session = await ort.InferenceSession.create(bytes);
  const model = await loadModel(bytes);
  const n = 100;
  const flat = new Float32Array(n * 784);
  for (let k = 0; k < n; k++) flat.set(images[k], k * 784);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', flat, [n, 1, 28, 28]) });
  const ref = out[session.outputNames[0]].data;
  const ours = model.predictBatch(images.slice(0, n));
  let maxDiff = 0;
  let maxLogit = 0;
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < 10; j++) {
      maxDiff = Math.max(maxDiff, Math.abs(ours[k][j] - ref[k * 10 + j]));
      maxLogit = Math.max(maxLogit, Math.abs(ref[k * 10 + j]));
    }
  }
  model.dispose();
  await session.release();
  // float32 with different summation orders over 4 blocks: ~1e-5 of the logits' scale
  console.log(`mnist-vit logits vs onnxruntime-web: max |diff| ${maxDiff.toExponential(2)} (largest |logit| ${maxLogit.toFixed(2)})`);
  assert.ok(maxDiff <= 1e-4 * Math.max(1, maxLogit), `max |logit diff| ${maxDiff} (largest |logit| ${maxLogit})`);
});

test('mnist-vit.onnx: attn-lrp and cp-lrp explain real digits; attention: true returns the 4 blocks\' weights', async () => {
  const model = await loadModel(modelPath('mnist-vit.onnx'));
  assert.equal(model.layers.filter((l) => l.kind === 'softmax').length, 4);
  for (let k = 0; k < 5; k++) {
    const x = images[k];
    for (const composite of ['attn-lrp', 'cp-lrp']) {
      const r = model.explain(x, { composite });
      assert.equal(r.target, labels[k], `digit ${k}: predicted ${r.target}, label ${labels[k]}`);
      assert.ok(r.relevance.every(Number.isFinite), `${composite}, digit ${k}: non-finite relevance`);
      // the patch embedding gets the ε-rule, R_i ∝ x_i: blank pixels carry none, the stroke carries it all
      let onStroke = 0;
      for (let i = 0; i < 784; i++) {
        if (x[i] === 0) assert.equal(r.relevance[i], 0, `${composite}, digit ${k}: blank pixel ${i} has relevance`);
        else onStroke += Math.abs(r.relevance[i]);
      }
      assert.ok(onStroke > 1e-3 * Math.abs(r.output[r.target]), `${composite}, digit ${k}: no relevance on the stroke`);
    }
    const { attention } = model.explain(x, { composite: 'attn-lrp', attention: true });
    assert.equal(attention.length, 4);
    for (const a of attention) {
      assert.deepEqual(Array.from(a.outputShape), [4, 17, 17]);
      // each row of each head is a distribution over the 17 tokens
      for (let row = 0; row < 4 * 17; row++) {
        let s = 0;
        for (let j = 0; j < 17; j++) s += a.weights[row * 17 + j];
        assert.ok(Math.abs(s - 1) < 1e-5, `${a.name}: row ${row} sums to ${s}`);
      }
    }
  }
  model.dispose();
});
