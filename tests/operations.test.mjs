// The work estimate (issue 12): model.operations and layers[i].operations, loadModel's maxOperations, and the
// per-call check of integrated gradients and SmoothGrad.
//
// Reference of the counts: the ONNX files decoded here with onnx-proto (not through the importer), their shapes
// propagated node by node and each node's multiply-adds and comparisons computed by the closed-form formulas of
// docs/layers.md: Conv O·Ho·Wo·(I/group)·kH·kW, Gemm out·in, MaxPool/AveragePool C·(H·Wo·kW + Ho·Wo·kH),
// GlobalAveragePool C·H·W, element-wise operators and Flatten one per output value. A BatchNormalization after a
// Conv is folded into it and a Pad before a pooling becomes the pooling's pads (no engine layer, no work of their own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { loadModel } from 'lrp-wasm';
import { buildModel } from './helpers/onnx-builder.mjs';

const { onnx } = onnxProto;
const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const tinyCnn = path('./fixtures/golden/tiny-cnn/model.onnx');
const resnetSmall = path('./fixtures/resnet-small/model.onnx');
const mnistCnn = path('../web/models/mnist-cnn.onnx');

const product = (shape) => shape.reduce((a, b) => a * b, 1);
const attribute = (node, name, fallback) => {
  const found = node.attribute.find((a) => a.name === name);
  if (!found) return fallback;
  return found.ints.length > 0 ? found.ints.map(Number) : Number(found.i);
};
// ONNX's output size of a window along one axis (floor mode).
const windowOutput = (size, kernel, stride, padBegin, padEnd, dilation = 1) =>
  Math.floor((size + padBegin + padEnd - dilation * (kernel - 1) - 1) / stride) + 1;

// Operations per ONNX node name (nodes that become no engine layer are absent), from the ONNX file alone.
function referenceOperations(file) {
  const { graph } = onnx.ModelProto.decode(readFileSync(file));
  const shapes = new Map();  // tensor → per-sample shape
  const dims = new Map(graph.initializer.map((t) => [t.name, t.dims.map(Number)]));
  const padOf = new Map();   // a Pad's output → { input, pads }: fused into the pooling that reads it
  const input = graph.input.find((i) => !dims.has(i.name));
  shapes.set(input.name, input.type.tensorType.shape.dim.slice(1).map((d) => Number(d.dimValue)));
  const counts = new Map();
  for (const node of graph.node) {
    const x = shapes.get(node.input[0]);
    const out = node.output[0];
    switch (node.opType) {
      case 'Conv': {
        const [o, perGroup, kh, kw] = dims.get(node.input[1]);
        const [s0, s1] = attribute(node, 'strides', [1, 1]), [p0, p1, p2, p3] = attribute(node, 'pads', [0, 0, 0, 0]);
        const [d0, d1] = attribute(node, 'dilations', [1, 1]);
        const shape = [o, windowOutput(x[1], kh, s0, p0, p2, d0), windowOutput(x[2], kw, s1, p1, p3, d1)];
        shapes.set(out, shape);
        counts.set(node.name, product(shape) * perGroup * kh * kw);
        break;
      }
      case 'MaxPool': case 'AveragePool': {
        const fused = padOf.get(node.input[0]);
        const image = fused ? shapes.get(fused.input) : x;
        const [kh, kw] = attribute(node, 'kernel_shape');
        const [s0, s1] = attribute(node, 'strides', [1, 1]), pads = attribute(node, 'pads', [0, 0, 0, 0]);
        // A fused Pad's per-sample pads (ONNX: begins then ends over N, C, H, W) add to the pooling's.
        const [t, l, b, r] = fused ? [pads[0] + fused.pads[2], pads[1] + fused.pads[3], pads[2] + fused.pads[6], pads[3] + fused.pads[7]] : pads;
        const [c, h, w] = image;
        const ho = windowOutput(h, kh, s0, t, b), wo = windowOutput(w, kw, s1, l, r);
        shapes.set(out, [c, ho, wo]);
        counts.set(node.name, c * (h * wo * kw + ho * wo * kh));
        break;
      }
      case 'Pad': {
        const pads = [...readConstantInts(graph, node.input[1])];
        padOf.set(out, { input: node.input[0], pads });
        shapes.set(out, x.map((size, axis) => size + pads[axis + 1] + pads[axis + 1 + 4]));
        break;
      }
      case 'GlobalAveragePool':
        shapes.set(out, [x[0], 1, 1]);
        counts.set(node.name, product(x));
        break;
      case 'Gemm': {
        const [rows, columns] = dims.get(node.input[1]);
        const [outFeatures, inFeatures] = attribute(node, 'transB', 0) ? [rows, columns] : [columns, rows];
        shapes.set(out, [outFeatures]);
        counts.set(node.name, outFeatures * inFeatures);
        break;
      }
      case 'Flatten':
        shapes.set(out, [product(x)]);
        counts.set(node.name, product(x));
        break;
      case 'BatchNormalization':  // folded into the Conv before it
      case 'Constant':
        shapes.set(out, x);
        break;
      case 'Relu': case 'Add':
        shapes.set(out, x);
        counts.set(node.name, product(x));
        break;
      default:
        throw new Error(`the reference does not know ${node.opType}`);
    }
  }
  return counts;
}

function readConstantInts(graph, name) {
  const constant = graph.node.find((n) => n.opType === 'Constant' && n.output[0] === name);
  const tensor = constant.attribute[0].t;
  if (tensor.int64Data.length > 0) return tensor.int64Data.map(Number);
  return Array.from(new BigInt64Array(Uint8Array.from(tensor.rawData).buffer), Number);  // a copy: aligned, own buffer
}

for (const [label, file] of [['tiny-cnn', tinyCnn], ['resnet-small', resnetSmall], ['mnist-cnn', mnistCnn]]) {
  test(`${label}: operations per layer and in total equal the closed-form count from the ONNX file`, async () => {
    const expected = referenceOperations(file);
    const model = await loadModel(file);
    try {
      const layers = model.layers;
      assert.deepEqual(layers.map((l) => [l.name, l.operations]), layers.map((l) => [l.name, expected.get(l.name)]));
      assert.deepEqual(new Set(layers.map((l) => l.name)), new Set(expected.keys()), 'every counted node is a layer');
      assert.equal(model.operations, [...expected.values()].reduce((a, b) => a + b, 0));
      assert.equal(model.maxOperations, 1e11);
    } finally {
      model.dispose();
    }
  });
}

test('a model above maxOperations is refused at load, naming its costliest node, the total, the limit and the option', async () => {
  const counts = referenceOperations(tinyCnn);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);  // 15648; the first conv alone 10368
  await assert.rejects(loadModel(tinyCnn, { maxOperations: 10_000 }), (error) => {
    assert.equal(error.constructor, Error);
    assert.match(error.message, new RegExp(`needs ${total} operations per input`));
    assert.match(error.message, /more than maxOperations \(10000\)/);
    assert.match(error.message, new RegExp(`costliest node is '/0/Conv' \\(conv, ONNX Conv\\) with ${counts.get('/0/Conv')} operations`));
    assert.match(error.message, /loadModel\(source, \{ maxOperations: 16000 \}\)/);
    return true;
  });
  const exact = await loadModel(tinyCnn, { maxOperations: total });  // the limit is inclusive
  assert.equal(exact.operations, total);
  exact.dispose();
});

// x · x of a 6144 × 6144 input: 123 bytes of ONNX asking for 6144³ ≈ 2.3e11 multiply-adds. Refused by the
// default limit when it loads, before any call.
test('a work bomb of a hundred bytes is refused by the default limit', async () => {
  const n = 6144;
  const bytes = buildModel({
    input: { name: 'x', shape: [null, n, n] },
    output: { name: 'y', shape: [null, n, n] },
    nodes: [{ op: 'MatMul', name: 'square', inputs: ['x', 'x'], outputs: ['y'] }],
  });
  assert.ok(bytes.length < 200, `${bytes.length} bytes`);
  const started = performance.now();
  await assert.rejects(loadModel(bytes), (error) => {
    assert.match(error.message, /needs 2\.32e11 operations per input/);  // n · n outputs × n
    assert.match(error.message, /costliest node is 'square' \(matmul, ONNX MatMul\) with 2\.32e11 operations/);
    assert.match(error.message, /more than maxOperations \(1e11\)/);
    assert.match(error.message, /maxOperations: 2\.4e11/);
    return true;
  });
  assert.ok(performance.now() - started < 5000);
  assert.equal(n ** 3, 231928233984);  // the count the message rounds to 2.32e11
});

test('integrated gradients and SmoothGrad above maxOperations are refused before any work; explainBatch is not refused for its number of inputs', async () => {
  const perInput = [...referenceOperations(resnetSmall).values()].reduce((a, b) => a + b, 0);
  const model = await loadModel(resnetSmall, { maxOperations: 1e9 });
  const x = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i));
  try {
    assert.equal(model.maxOperations, 1e9);
    const started = performance.now();
    assert.throws(() => model.explain(x, { method: 'integrated-gradients', steps: 4096 }), (error) => {
      assert.match(error.message, /^explain: integrated-gradients with steps: 4096 needs 4096 × 1\.26e7 = 5\.16e10 operations/);
      assert.match(error.message, new RegExp(`pass fewer steps \\(at most ${Math.floor(1e9 / perInput)}\\)`));
      assert.match(error.message, /larger maxOperations/);
      return true;
    });
    assert.ok(performance.now() - started < 1000, `refused after ${performance.now() - started} ms`);
    assert.throws(() => model.explain(x, { method: 'smoothgrad', samples: 100 }), /smoothgrad with samples: 100 needs 100 × .*pass fewer samples/);
    // At most 1e9 / 1.26e7 = 79 points fit.
    assert.equal(model.explain(x, { method: 'integrated-gradients', steps: 79 }).relevance.length, x.length);
    // Each explanation's points are checked, not the batch's sum: 100 LRP explanations are 1.26e9 operations.
    assert.equal(model.explainBatch(Array.from({ length: 100 }, () => x), { composite: 'epsilon-plus' }).length, 100);
    assert.equal(model.predictBatch(Array.from({ length: 100 }, () => x)).length, 100);
    assert.throws(() => model.explainBatch([x, x], { method: 'integrated-gradients', steps: 80 }), /explainBatch: integrated-gradients with steps: 80 needs/);
  } finally {
    model.dispose();
  }
});

test('maxOperations is validated: TypeError for a non-number, RangeError for 0, negative or NaN; Infinity lifts the limit', async () => {
  for (const value of ['1e9', null, 10n, {}])
    await assert.rejects(loadModel(tinyCnn, { maxOperations: value }), (error) => error instanceof TypeError && /maxOperations must be a number/.test(error.message));
  for (const value of [0, -5, NaN])
    await assert.rejects(loadModel(tinyCnn, { maxOperations: value }), (error) => error instanceof RangeError && /maxOperations must be a positive number/.test(error.message));
  await assert.rejects(loadModel(tinyCnn, { worker: true, maxOperations: 'many' }), TypeError);
  const unlimited = await loadModel(resnetSmall, { maxOperations: Infinity });
  assert.equal(unlimited.maxOperations, Infinity);
  unlimited.dispose();
});

// Reference: the same model on the main thread (its counts are checked above against the ONNX file).
test('a worker model exposes operations and maxOperations and honours the limit in its worker', async () => {
  const local = await loadModel(resnetSmall, { maxOperations: 1e9 });
  const remote = await loadModel(resnetSmall, { worker: true, maxOperations: 1e9 });
  try {
    assert.equal(remote.operations, local.operations);
    assert.equal(remote.maxOperations, 1e9);
    assert.deepEqual(remote.layers.map((l) => l.operations), local.layers.map((l) => l.operations));
    const x = new Float32Array(3 * 32 * 32).fill(0.25);
    await assert.rejects(remote.explain(x, { method: 'integrated-gradients', steps: 4096 }),
      (error) => error.constructor === Error && /integrated-gradients with steps: 4096 needs 4096 × 1\.26e7/.test(error.message));
    assert.equal((await remote.explainBatch([x, x, x], { method: 'smoothgrad', samples: 8 })).length, 3);
    await assert.rejects(loadModel(tinyCnn, { worker: true, maxOperations: 10_000 }),
      /costliest node is '\/0\/Conv' \(conv, ONNX Conv\) with 10368 operations/);
  } finally {
    local.dispose();
    remote.dispose();
  }
});
