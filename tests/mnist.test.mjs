// The bundled model, through the package as users load it: accuracy on all 10,000 MNIST test digits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
