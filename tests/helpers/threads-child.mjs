// Run by tests/threads.test.mjs in a child process (one engine per process, and threads are fixed when it
// starts): `node threads-child.mjs THREADS` loads models with { threads: THREADS }, predicts and explains, and
// prints one JSON line: the engine's thread count and every result as base64 float32 bytes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, engineThreads } from 'lrp-wasm';
import { readFloat32 } from './golden.mjs';

const threads = Number(process.argv[2]);
const fixture = (path) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const bytes = (array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
const results = {};

const resnet = await loadModel(fixture('resnet-small/model.onnx'), { threads });
const reference = JSON.parse(readFileSync(fixture('resnet-small/reference.json'), 'utf8'));
const size = reference.input_shape.reduce((a, b) => a * b, 1);
const inputs = readFloat32(fixture('resnet-small/inputs.f32'));
const x = inputs.slice(0, size);
results['resnet-small predict'] = bytes(resnet.predict(x));
for (const composite of ['epsilon-plus-flat', 'epsilon-gamma-box', 'epsilon-alpha2-beta1']) {
  const r = resnet.explain(x, { composite, low: -3, high: 3 });
  results[`resnet-small ${composite} relevance`] = bytes(r.relevance);
  results[`resnet-small ${composite} output`] = bytes(r.output);
}
results['resnet-small gradient'] = bytes(resnet.explain(x, { method: 'gradient' }).relevance);
const batch = [0, 1, 2].map((k) => inputs.slice((k % reference.num_inputs) * size, (k % reference.num_inputs + 1) * size));
resnet.explainBatch(batch, { composite: 'epsilon-plus' }).forEach((r, k) => (results[`resnet-small batch ${k}`] = bytes(r.relevance)));
resnet.dispose();

const cnn = await loadModel(fileURLToPath(new URL('../../web/models/mnist-cnn.onnx', import.meta.url)));
const digit = new Float32Array(784).map((_, i) => ((i * 7919) % 97) / 96);
results['mnist-cnn predict'] = bytes(cnn.predict(digit));
results['mnist-cnn epsilon-plus-flat'] = bytes(cnn.explain(digit).relevance);
const mlp = await loadModel(fileURLToPath(new URL('../../web/models/mnist-mlp.onnx', import.meta.url)));
results['mnist-mlp epsilon-plus'] = bytes(mlp.explain(digit, { composite: 'epsilon-plus' }).relevance);

// Engine errors keep their message in every build (the pthreads build once turned them all into 'unknown engine
// error'): thrown in C++, caught by the bindings.
const errors = [];
for (const options of [{ composite: 'deep-taylor' }, { rules: { first: { rule: 'z-box', low: 2, high: 1 } } }]) {
  try {
    cnn.explain(digit, options);
    errors.push('no error');
  } catch (error) {
    errors.push(error.message);
  }
}

console.log(JSON.stringify({ threads: engineThreads(), results, errors }));
