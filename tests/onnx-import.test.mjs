// Tests of the ONNX importer (web/src/onnx/): operators, folding, validation, golden model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { foldedOperators, parseOnnx, supportedOperators } from '../web/src/onnx/index.js';
import { selectAlongAxes } from '../web/src/onnx/fold.js';
import { buildModel, encodeModel, modelProto, randomFloats, randomTensor, int64s, onnx } from './helpers/onnx-builder.mjs';
import { referenceForward } from './helpers/reference-forward.mjs';

const GOLDEN = fileURLToPath(new URL('./fixtures/golden/', import.meta.url));
const INT64_MAX = 9223372036854775807n;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A model with one input [batch, ...inputShape] and output 'y'. */
function model({ inputShape = [4], outputShape, nodes, initializers = {}, opset = 13 }) {
  return buildModel({
    input: { name: 'x', shape: [null, ...inputShape] },
    output: { name: 'y', shape: outputShape ? [null, ...outputShape] : undefined },
    nodes,
    initializers,
    opset,
  });
}

function kinds(spec) {
  return spec.nodes.map((node) => node.kind);
}

function assertClose(actual, expected, tolerance, message) {
  assert.equal(actual.length, expected.length, `${message}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance, `${message}: [${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

function readFloat32(path) {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * Evaluate with onnxruntime (the independent referee for the semantics of our test models), with its
 * graph optimizations off so that it runs the model as written (its own Pad fusion would otherwise
 * both hide what we check and reject some valid Pad + AveragePool pairs).
 */
async function runtimeForward(bytes, input, inputShape) {
  const ort = await import('onnxruntime-web');
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, ...inputShape]) };
  const result = await session.run(feeds);
  return result[session.outputNames[0]].data;
}

const f32 = (...values) => Float32Array.from(values);

// ---------------------------------------------------------------------------------------------
// Golden model exported by PyTorch
// ---------------------------------------------------------------------------------------------

test('golden tiny-mlp: parses into dense/relu layers', () => {
  const spec = parseOnnx(readFileSync(`${GOLDEN}tiny-mlp/model.onnx`));
  assert.equal(spec.inputName, 'input');
  assert.deepEqual(spec.inputShape, [16]);
  assert.equal(spec.outputName, 'logits');
  assert.equal(spec.outputSize, 4);
  assert.equal(spec.strippedSoftmax, false);
  assert.deepEqual(kinds(spec), ['dense', 'relu', 'dense', 'relu', 'dense']);
  assert.deepEqual(spec.nodes.map((n) => n.inputs), [[-1], [0], [1], [2], [3]]);
  assert.deepEqual(spec.nodes.map((n) => n.outputShape), [[12], [12], [8], [8], [4]]);
  const first = spec.nodes[0];
  assert.ok(first.weight instanceof Float32Array && first.weight.length === 12 * 16);
  assert.ok(first.bias instanceof Float32Array && first.bias.length === 12);
});

test('golden tiny-mlp: reference forward of the spec reproduces the logits', () => {
  const spec = parseOnnx(new Uint8Array(readFileSync(`${GOLDEN}tiny-mlp/model.onnx`)));
  const { cases, num_inputs: numInputs, input_shape: inputShape } = JSON.parse(readFileSync(`${GOLDEN}tiny-mlp/cases.json`, 'utf8'));
  const size = inputShape.reduce((a, b) => a * b, 1);
  const inputs = readFloat32(`${GOLDEN}tiny-mlp/inputs.f32`);
  assert.equal(inputs.length, numInputs * size);
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const logits = referenceForward(spec, inputs.subarray(c.input_index * size, (c.input_index + 1) * size));
    assertClose(logits, c.output, 1e-4, `case ${c.id}`);
  }
});

/** Float values of an initializer of a model file (float_data or raw_data). */
function initializerValues(bytes, name) {
  const tensor = onnx.ModelProto.decode(bytes).graph.initializer.find((t) => t.name === name);
  if (tensor.floatData.length > 0) return Float64Array.from(tensor.floatData);
  const raw = tensor.rawData;
  return Float64Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
}

test('golden tiny-cnn: parses into conv/relu/maxpool/conv(+BN)/relu/avgpool(+Pad)/reshape/dense', () => {
  const bytes = readFileSync(`${GOLDEN}tiny-cnn/model.onnx`);
  const spec = parseOnnx(bytes);
  assert.deepEqual(spec.inputShape, [2, 12, 12]);
  assert.equal(spec.outputName, 'logits');
  assert.equal(spec.outputSize, 5);
  assert.deepEqual(kinds(spec), ['conv', 'relu', 'maxpool', 'conv', 'relu', 'avgpool', 'reshape', 'dense']);
  assert.deepEqual(spec.nodes.map((n) => n.inputs), [[-1], [0], [1], [2], [3], [4], [5], [6]]);
  assert.deepEqual(spec.nodes.map((n) => n.outputShape), [[4, 12, 12], [4, 12, 12], [4, 6, 6], [6, 4, 4], [6, 4, 4], [6, 2, 2], [24], [5]]);

  const [conv1, , pool, conv2, , avg] = spec.nodes;
  assert.deepEqual({ ...conv1, weight: undefined, bias: undefined }, {
    name: '/0/Conv', kind: 'conv', inputs: [-1], outputShape: [4, 12, 12], weight: undefined, bias: undefined,
    kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1,
  });
  assert.deepEqual(Array.from(conv1.weight), Array.from(initializerValues(bytes, '0.weight'), Math.fround));
  assert.deepEqual(pool, {
    name: '/2/MaxPool', kind: 'maxpool', inputs: [1], outputShape: [4, 6, 6],
    kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceilMode: false,
  });
  assert.deepEqual(avg, {
    name: '/6/AveragePool', kind: 'avgpool', inputs: [4], outputShape: [6, 2, 2],
    kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: false, countIncludePad: true,
  });

  // The batch-norm is merged into the second conv: W' = W·s, b' = (b − μ)·s + β, s = γ/√(σ² + ε).
  const [w, b, gamma, beta, mean, variance] = ['3.weight', '3.bias', '4.weight', '4.bias', '4.running_mean', '4.running_var']
    .map((name) => initializerValues(bytes, name));
  const epsilon = Math.fround(1e-5);
  const s = Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + epsilon));
  const rowLength = 4 * 3 * 3;
  assert.equal(conv2.name, '/3/Conv');
  assertClose(conv2.weight, Array.from(w, (v, k) => v * s[Math.floor(k / rowLength)]), 1e-6, 'folded weight');
  assertClose(conv2.bias, Array.from(b, (v, c) => (v - mean[c]) * s[c] + beta[c]), 1e-6, 'folded bias');
});

test('golden tiny-cnn: reference forward of the spec reproduces the logits', () => {
  const spec = parseOnnx(readFileSync(`${GOLDEN}tiny-cnn/model.onnx`));
  const { cases, num_inputs: numInputs, input_shape: inputShape } = JSON.parse(readFileSync(`${GOLDEN}tiny-cnn/cases.json`, 'utf8'));
  const size = inputShape.reduce((a, b) => a * b, 1);
  const inputs = readFloat32(`${GOLDEN}tiny-cnn/inputs.f32`);
  assert.equal(inputs.length, numInputs * size);
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const logits = referenceForward(spec, inputs.subarray(c.input_index * size, (c.input_index + 1) * size));
    assertClose(logits, c.output, 1e-4, `case ${c.id}`);
  }
});

test('accepts an ArrayBuffer as well as a Uint8Array', () => {
  const bytes = readFileSync(`${GOLDEN}tiny-mlp/model.onnx`);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  assert.equal(parseOnnx(buffer).outputSize, 4);
});

// ---------------------------------------------------------------------------------------------
// Gemm
// ---------------------------------------------------------------------------------------------

test('Gemm transB=1 folds alpha into the weight and beta into the bias', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B', 'C'], outputs: ['y'], attrs: { transB: 1, alpha: 0.5, beta: { float: 2 } } }],
    initializers: { B: { dims: [2, 3], data: f32(1, 2, 3, 4, 5, 6) }, C: { dims: [2], data: f32(10, 20) } },
  }));
  const [dense] = spec.nodes;
  assert.deepEqual({ ...dense, weight: undefined, bias: undefined }, {
    name: 'fc', kind: 'dense', inputs: [-1], outputShape: [2], weight: undefined, bias: undefined,
  });
  assert.deepEqual(Array.from(dense.weight), [0.5, 1, 1.5, 2, 2.5, 3]);
  assert.deepEqual(Array.from(dense.bias), [20, 40]);
  assert.equal(spec.outputSize, 2);
});

test('Gemm transB=0 transposes B [in, out] into engine order [out, in]', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B'], outputs: ['y'], attrs: { alpha: { float: 2 } } }],
    initializers: { B: { dims: [3, 2], data: f32(1, 2, 3, 4, 5, 6) } },
  }));
  const [dense] = spec.nodes;
  assert.deepEqual(dense.outputShape, [2]);
  assert.deepEqual(Array.from(dense.weight), [2, 6, 10, 4, 8, 12]);
  assert.equal(dense.bias, null, 'no C means no bias');
});

test('Gemm bias C broadcasts from [1, out], [1] and scalar', () => {
  for (const [dims, data, expected] of [[[1, 2], f32(1, 2), [3, 6]], [[1], f32(5), [15, 15]], [[], f32(7), [21, 21]]]) {
    const spec = parseOnnx(model({
      inputShape: [2],
      nodes: [{ op: 'Gemm', inputs: ['x', 'B', 'C'], outputs: ['y'], attrs: { transB: 1, beta: { float: 3 } } }],
      initializers: { B: { dims: [2, 2], data: f32(1, 0, 0, 1) }, C: { dims, data } },
    }));
    assert.deepEqual(Array.from(spec.nodes[0].bias), expected, `C dims [${dims}]`);
  }
});

test('Gemm rejects a bias that does not broadcast to the outputs', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B', 'C'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { B: { dims: [2, 2], data: f32(1, 0, 0, 1) }, C: { dims: [3], data: f32(1, 2, 3) } },
  })), /'fc'.*bias of shape \[3\] does not broadcast to 2 outputs/);
});

test('Gemm with transA=1 is rejected naming the node', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', name: 'fcA', inputs: ['x', 'B'], outputs: ['y'], attrs: { transA: 1 } }],
    initializers: { B: { dims: [2, 2], data: f32(1, 0, 0, 1) } },
  })), /ONNX node 'fcA' \(Gemm\): transA=1 is not supported/);
});

test('Gemm weight K that does not match the incoming features is rejected', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { B: { dims: [2, 3], data: randomFloats(6) } },
  })), /'fc' \(Gemm\): weight B of shape \[2,3\] \(transB=1\) expects 3 input features, but the input has 4/);
});

test('Gemm needs a 2-D input and a constant weight', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2, 3],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { B: { dims: [2, 6], data: randomFloats(12) } },
  })), /'fc' \(Gemm\): expects a 2-D input \[batch, features\], got \[batch, 2,3\]/);
  assert.throws(() => parseOnnx(buildModel({
    inputs: [{ name: 'x', shape: [null, 2] }],
    output: { name: 'y' },
    nodes: [
      { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] },
      { op: 'Gemm', name: 'fc', inputs: ['x', 'h'], outputs: ['y'] },
    ],
  })), /unsupported ONNX operator 'Gemm' \(node 'fc'\): weight B 'h' is computed from the graph input/);
});

// ---------------------------------------------------------------------------------------------
// MatMul (+ Add)
// ---------------------------------------------------------------------------------------------

const MATMUL_B = { dims: [3, 2], data: f32(1, 2, 3, 4, 5, 6) };

test('MatMul with a constant [K, N] alone becomes a dense layer without bias', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: MATMUL_B },
  }));
  assert.deepEqual(kinds(spec), ['dense']);
  assert.deepEqual(Array.from(spec.nodes[0].weight), [1, 3, 5, 2, 4, 6]);
  assert.equal(spec.nodes[0].bias, null);
});

test('MatMul + Add of a constant vector fuses into one dense layer, in either operand order', () => {
  for (const addInputs of [['h', 'b'], ['b', 'h']]) {
    const spec = parseOnnx(model({
      inputShape: [3],
      nodes: [
        { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['h'] },
        { op: 'Add', name: 'add', inputs: addInputs, outputs: ['y'] },
      ],
      initializers: { W: MATMUL_B, b: { dims: [2], data: f32(0.5, -0.5) } },
    }));
    assert.deepEqual(kinds(spec), ['dense'], `Add(${addInputs})`);
    assert.equal(spec.nodes[0].name, 'mm');
    assert.deepEqual(Array.from(spec.nodes[0].bias), [0.5, -0.5]);
    assert.deepEqual(Array.from(referenceForward(spec, f32(1, 1, 1))), [9.5, 11.5]);
  }
});

test('Add of a constant that is not a MatMul bias becomes an add layer', () => {
  const spec = parseOnnx(model({
    inputShape: [2],
    nodes: [
      { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] },
      { op: 'Add', name: 'add1', inputs: ['h', 'b'], outputs: ['y'] },
    ],
    initializers: { b: { dims: [2], data: f32(1, 2) } },
  }));
  assert.deepEqual(spec.nodes[1], { name: 'add1', kind: 'add', inputs: [0], outputShape: [2], constant: f32(1, 2) });
});

test('MatMul whose product is also used elsewhere is not fused with the Add', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Relu', name: 'side', inputs: ['h'], outputs: ['s'] },
      { op: 'Add', name: 'add', inputs: ['h', 'b'], outputs: ['y'] },
    ],
    initializers: { W: MATMUL_B, b: { dims: [2], data: f32(1, 2) } },
  }));
  assert.deepEqual(kinds(spec), ['dense', 'add'], 'the side Relu is pruned, the Add stays separate');
  assert.equal(spec.nodes[0].bias, null);
  assert.deepEqual(Array.from(spec.nodes[1].constant), [1, 2]);
});

test('MatMul rejects a K that does not match the input', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: MATMUL_B },
  })), /'mm' \(MatMul\): the right operand of shape \[3,2\] expects 3 input features, but the input has 4/);
});

// ---------------------------------------------------------------------------------------------
// Conv
// ---------------------------------------------------------------------------------------------

/** One Conv on an input [C, H, W]; weight [O, C/group, kH, kW] random, bias optional. */
function convModel({ inputShape, weightDims, attrs = {}, bias = true, name = 'conv', seed = 21 }) {
  return model({
    inputShape,
    nodes: [{ op: 'Conv', name, inputs: bias ? ['x', 'W', 'B'] : ['x', 'W'], outputs: ['y'], attrs }],
    initializers: { W: randomTensor(weightDims, seed), ...(bias ? { B: randomTensor([weightDims[0]], seed + 1) } : {}) },
  });
}

test('Conv becomes a conv node: ONNX weight order, bias, default attributes', () => {
  const W = randomTensor([3, 2, 2, 2], 5);
  const spec = parseOnnx(model({
    inputShape: [2, 4, 5],
    nodes: [{ op: 'Conv', name: 'c1', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } }],
    initializers: { W, B: { dims: [3], data: f32(1, 2, 3) } },
  }));
  assert.deepEqual(spec.nodes, [{
    name: 'c1', kind: 'conv', inputs: [-1], outputShape: [3, 3, 4], weight: W.data, bias: f32(1, 2, 3),
    kernel: [2, 2], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1,
  }]);
  assert.equal(spec.outputSize, 36);
  const noBias = parseOnnx(convModel({ inputShape: [2, 4, 5], weightDims: [3, 2, 2, 2], bias: false }));
  assert.equal(noBias.nodes[0].bias, null);
});

test('Conv output shapes: stride, symmetric and asymmetric pads, dilation (ONNX order top, left, bottom, right)', () => {
  const cases = [
    // [input H×W, kernel, attrs, expected [Ho, Wo], expected pads]
    [[7, 7], [3, 3], { strides: [2, 2] }, [3, 3], [0, 0, 0, 0]],
    [[7, 7], [3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }, [4, 4], [1, 1, 1, 1]],
    [[6, 8], [3, 3], { pads: [1, 0, 2, 3] }, [7, 9], [1, 0, 2, 3]],
    [[6, 8], [3, 2], { strides: [1, 3], pads: [0, 2, 0, 1] }, [4, 4], [0, 2, 0, 1]],
    [[9, 9], [3, 3], { dilations: [2, 3] }, [5, 3], [0, 0, 0, 0]],
    [[9, 9], [3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2], strides: [2, 2] }, [5, 5], [2, 2, 2, 2]],
  ];
  for (const [[h, w], [kH, kW], attrs, expected, pads] of cases) {
    const spec = parseOnnx(convModel({ inputShape: [2, h, w], weightDims: [3, 2, kH, kW], attrs }));
    assert.deepEqual(spec.nodes[0].outputShape, [3, ...expected], JSON.stringify(attrs));
    assert.deepEqual(spec.nodes[0].pads, pads, JSON.stringify(attrs));
    assert.deepEqual(spec.nodes[0].strides, attrs.strides ?? [1, 1]);
    assert.deepEqual(spec.nodes[0].dilations, attrs.dilations ?? [1, 1]);
  }
});

test('Conv auto_pad SAME_UPPER / SAME_LOWER / VALID resolve into explicit pads', () => {
  const cases = [
    // 7×6 input, kernel 4×3, stride 2: out ceil(7/2)=4, ceil(6/2)=3; total pad H 3·2+4−7=3, W 2·2+3−6=1
    ['SAME_UPPER', [4, 3], [1, 0, 2, 1]],
    ['SAME_LOWER', [4, 3], [2, 1, 1, 0]],
    ['VALID', [2, 2], [0, 0, 0, 0]],
    ['NOTSET', [2, 2], [0, 0, 0, 0]],
  ];
  for (const [autoPad, out, pads] of cases) {
    const spec = parseOnnx(convModel({ inputShape: [1, 7, 6], weightDims: [2, 1, 4, 3], attrs: { auto_pad: autoPad, strides: [2, 2] } }));
    assert.deepEqual(spec.nodes[0].outputShape, [2, ...out], autoPad);
    assert.deepEqual(spec.nodes[0].pads, pads, autoPad);
  }
  // Stride 1 SAME keeps the size; an even kernel pads one more at the end (UPPER) or start (LOWER).
  const same = parseOnnx(convModel({ inputShape: [1, 5, 5], weightDims: [1, 1, 2, 2], attrs: { auto_pad: 'SAME_UPPER' } }));
  assert.deepEqual(same.nodes[0].outputShape, [1, 5, 5]);
  assert.deepEqual(same.nodes[0].pads, [0, 0, 1, 1]);
});

test('Conv groups and depthwise convolution', () => {
  const grouped = parseOnnx(convModel({ inputShape: [6, 5, 5], weightDims: [4, 3, 3, 3], attrs: { group: 2 } }));
  assert.deepEqual(grouped.nodes[0].outputShape, [4, 3, 3]);
  assert.equal(grouped.nodes[0].group, 2);
  assert.equal(grouped.nodes[0].weight.length, 4 * 3 * 3 * 3);
  const depthwise = parseOnnx(convModel({ inputShape: [4, 5, 5], weightDims: [8, 1, 3, 3], attrs: { group: 4, pads: [1, 1, 1, 1] } }));
  assert.deepEqual(depthwise.nodes[0].outputShape, [8, 5, 5]);
  assert.equal(depthwise.nodes[0].group, 4);
});

test('Conv errors name the node and the problem', () => {
  const conv = (options) => () => parseOnnx(convModel({ name: 'cv', ...options }));
  assert.throws(conv({ inputShape: [3, 5, 5], weightDims: [4, 2, 3, 3] }),
    /ONNX node 'cv' \(Conv\): weight W of shape \[4,2,3,3\] with group 1 expects 2 input channels, but the input has 3/);
  assert.throws(conv({ inputShape: [3, 5, 5], weightDims: [4, 1, 3, 3], attrs: { group: 2 } }),
    /'cv' \(Conv\): group 2 does not divide the 3 input channels/);
  assert.throws(conv({ inputShape: [4, 5, 5], weightDims: [3, 2, 3, 3], attrs: { group: 2 } }),
    /'cv' \(Conv\): group 2 does not divide the 3 output channels/);
  assert.throws(conv({ inputShape: [4, 5, 5], weightDims: [4, 2, 3, 3], attrs: { group: 0 } }), /'cv' \(Conv\): group must be a positive integer, got 0/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 5, 3] }),
    /'cv' \(Conv\): kernel 5×3 does not fit: size 5 along H is larger than the padded input 4/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { pads: [0, 0, 0, 0], dilations: [1, 2] } }),
    /'cv' \(Conv\): kernel 3×3 does not fit: size 3 \(dilated to 5\) along W is larger than the padded input 4/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { kernel_shape: [3, 2] } }),
    /'cv' \(Conv\): kernel_shape \[3,2\] does not match weight W of shape \[2,1,3,3\]/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { auto_pad: 'SAME_UPPER', pads: [1, 1, 1, 1] } }),
    /'cv' \(Conv\): auto_pad SAME_UPPER cannot be combined with explicit pads/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { auto_pad: 'SAME' } }), /'cv' \(Conv\): unknown auto_pad 'SAME'/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { pads: [1, 1] } }), /'cv' \(Conv\): pads must have 4 values/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { strides: [0, 1] } }), /'cv' \(Conv\): strides \[0,1\] must be integers ≥ 1/);
  assert.throws(conv({ inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { pads: [-1, 0, 0, 0] } }), /'cv' \(Conv\): pads \[-1,0,0,0\] must be non-negative/);
  // 3-D convolutions, dense inputs, a weight of the wrong rank
  assert.throws(conv({ inputShape: [2, 4, 4, 4], weightDims: [3, 2, 3, 3, 3] }),
    /'cv' \(Conv\): only 1-D and 2-D convolutions are supported: expects a 3-D input \[batch, C, L\] or a 4-D input \[batch, C, H, W\], got \[batch, 2,4,4,4\]/);
  assert.throws(conv({ inputShape: [8], weightDims: [3, 8, 1] }), /'cv' \(Conv\): only 1-D and 2-D convolutions are supported/);
  assert.throws(conv({ inputShape: [2, 4, 4], weightDims: [3, 2, 3] }),
    /'cv' \(Conv\): weight W must be 4-D \[O, C\/group, kH, kW\] for a 2-D convolution, got shape \[3,2,3\]/);
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'Conv', name: 'cv', inputs: ['x', 'W', 'B'], outputs: ['y'] }],
    initializers: { W: randomTensor([2, 1, 3, 3]), B: randomTensor([3]) },
  })), /'cv' \(Conv\): bias B must have shape \[2\], got \[3\]/);
  assert.throws(() => parseOnnx(buildModel({
    inputs: [{ name: 'x', shape: [null, 1, 4, 4] }, { name: 'w', shape: [2, 1, 3, 3] }],
    output: { name: 'y' },
    nodes: [{ op: 'Conv', name: 'cv', inputs: ['x', 'w'], outputs: ['y'] }],
  })), /the graph has 2 inputs/);
});

test('Conv with absurd sizes is rejected before allocating', () => {
  // Output 2^14 × 2^14 × 2^4 channels = 2^32 elements, from pads alone.
  assert.throws(() => parseOnnx(convModel({ name: 'cv', inputShape: [1, 2, 2], weightDims: [16, 1, 1, 1], attrs: { pads: [2 ** 13, 2 ** 13, 2 ** 13, 2 ** 13] } })),
    /ONNX node 'cv' \(Conv\) output is too large: shape \[16,16386,16386\] exceeds 268435456 elements/);
  // Weight dims of 2^40 elements without data fail on the dims.
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'Conv', name: 'cv', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [2 ** 20, 2 ** 20, 1, 1], data: new Float32Array(0) } },
  })), /initializer 'W' is too large: dims \[1048576,1048576,1,1\] exceed 268435456 elements/);
  assert.throws(() => parseOnnx(convModel({ name: 'cv', inputShape: [1, 4, 4], weightDims: [2, 1, 3, 3], attrs: { strides: [2 ** 40, 1] } })),
    /'cv' \(Conv\): strides \[1099511627776,1\] must be integers ≥ 1/);
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'Conv', name: 'cv', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [0, 1, 3, 3], data: new Float32Array(0) } },
  })), /'cv' \(Conv\): weight W of shape \[0,1,3,3\] is empty/);
});

// ---------------------------------------------------------------------------------------------
// MaxPool, AveragePool, GlobalAveragePool
// ---------------------------------------------------------------------------------------------

function poolModel(op, inputShape, attrs, name = 'pool') {
  return model({ inputShape, nodes: [{ op, name, inputs: ['x'], outputs: ['y'], attrs }] });
}

test('MaxPool: kernel, strides, pads, dilations, ceil_mode (PyTorch rule)', () => {
  const spec = parseOnnx(poolModel('MaxPool', [3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 'mp'));
  assert.deepEqual(spec.nodes, [{
    name: 'mp', kind: 'maxpool', inputs: [-1], outputShape: [3, 4, 4],
    kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceilMode: false,
  }]);
  const cases = [
    // [H, attrs, expected H]: ceil((5+2−2)/2)+1 = 4, but the 4th window would start at 6 ≥ 5+1: 3
    [5, { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }, 3],
    [6, { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, 3], // ceil(3/2)+1 = 3
    [6, { kernel_shape: [3, 3], strides: [2, 2] }, 2],
    [7, { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, 4],
    [9, { kernel_shape: [3, 3], dilations: [2, 2] }, 5],
    [7, { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER', strides: [2, 2] }, 4],
  ];
  for (const [h, attrs, expected] of cases) {
    const { nodes: [pool] } = parseOnnx(poolModel('MaxPool', [1, h, h], attrs));
    assert.deepEqual(pool.outputShape, [1, expected, expected], JSON.stringify(attrs));
    assert.equal(pool.ceilMode, attrs.ceil_mode === 1);
    assert.deepEqual(pool.dilations, attrs.dilations ?? [1, 1]);
  }
});

test('MaxPool errors: used indices, padding-only windows, missing kernel, ceil_mode with auto_pad', () => {
  // storage_order only numbers the indices output differently; with that output unused it changes nothing.
  assert.equal(parseOnnx(poolModel('MaxPool', [1, 4, 4], { kernel_shape: [2, 2], storage_order: 1 }, 'mp')).nodes[0].kind, 'maxpool');
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [
      { op: 'MaxPool', name: 'mp', inputs: ['x'], outputs: ['y', 'idx'], attrs: { kernel_shape: [2, 2] } },
      { op: 'Cast', name: 'use', inputs: ['idx'], outputs: ['z'], attrs: { to: onnx.TensorProto.DataType.FLOAT } },
    ],
  })), /unsupported ONNX operator 'MaxPool' \(node 'mp'\): its indices output 'idx' is used/);
  // An unused indices output is fine.
  assert.deepEqual(kinds(parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'MaxPool', name: 'mp', inputs: ['x'], outputs: ['y', 'idx'], attrs: { kernel_shape: [2, 2] } }],
  }))), ['maxpool']);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 4, 4], { kernel_shape: [2, 2], pads: [2, 0, 0, 0] }, 'mp')),
    /'mp' \(MaxPool\): output 0 along H would be computed from padding only/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 1, 4], { kernel_shape: [2, 1], dilations: [2, 1], pads: [1, 0, 1, 0] }, 'mp')),
    /'mp' \(MaxPool\): output 0 along H would be computed from padding only/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 4, 4], {}, 'mp')), /'mp' \(MaxPool\): missing kernel_shape/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 4, 4], { kernel_shape: [2] }, 'mp')), /'mp' \(MaxPool\): kernel_shape \[2\] must have 2 values for a 2-D window/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [4, 4, 4, 4], { kernel_shape: [2, 2, 2] }, 'mp')), /'mp' \(MaxPool\): only 1-D and 2-D max pooling are supported: expects a 3-D input/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 4, 4], { kernel_shape: [2, 2], ceil_mode: 1, auto_pad: 'VALID' }, 'mp')),
    /'mp' \(MaxPool\): ceil_mode=1 cannot be combined with auto_pad VALID/);
  assert.throws(() => parseOnnx(poolModel('MaxPool', [1, 4, 4], { kernel_shape: [5, 2] }, 'mp')), /'mp' \(MaxPool\): kernel 5×2 does not fit/);
});

test('AveragePool: count_include_pad, ceil_mode, auto_pad', () => {
  const spec = parseOnnx(poolModel('AveragePool', [2, 6, 6], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 }, 'ap'));
  assert.deepEqual(spec.nodes, [{
    name: 'ap', kind: 'avgpool', inputs: [-1], outputShape: [2, 4, 4],
    kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true,
  }]);
  const exclusive = parseOnnx(poolModel('AveragePool', [2, 6, 6], { kernel_shape: [2, 2], pads: [0, 1, 0, 1] }));
  assert.equal(exclusive.nodes[0].countIncludePad, false);
  assert.deepEqual(exclusive.nodes[0].outputShape, [2, 5, 7]);
  const same = parseOnnx(poolModel('AveragePool', [2, 5, 5], { kernel_shape: [2, 2], auto_pad: 'SAME_LOWER' }));
  assert.deepEqual(same.nodes[0].pads, [1, 1, 0, 0]);
  assert.deepEqual(same.nodes[0].outputShape, [2, 5, 5]);
  assert.throws(() => parseOnnx(poolModel('AveragePool', [1, 6, 6], { kernel_shape: [2, 2], dilations: [2, 2] }, 'ap')),
    /'ap' \(AveragePool\): dilations \[2,2\] are not supported \(only 1\)/);
  assert.throws(() => parseOnnx(poolModel('AveragePool', [1, 6, 6], { kernel_shape: [2, 2], count_include_pad: 2 }, 'ap')),
    /'ap' \(AveragePool\): count_include_pad must be 0 or 1, got 2/);
  // Padding-only windows have no average without count_include_pad; with it they are 0.
  assert.throws(() => parseOnnx(poolModel('AveragePool', [1, 4, 4], { kernel_shape: [2, 2], pads: [0, 0, 0, 3] }, 'ap')),
    /'ap' \(AveragePool\): output 4 along W would be computed from padding only/);
  assert.deepEqual(parseOnnx(poolModel('AveragePool', [1, 4, 4], { kernel_shape: [2, 2], pads: [0, 0, 0, 3], count_include_pad: 1 })).nodes[0].outputShape, [1, 3, 6]);
});

test('GlobalAveragePool becomes [C, 1, 1]', () => {
  const spec = parseOnnx(model({ inputShape: [5, 3, 4], nodes: [{ op: 'GlobalAveragePool', name: 'gap', inputs: ['x'], outputs: ['y'] }] }));
  assert.deepEqual(spec.nodes, [{ name: 'gap', kind: 'global-avgpool', inputs: [-1], outputShape: [5, 1, 1] }]);
  // Any rank: [N, C, L] → [C, 1]
  const oneD = parseOnnx(model({ inputShape: [5, 7], nodes: [{ op: 'GlobalAveragePool', name: 'gap', inputs: ['x'], outputs: ['y'] }] }));
  assert.deepEqual(oneD.nodes[0].outputShape, [5, 1]);
});

// ---------------------------------------------------------------------------------------------
// BatchNormalization
// ---------------------------------------------------------------------------------------------

function bnInitializers(channels, seed) {
  return {
    gamma: randomTensor([channels], seed), beta: randomTensor([channels], seed + 1),
    mean: randomTensor([channels], seed + 2), var: randomTensor([channels], seed + 3, { min: 0.2, max: 2 }),
  };
}

function bnNode(input, output, attrs = {}, name = 'bn') {
  return { op: 'BatchNormalization', name, inputs: [input, 'gamma', 'beta', 'mean', 'var'], outputs: [output], attrs };
}

/** s and β − μ·s of the bnInitializers, float64. */
function bnScaleShift(bn, epsilon = Math.fround(1e-5)) {
  const scale = Array.from(bn.gamma.data, (g, c) => g / Math.sqrt(bn.var.data[c] + epsilon));
  return { scale, shift: scale.map((s, c) => bn.beta.data[c] - bn.mean.data[c] * s) };
}

test('BatchNormalization after a Conv is merged into its weight and bias (RULES.md)', () => {
  for (const withBias of [true, false]) {
    const bn = bnInitializers(3, 40);
    const W = randomTensor([3, 2, 2, 2], 30);
    const B = randomTensor([3], 31);
    const spec = parseOnnx(model({
      inputShape: [2, 4, 4],
      nodes: [
        { op: 'Conv', name: 'conv', inputs: withBias ? ['x', 'W', 'B'] : ['x', 'W'], outputs: ['c'] },
        bnNode('c', 'y', { epsilon: 0.001 }),
      ],
      initializers: { W, ...(withBias ? { B } : {}), ...bn },
    }));
    assert.deepEqual(kinds(spec), ['conv'], `bias ${withBias}`);
    assert.equal(spec.nodes[0].name, 'conv');
    const { scale, shift } = bnScaleShift(bn, Math.fround(0.001));
    assertClose(spec.nodes[0].weight, Array.from(W.data, (w, k) => w * scale[Math.floor(k / 8)]), 1e-6, 'W·s');
    assertClose(spec.nodes[0].bias, scale.map((s, c) => (withBias ? B.data[c] : 0) * s + shift[c]), 1e-6, '(b − μ)·s + β');
  }
});

test('BatchNormalization after Gemm, and after MatMul + Add, is merged into the dense layer', () => {
  const bn = bnInitializers(2, 50);
  const { scale, shift } = bnScaleShift(bn);
  const gemm = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'B', 'C'], outputs: ['h'], attrs: { transB: 1 } }, bnNode('h', 'y')],
    initializers: { B: { dims: [2, 3], data: f32(1, 2, 3, 4, 5, 6) }, C: { dims: [2], data: f32(10, 20) }, ...bn },
  }));
  assert.deepEqual(kinds(gemm), ['dense']);
  assertClose(gemm.nodes[0].weight, [1, 2, 3, 4, 5, 6].map((w, k) => w * scale[Math.floor(k / 3)]), 1e-6, 'W·s');
  assertClose(gemm.nodes[0].bias, [10, 20].map((b, c) => b * scale[c] + shift[c]), 1e-5, 'bias');

  const matmul = parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['p'] },
      { op: 'Add', name: 'add', inputs: ['p', 'b'], outputs: ['h'] },
      bnNode('h', 'y'),
    ],
    initializers: { W: MATMUL_B, b: { dims: [2], data: f32(10, 20) }, ...bn },
  }));
  assert.deepEqual(kinds(matmul), ['dense']);
  assertClose(matmul.nodes[0].bias, [10, 20].map((b, c) => b * scale[c] + shift[c]), 1e-5, 'bias');
});

test('a BatchNormalization that cannot be merged becomes a batchnorm node with scale and shift', () => {
  const bn = bnInitializers(3, 60);
  const { scale, shift } = bnScaleShift(bn);
  // After a Relu (no linear layer), on a C×H×W tensor
  const afterRelu = parseOnnx(model({
    inputShape: [3, 2, 2],
    nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] }, bnNode('h', 'y')],
    initializers: bn,
  }));
  assert.deepEqual(kinds(afterRelu), ['relu', 'batchnorm']);
  const node = afterRelu.nodes[1];
  assert.deepEqual([node.name, node.inputs, node.outputShape], ['bn', [0], [3, 2, 2]]);
  assertClose(node.scale, scale, 1e-6, 'scale');
  assertClose(node.shift, shift, 1e-6, 'shift');
  assert.ok(node.scale instanceof Float32Array && node.shift instanceof Float32Array);
  // On the graph input, and on a conv output that something else reads too (a residual branch)
  assert.deepEqual(kinds(parseOnnx(model({ inputShape: [3, 2, 2], nodes: [bnNode('x', 'y')], initializers: bn }))), ['batchnorm']);
  const shared = parseOnnx(model({
    inputShape: [3, 4, 4],
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'W'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      bnNode('c', 'n'),
      { op: 'Add', name: 'res', inputs: ['c', 'n'], outputs: ['y'] },
    ],
    initializers: { W: randomTensor([3, 3, 3, 3], 61), ...bn },
  }));
  assert.deepEqual(kinds(shared), ['conv', 'batchnorm', 'add']);
  assert.deepEqual(shared.nodes[2].inputs, [0, 1]);
  // On a feature vector ([N, C] in ONNX terms) that no dense layer produced: per feature
  const dense = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] }, bnNode('h', 'y')],
    initializers: bn,
  }));
  assert.deepEqual(kinds(dense), ['relu', 'batchnorm']);
});

test('BatchNormalization errors: parameter shapes, training mode, non-finite normalization', () => {
  const bn = bnInitializers(3, 70);
  assert.throws(() => parseOnnx(model({ inputShape: [4, 2, 2], nodes: [bnNode('x', 'y')], initializers: bn })),
    /ONNX node 'bn' \(BatchNormalization\): scale 'gamma' must have shape \[4\] \(the channels of input \[batch, 4,2,2\]\), got \[3\]/);
  assert.throws(() => parseOnnx(model({ inputShape: [3, 2, 2], nodes: [bnNode('x', 'y', { training_mode: 1 })], initializers: bn })),
    /'bn' \(BatchNormalization\): training_mode=1 is not supported/);
  assert.throws(() => parseOnnx(model({
    inputShape: [3, 2, 2],
    nodes: [bnNode('x', 'y')],
    initializers: { ...bn, var: { dims: [3], data: f32(1, -1, 1) } },
  })), /'bn' \(BatchNormalization\): channel 1 has no finite normalization/);
});

// ---------------------------------------------------------------------------------------------
// Add, Sub, Concat
// ---------------------------------------------------------------------------------------------

test('Add of two computed tensors of the same shape is a residual add', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [
      { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] },
      { op: 'Add', name: 'res', inputs: ['h', 'x'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(spec.nodes[1], { name: 'res', kind: 'add', inputs: [0, -1], outputShape: [2, 3, 3], constant: null });
  // Two activations broadcast (numpy), per sample
  const broadcast = parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [
      { op: 'GlobalAveragePool', name: 'g', inputs: ['x'], outputs: ['h'] },
      { op: 'Add', name: 'res', inputs: ['h', 'x'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(broadcast.nodes[1], { name: 'res', kind: 'add', inputs: [0, -1], outputShape: [2, 3, 3], constant: null });
  assert.throws(() => parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [
      { op: 'MaxPool', name: 'p', inputs: ['x'], outputs: ['h'], attrs: { kernel_shape: [2, 2] } },
      { op: 'Add', name: 'res', inputs: ['h', 'x'], outputs: ['y'] },
    ],
  })), /ONNX node 'res' \(Add\): the shapes \[batch, 2,2,2\] and \[batch, 2,3,3\] do not broadcast/);
});

test('Add of a constant broadcasts it to the full output size, in either operand order', () => {
  const cases = [
    // [constant dims, data, expected over a [2, 2, 3] tensor]
    [[2, 1, 1], f32(1, 2), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]],
    [[1, 2, 1, 1], f32(1, 2), [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]],
    [[3], f32(1, 2, 3), [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]],
    [[2, 1], f32(5, 6), [5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6]],
    [[], f32(7), new Array(12).fill(7)],
    [[1], f32(7), new Array(12).fill(7)],
    [[2, 2, 3], randomFloats(12, 3), Array.from(randomFloats(12, 3))],
  ];
  for (const [dims, data, expected] of cases) {
    for (const inputs of [['h', 'c'], ['c', 'h']]) {
      const spec = parseOnnx(model({
        inputShape: [2, 2, 3],
        nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] }, { op: 'Add', name: 'add', inputs, outputs: ['y'] }],
        initializers: { c: { dims, data } },
      }));
      const add = spec.nodes[1];
      assert.deepEqual([add.kind, add.inputs, add.outputShape], ['add', [0], [2, 2, 3]], `[${dims}]`);
      assert.ok(add.constant instanceof Float32Array);
      assert.deepEqual(Array.from(add.constant), expected, `[${dims}] ${inputs}`);
    }
  }
});

test('Add of a constant that does not broadcast to the tensor is rejected; one that grows it expands it first', () => {
  const add = (dims, inputShape = [2, 2, 3]) => () => parseOnnx(model({
    inputShape,
    nodes: [{ op: 'Add', name: 'add', inputs: ['x', 'c'], outputs: ['y'] }],
    initializers: { c: randomTensor(dims) },
  }));
  assert.throws(add([3, 1, 1]), /ONNX node 'add' \(Add\): constant 'c' of shape \[3,1,1\] does not broadcast to the tensor's shape \[batch, 2,2,3\]/);
  assert.throws(add([2]), /constant 'c' of shape \[2\] does not broadcast/);
  assert.throws(add([2, 2, 2, 3]), /constant 'c' of shape \[2,2,2,3\] does not broadcast/, 'a batch of constants would broadcast the batch');
  assert.throws(add([2, 1, 1, 1], [1, 1, 1]), /constant 'c' of shape \[2,1,1,1\] does not broadcast .*: it would broadcast along the batch axis/);
  // A constant that enlarges the tensor: an expand node first, then the add.
  const grown = parseOnnx(model({
    inputShape: [1, 1, 1],
    nodes: [{ op: 'Add', name: 'add', inputs: ['x', 'c'], outputs: ['y'] }],
    initializers: { c: { dims: [4], data: f32(1, 2, 3, 4) } },
  }));
  assert.deepEqual(grown.nodes, [
    { name: 'add/expand', kind: 'expand', inputs: [-1], outputShape: [1, 1, 4] },
    { name: 'add', kind: 'add', inputs: [0], outputShape: [1, 1, 4], constant: f32(1, 2, 3, 4) },
  ]);
  // Two constants are folded.
  const folded = parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Add', name: 'add', inputs: ['c', 'c'], outputs: ['k'] }, { op: 'Add', name: 'add2', inputs: ['x', 'k'], outputs: ['y'] }],
    initializers: { c: { dims: [2], data: f32(1, 2) } },
  }));
  assert.deepEqual(folded.nodes, [{ name: 'add2', kind: 'add', inputs: [-1], outputShape: [2], constant: f32(2, 4) }]);
});

test('Sub of a constant is the add of its negation; a constant minus a tensor is mul −1 then add', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 1, 2],
    nodes: [{ op: 'Sub', name: 'sub', inputs: ['x', 'c'], outputs: ['y'] }],
    initializers: { c: { dims: [2, 1, 1], data: f32(1, -2) } },
  }));
  assert.deepEqual(spec.nodes, [{ name: 'sub', kind: 'add', inputs: [-1], outputShape: [2, 1, 2], constant: f32(-1, -1, 2, 2) }]);
  const reversed = parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Sub', name: 'sub', inputs: ['c', 'x'], outputs: ['y'] }],
    initializers: { c: { dims: [2], data: f32(3, 4) } },
  }));
  assert.deepEqual(reversed.nodes, [
    { name: 'sub/negate', kind: 'mul', inputs: [-1], outputShape: [2], constant: f32(-1, -1) },
    { name: 'sub', kind: 'add', inputs: [0], outputShape: [2], constant: f32(3, 4) },
  ]);
  assert.deepEqual(Array.from(referenceForward(reversed, f32(1, 5))), [2, -1]);
});

test('Concat of computed tensors along the channel axis', () => {
  for (const axis of [1, -3]) {
    const spec = parseOnnx(model({
      inputShape: [2, 3, 3],
      nodes: [
        { op: 'Conv', name: 'c', inputs: ['x', 'W'], outputs: ['h'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'Concat', name: 'cat', inputs: ['x', 'h', 'x'], outputs: ['y'], attrs: { axis } },
      ],
      initializers: { W: randomTensor([4, 2, 3, 3]) },
    }));
    assert.deepEqual(spec.nodes[1], { name: 'cat', kind: 'concat', inputs: [-1, 0, -1], outputShape: [8, 3, 3], axis: 0 }, `axis ${axis}`);
  }
  const features = parseOnnx(model({
    inputShape: [3],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['h'] }, { op: 'Concat', name: 'cat', inputs: ['x', 'h'], outputs: ['y'], attrs: { axis: 1 } }],
  }));
  assert.deepEqual(features.nodes[1].outputShape, [6]);
});

test('Concat on any axis but the batch, one input or many; errors: mismatched shapes, constants mixed in', () => {
  const concat = (axis, inputs = ['x', 'x'], inputShape = [2, 3, 3]) => parseOnnx(model({
    inputShape,
    nodes: [{ op: 'Concat', name: 'cat', inputs, outputs: ['y'], attrs: { axis } }, ],
  }));
  assert.deepEqual(concat(2).nodes[0], { name: 'cat', kind: 'concat', inputs: [-1, -1], outputShape: [2, 6, 3], axis: 1 });
  assert.deepEqual(concat(-1).nodes[0].outputShape, [2, 3, 6]);
  assert.throws(() => concat(0), /ONNX node 'cat' \(Concat\): axis 0 is the batch axis of the input \[batch, 2,3,3\]; operations along the batch are not supported/);
  assert.throws(() => concat(4), /'cat' \(Concat\): axis 4 is out of range for rank 4/);
  // One input (DenseNet): the identity, no node.
  const single = parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] }, { op: 'Concat', name: 'cat', inputs: ['h'], outputs: ['y'], attrs: { axis: 1 } }],
  }));
  assert.deepEqual(kinds(single), ['relu']);
  assert.throws(() => parseOnnx(model({
    inputShape: [2, 4, 4],
    nodes: [
      { op: 'MaxPool', inputs: ['x'], outputs: ['p'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
      { op: 'Concat', name: 'cat', inputs: ['x', 'p'], outputs: ['y'], attrs: { axis: 1 } },
    ],
  })), /'cat' \(Concat\): cannot concatenate shapes \[batch, 2,4,4\] and \[batch, 2,2,2\] along axis 1/);
  // A constant part (a CLS token) becomes a constant slot of the concat.
  const cls = parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Concat', name: 'cat', inputs: ['c', 'x'], outputs: ['y'], attrs: { axis: 1 } }],
    initializers: { c: { dims: [1, 3], data: f32(7, 8, 9) } },
  }));
  assert.deepEqual(cls.nodes.map((n) => [n.kind, n.inputs, n.outputShape, n.slots, Array.from(n.constant)]),
    [['concat', [-1], [5], [3, -1], [7, 8, 9]]]);
});

// ---------------------------------------------------------------------------------------------
// Pad
// ---------------------------------------------------------------------------------------------

/** Pad (opset 13 form) of [batch, C, H, W] with ONNX pads [0, 0, top, left, 0, 0, bottom, right]. */
function padNodes(pads, { value, output = 'p', name = 'pad' } = {}) {
  return {
    nodes: [{ op: 'Pad', name, inputs: value === undefined ? ['x', 'pads'] : ['x', 'pads', 'value'], outputs: [output], attrs: { mode: 'constant' } }],
    initializers: { pads: { dims: [8], data: int64s(...pads) }, ...(value === undefined ? {} : { value: { dims: [], data: f32(value) } }) },
  };
}

test('a zero Pad read only by an AveragePool is absorbed into its pads with countIncludePad', () => {
  const pad = padNodes([0, 0, 1, 2, 0, 0, 0, 1]);
  for (const [attrs, pads] of [[{}, [1, 2, 0, 1]], [{ count_include_pad: 1, pads: [1, 1, 1, 1] }, [2, 3, 1, 2]]]) {
    const spec = parseOnnx(model({
      inputShape: [2, 5, 5],
      nodes: [...pad.nodes, { op: 'AveragePool', name: 'ap', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2], ...attrs } }],
      initializers: pad.initializers,
    }));
    assert.deepEqual(kinds(spec), ['avgpool'], JSON.stringify(attrs));
    assert.deepEqual(spec.nodes[0].inputs, [-1]);
    assert.deepEqual(spec.nodes[0].pads, pads);
    assert.equal(spec.nodes[0].countIncludePad, true);
  }
  // count_include_pad=0 with the pool's own pads cannot count the Pad's cells and not its own: kept apart.
  const apart = parseOnnx(model({
    inputShape: [2, 5, 5],
    nodes: [...pad.nodes, { op: 'AveragePool', name: 'ap', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2], pads: [1, 1, 1, 1] } }],
    initializers: pad.initializers,
  }));
  assert.deepEqual(kinds(apart), ['pad', 'avgpool']);
  assert.deepEqual(apart.nodes[0], { name: 'pad', kind: 'pad', inputs: [-1], outputShape: [2, 6, 8], pads: [0, 1, 2, 0, 0, 1], value: 0 });
  assert.deepEqual([apart.nodes[1].inputs, apart.nodes[1].pads, apart.nodes[1].countIncludePad], [[0], [1, 1, 1, 1], false]);
});

test('a zero Pad read only by a Conv is absorbed into its pads', () => {
  const pad = padNodes([0, 0, 2, 0, 0, 0, 1, 3]);
  const spec = parseOnnx(model({
    inputShape: [2, 5, 5],
    nodes: [...pad.nodes, { op: 'Conv', name: 'conv', inputs: ['p', 'W'], outputs: ['y'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } }],
    initializers: { ...pad.initializers, W: randomTensor([3, 2, 3, 3]) },
  }));
  assert.deepEqual(kinds(spec), ['conv']);
  assert.deepEqual(spec.nodes[0].inputs, [-1]);
  assert.deepEqual(spec.nodes[0].pads, [3, 1, 2, 4]);
  assert.deepEqual(spec.nodes[0].outputShape, [3, 4, 4]); // H: ⌊(5+3+2−3)/2⌋+1, W: ⌊(5+1+4−3)/2⌋+1
});

test('other Pads become pad nodes: other readers, two readers, a non-zero value, the graph output', () => {
  const pad = padNodes([0, 0, 1, 0, 0, 0, 0, 1]);
  const relu = parseOnnx(model({ inputShape: [2, 3, 3], nodes: [...pad.nodes, { op: 'Relu', name: 'r', inputs: ['p'], outputs: ['y'] }], initializers: pad.initializers }));
  assert.deepEqual(relu.nodes, [
    { name: 'pad', kind: 'pad', inputs: [-1], outputShape: [2, 4, 4], pads: [0, 1, 0, 0, 0, 1], value: 0 },
    { name: 'r', kind: 'relu', inputs: [0], outputShape: [2, 4, 4] },
  ]);
  const maxpool = parseOnnx(model({ inputShape: [2, 3, 3], nodes: [...pad.nodes, { op: 'MaxPool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } }], initializers: pad.initializers }));
  assert.deepEqual(kinds(maxpool), ['pad', 'maxpool'], 'max-pool padding is −∞, not 0');
  const twoReaders = parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [
      ...pad.nodes,
      { op: 'Conv', name: 'conv', inputs: ['p', 'W'], outputs: ['c'] },
      { op: 'Conv', name: 'conv2', inputs: ['p', 'W'], outputs: ['d'] },
      { op: 'Add', inputs: ['c', 'd'], outputs: ['y'] },
    ],
    initializers: { ...pad.initializers, W: randomTensor([2, 2, 2, 2]) },
  }));
  assert.deepEqual(kinds(twoReaders), ['pad', 'conv', 'conv', 'add']);
  assert.deepEqual(twoReaders.nodes[1].pads, [0, 0, 0, 0]);
  const valued = padNodes([0, 0, 1, 1, 0, 0, 1, 1], { value: -0.5 });
  const nonZero = parseOnnx(model({
    inputShape: [2, 3, 3],
    nodes: [...valued.nodes, { op: 'Conv', name: 'conv', inputs: ['p', 'W'], outputs: ['y'] }],
    initializers: { ...valued.initializers, W: randomTensor([2, 2, 2, 2]) },
  }));
  assert.deepEqual(nonZero.nodes[0], { name: 'pad', kind: 'pad', inputs: [-1], outputShape: [2, 5, 5], pads: [0, 1, 1, 0, 1, 1], value: -0.5 });
  const last = padNodes([0, 0, 1, 1, 0, 0, 1, 1], { output: 'y' });
  assert.deepEqual(kinds(parseOnnx(model({ inputShape: [2, 3, 3], nodes: last.nodes, initializers: last.initializers }))), ['pad']);
});

test('Pad from attributes (opset < 11) and with an axes input (opset 18)', () => {
  const old = parseOnnx(model({
    opset: 10,
    inputShape: [1, 3, 3],
    nodes: [{ op: 'Pad', name: 'pad', inputs: ['x'], outputs: ['y'], attrs: { pads: [0, 0, 1, 2, 0, 0, 3, 4], value: 1.5 } }],
  }));
  assert.deepEqual(old.nodes, [{ name: 'pad', kind: 'pad', inputs: [-1], outputShape: [1, 7, 9], pads: [0, 1, 2, 0, 3, 4], value: 1.5 }]);
  const axes = parseOnnx(model({
    opset: 18,
    inputShape: [1, 3, 3],
    nodes: [{ op: 'Pad', name: 'pad', inputs: ['x', 'pads', '', 'axes'], outputs: ['y'] }],
    initializers: { pads: { dims: [4], data: int64s(1, 2, 3, 4) }, axes: { dims: [2], data: int64s(-1, 2) } },
  }));
  assert.deepEqual(axes.nodes[0].pads, [0, 2, 1, 0, 4, 3], 'axes [W, H]: begin W 1, H 2; end W 3, H 4 (per sample [C, H, W])');
});

test('Pad on any axis but the batch; errors: batch pads, negative pads, other modes', () => {
  const pad = (pads, inputShape = [2, 3, 3]) => () => parseOnnx(model({ inputShape, ...padNodes(pads, { output: 'y' }) }));
  assert.deepEqual(pad([0, 1, 0, 0, 0, 2, 0, 0])().nodes[0], { name: 'pad', kind: 'pad', inputs: [-1], outputShape: [5, 3, 3], pads: [1, 0, 0, 2, 0, 0], value: 0 });
  assert.throws(pad([1, 0, 0, 0, 0, 0, 0, 0]), /ONNX node 'pad' \(Pad\): cannot pad the batch axis: pads \[1,0,0,0,0,0,0,0\] for input \[batch, 2,3,3\]/);
  assert.throws(pad([0, 0, -1, 0, 0, 0, 0, 0]), /'pad' \(Pad\): pads \[0,0,-1,0,0,0,0,0\] must be non-negative integers \(cropping is not supported\)/);
  const features = parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Pad', name: 'pad', inputs: ['x', 'pads'], outputs: ['y'] }],
    initializers: { pads: { dims: [4], data: int64s(0, 1, 0, 2) } },
  }));
  assert.deepEqual(features.nodes[0], { name: 'pad', kind: 'pad', inputs: [-1], outputShape: [7], pads: [1, 2], value: 0 });
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 3, 3],
    nodes: [{ op: 'Pad', name: 'pad', inputs: ['x', 'pads'], outputs: ['y'], attrs: { mode: 'reflect' } }],
    initializers: { pads: { dims: [8], data: int64s(0, 0, 1, 1, 0, 0, 1, 1) } },
  })), /unsupported ONNX operator 'Pad' \(node 'pad'\): mode 'reflect' is not supported \(only 'constant'\)/);
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 3, 3],
    nodes: [{ op: 'Pad', name: 'pad', inputs: ['x', 'pads'], outputs: ['y'] }],
    initializers: { pads: { dims: [4], data: int64s(0, 0, 1, 1) } },
  })), /'pad' \(Pad\): pads \[0,0,1,1\] must have 8 values/);
  assert.throws(() => parseOnnx(model({ opset: 10, inputShape: [1, 3, 3], nodes: [{ op: 'Pad', name: 'pad', inputs: ['x'], outputs: ['y'] }] })),
    /'pad' \(Pad\): missing pads/);
  assert.throws(pad([0, 0, 2 ** 20, 2 ** 20, 0, 0, 0, 0]), /ONNX node 'pad' \(Pad\) output is too large/);
});

// ---------------------------------------------------------------------------------------------
// Element-wise activations
// ---------------------------------------------------------------------------------------------

test('LeakyRelu, Sigmoid, Tanh keep the shape; LeakyRelu alpha defaults to 0.01', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 2],
    nodes: [
      { op: 'LeakyRelu', name: 'l1', inputs: ['x'], outputs: ['a'] },
      { op: 'LeakyRelu', name: 'l2', inputs: ['a'], outputs: ['b'], attrs: { alpha: 0.25 } },
      { op: 'Sigmoid', name: 's', inputs: ['b'], outputs: ['c'] },
      { op: 'Tanh', name: 't', inputs: ['c'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(spec.nodes, [
    { name: 'l1', kind: 'leaky-relu', inputs: [-1], outputShape: [2, 2], alpha: 0.01 },
    { name: 'l2', kind: 'leaky-relu', inputs: [0], outputShape: [2, 2], alpha: 0.25 },
    { name: 's', kind: 'sigmoid', inputs: [1], outputShape: [2, 2] },
    { name: 't', kind: 'tanh', inputs: [2], outputShape: [2, 2] },
  ]);
});

test('Clip bounds from inputs (opset ≥ 11) or attributes (opset < 11); missing bounds are ±FLT_MAX', () => {
  const FLT_MAX = 3.4028234663852886e38;
  const clip = (opset, inputs, attrs, initializers = {}) => parseOnnx(model({
    opset, inputShape: [3], nodes: [{ op: 'Clip', name: 'clip', inputs, outputs: ['y'], attrs }], initializers,
  })).nodes[0];
  const bounds = { lo: { dims: [], data: f32(-1) }, hi: { dims: [], data: f32(6) } };
  assert.deepEqual(clip(13, ['x', 'lo', 'hi'], {}, bounds), { name: 'clip', kind: 'clip', inputs: [-1], outputShape: [3], min: -1, max: 6 });
  assert.deepEqual([clip(13, ['x', '', 'hi'], {}, bounds).min, clip(13, ['x', '', 'hi'], {}, bounds).max], [-FLT_MAX, 6]);
  assert.deepEqual([clip(13, ['x', 'lo'], {}, bounds).min, clip(13, ['x', 'lo'], {}, bounds).max], [-1, FLT_MAX]);
  assert.deepEqual([clip(13, ['x'], {}).min, clip(13, ['x'], {}).max], [-FLT_MAX, FLT_MAX]);
  const old = clip(6, ['x'], { min: { float: 0 }, max: { float: 6 } });
  assert.deepEqual([old.min, old.max], [0, 6]);
  assert.deepEqual([clip(6, ['x'], { max: 0.5 }).min, clip(6, ['x'], { max: 0.5 }).max], [-FLT_MAX, 0.5]);
  // Constant-node bounds (what PyTorch emits) and a Constant of infinity
  const viaConstant = parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'Constant', outputs: ['lo'], attrs: { value: { tensor: { dims: [], data: f32(-Infinity) } } } },
      { op: 'Constant', outputs: ['hi'], attrs: { value: { tensor: { dims: [], data: f32(1) } } } },
      { op: 'Clip', name: 'clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] },
    ],
  })).nodes[0];
  assert.deepEqual([viaConstant.min, viaConstant.max], [-FLT_MAX, 1]);
  assert.throws(() => clip(13, ['x', 'lo', 'hi'], {}, { ...bounds, lo: { dims: [2], data: f32(0, 1) } }),
    /ONNX node 'clip' \(Clip\): min 'lo' must be a scalar, got shape \[2\]/);
});

// ---------------------------------------------------------------------------------------------
// Relu, Flatten, Reshape, Identity, Dropout
// ---------------------------------------------------------------------------------------------

test('Relu keeps the shape', () => {
  const spec = parseOnnx(model({ inputShape: [2, 3], nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }] }));
  assert.deepEqual(spec.nodes, [{ name: 'r', kind: 'relu', inputs: [-1], outputShape: [2, 3] }]);
  assert.equal(spec.outputSize, 6);
});

test('Flatten with axis 1 (default and negative) becomes a reshape', () => {
  for (const attrs of [{}, { axis: 1 }, { axis: -3 }]) {
    const spec = parseOnnx(model({ inputShape: [2, 3, 4], nodes: [{ op: 'Flatten', name: 'f', inputs: ['x'], outputs: ['y'] }].map((n) => ({ ...n, attrs })) }));
    assert.deepEqual(spec.nodes, [{ name: 'f', kind: 'reshape', inputs: [-1], outputShape: [24] }], JSON.stringify(attrs));
  }
});

test('Flatten on any axis: the batch stays an axis where it is alone in its group, else it merges', () => {
  const flatten = (inputShape, axis, more = []) => parseOnnx(model({
    inputShape,
    nodes: [{ op: 'Flatten', name: 'f', inputs: ['x'], outputs: [more.length ? 'f' : 'y'], attrs: { axis } }, ...more],
    initializers: { W: randomTensor([5, 12]) },
  }));
  assert.deepEqual(flatten([1, 3, 4], 2).nodes[0].outputShape, [12]);
  // [N, 2, 3, 4] axis 2 → [N·2, 12]: per sample [2, 12]; the merged batch cannot be the output's first axis.
  assert.throws(() => flatten([2, 3, 4], 2), /the graph output 'y' of shape \[2,12\] does not keep the batch as its first axis/);
  const merged = flatten([2, 3, 4], 2, [{ op: 'Gemm', name: 'fc', inputs: ['f', 'W'], outputs: ['g'], attrs: { transB: 1 } },
    { op: 'Flatten', name: 'f2', inputs: ['g'], outputs: ['y'], attrs: { axis: 0 } }]);
  assert.deepEqual(merged.nodes.map((n) => n.outputShape), [[2, 12], [2, 5], [1, 10]]);
  // axis 0 → [1, N·6]: the leading 1 is the merged batch, the output has 6 values per sample.
  const all = flatten([2, 3], 0);
  assert.deepEqual(all.nodes[0].outputShape, [1, 6]);
  assert.equal(all.outputSize, 6);
});

test('Reshape with a constant shape: 0 copies, -1 infers, batch first', () => {
  const cases = [
    [[0, -1], [24]],
    [[0, 4, -1], [4, 6]],
    [[0, 0, 12], [2, 12]],
    [[-1, 24], [24]], // -1 first stands for the batch when the rest holds one example
    [[-1, 2, 12], [2, 12]],
  ];
  for (const [target, expected] of cases) {
    const spec = parseOnnx(model({
      inputShape: [2, 3, 4],
      nodes: [{ op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['y'] }],
      initializers: { shape: { dims: [target.length], data: int64s(...target) } },
    }));
    assert.deepEqual(spec.nodes, [{ name: 'rs', kind: 'reshape', inputs: [-1], outputShape: expected }], `target [${target}]`);
  }
});

test('Reshape target from a Constant node (value tensor and value_ints)', () => {
  const viaTensor = parseOnnx(model({
    inputShape: [2, 3],
    nodes: [
      { op: 'Constant', name: 'c', outputs: ['shape'], attrs: { value: { tensor: { dims: [2], data: int64s(0, 6) } } } },
      { op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(viaTensor.nodes[0].outputShape, [6]);
  const viaInts = parseOnnx(model({
    inputShape: [2, 3],
    nodes: [
      { op: 'Constant', name: 'c', outputs: ['shape'], attrs: { value_ints: [0, 3, 2] } },
      { op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(viaInts.nodes[0].outputShape, [3, 2]);
});

test('Reshape errors: element count mismatch, batch not kept, two -1', () => {
  const reshape = (target, inputShape = [2, 3]) => () => parseOnnx(model({
    inputShape,
    nodes: [{ op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['y'] }],
    initializers: { shape: { dims: [target.length], data: int64s(...target) } },
  }));
  assert.throws(reshape([0, 7]), /'rs' \(Reshape\): cannot reshape \[batch, 2,3\] to \[0,7\]: element count mismatch/);
  assert.throws(reshape([0, 4, -1]), /element count mismatch/);
  // A target that merges the batch runs per sample (batch size 1); the output must then start with it.
  assert.throws(reshape([2, -1]), /the graph output 'y' of shape \[2,3\] does not keep the batch as its first axis/);
  assert.throws(reshape([-1, 3]), /the graph output 'y' of shape \[2,3\] does not keep the batch as its first axis/);
  assert.throws(reshape([0, -1, -1]), /more than one -1/);
  assert.throws(reshape([0, -2]), /invalid size -2/);
  assert.throws(reshape([]), /element count mismatch/);
});

test('Reshape with a literal batch size is accepted when the input declares that batch size', () => {
  const spec = parseOnnx(buildModel({
    input: { name: 'x', shape: [1, 2, 3] },
    output: { name: 'y' },
    nodes: [{ op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['y'] }],
    initializers: { shape: { dims: [2], data: int64s(1, -1) } },
  }));
  assert.deepEqual(spec.inputShape, [2, 3]);
  assert.deepEqual(spec.nodes[0].outputShape, [6]);
});

test('Identity and Dropout become identity layers', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'Identity', name: 'id', inputs: ['x'], outputs: ['a'] },
      { op: 'Dropout', name: 'drop', inputs: ['a'], outputs: ['y', 'mask'] },
    ],
  }));
  assert.deepEqual(spec.nodes, [
    { name: 'id', kind: 'identity', inputs: [-1], outputShape: [3] },
    { name: 'drop', kind: 'identity', inputs: [0], outputShape: [3] },
  ]);
});

test('Dropout whose mask output is used is rejected', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'Dropout', name: 'drop', inputs: ['x'], outputs: ['y', 'mask'] },
      { op: 'Identity', name: 'use', inputs: ['mask'], outputs: ['m'] },
    ],
  })), /unsupported ONNX operator 'Dropout' \(node 'drop'\): its mask output 'mask' is used/);
});

// ---------------------------------------------------------------------------------------------
// Constant folding
// ---------------------------------------------------------------------------------------------

/** PyTorch's `x.view(x.size(0), -1)` at opset 13 (Unsqueeze axes as an input). */
function pytorchViewNodes() {
  return [
    { op: 'Shape', name: 'shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Constant', name: 'zero', outputs: ['i0'], attrs: { value: { tensor: { dims: [], data: int64s(0) } } } },
    { op: 'Gather', name: 'gather', inputs: ['s', 'i0'], outputs: ['n'], attrs: { axis: 0 } },
    { op: 'Constant', name: 'axes', outputs: ['ax'], attrs: { value: { tensor: { dims: [1], data: int64s(0) } } } },
    { op: 'Unsqueeze', name: 'unsq', inputs: ['n', 'ax'], outputs: ['n1'] },
    { op: 'Constant', name: 'minus1', outputs: ['m1'], attrs: { value: { tensor: { dims: [1], data: int64s(-1) } } } },
    { op: 'Concat', name: 'concat', inputs: ['n1', 'm1'], outputs: ['target'], attrs: { axis: 0 } },
    { op: 'Reshape', name: 'view', inputs: ['x', 'target'], outputs: ['flat'] },
  ];
}

test('folds PyTorch x.view(x.size(0), -1) (Shape → Gather → Unsqueeze → Concat → Reshape)', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 3, 4],
    nodes: [...pytorchViewNodes(), { op: 'Gemm', name: 'fc', inputs: ['flat', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { W: { dims: [5, 24], data: randomFloats(120) } },
  }));
  assert.deepEqual(kinds(spec), ['reshape', 'dense']);
  assert.deepEqual(spec.nodes[0], { name: 'view', kind: 'reshape', inputs: [-1], outputShape: [24] });
  assert.deepEqual(spec.nodes[1].outputShape, [5]);
});

test('folds the opset-11 form (Unsqueeze axes attribute)', () => {
  const nodes = pytorchViewNodes()
    .filter((node) => node.name !== 'axes')
    .map((node) => (node.op === 'Unsqueeze' ? { ...node, inputs: ['n'], attrs: { axes: [0] } } : node));
  const spec = parseOnnx(model({ inputShape: [3, 4], opset: 11, nodes: nodes.map((n) => (n.name === 'view' ? { ...n, outputs: ['y'] } : n)) }));
  assert.deepEqual(spec.nodes, [{ name: 'view', kind: 'reshape', inputs: [-1], outputShape: [12] }]);
});

test('folds Shape → Slice → Cast → Squeeze → Unsqueeze → Concat (int64 max as end)', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 3, 4],
    nodes: [
      { op: 'Shape', name: 'shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Slice', name: 'slice', inputs: ['s', 'starts', 'ends'], outputs: ['s01'] }, // [batch, 2]
      { op: 'Slice', name: 'tail', inputs: ['s', 'two', 'big'], outputs: ['s2'] }, // [3, 4]
      { op: 'Cast', name: 'cast', inputs: ['s01'], outputs: ['s01c'], attrs: { to: onnx.TensorProto.DataType.INT64 } },
      { op: 'Gather', name: 'first', inputs: ['s01c', 'zero1'], outputs: ['b1'] }, // [batch]
      { op: 'Squeeze', name: 'sq', inputs: ['b1', 'axis0'], outputs: ['b'] }, // scalar batch
      { op: 'Unsqueeze', name: 'unsq', inputs: ['b', 'axis0'], outputs: ['b1again'] },
      { op: 'Concat', name: 'concat', inputs: ['b1again', 'm1', 's2'], outputs: ['target'], attrs: { axis: 0 } }, // [batch, -1, 3, 4]
      { op: 'Reshape', name: 'rs', inputs: ['x', 'target'], outputs: ['y'] },
    ],
    initializers: {
      starts: { dims: [1], data: int64s(0) },
      ends: { dims: [1], data: int64s(2) },
      two: { dims: [1], data: int64s(2) },
      big: { dims: [1], data: BigInt64Array.of(INT64_MAX), raw: true },
      zero1: { dims: [1], data: int64s(0) },
      axis0: { dims: [1], data: int64s(0) },
      m1: { dims: [1], data: int64s(-1) },
    },
  }));
  assert.deepEqual(spec.nodes, [{ name: 'rs', kind: 'reshape', inputs: [-1], outputShape: [2, 3, 4] }]);
});

test('an operator with constant inputs that cannot be evaluated is named with its node', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Hardmax', name: 'h', inputs: ['c'], outputs: ['k'] }, { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
    initializers: { c: { dims: [4], data: f32(1, 2, 3, 4) } },
  })), { message: "unsupported ONNX operator 'Hardmax' (node 'h'): all its inputs are constants, but it cannot be evaluated at load time" });
});

test('a Reshape target holding the batch size elsewhere moves the batch axis there', () => {
  const nodes = pytorchViewNodes().map((node) => (node.op === 'Concat' ? { ...node, inputs: ['m1', 'n1'] } : node));
  // [N, 3, 4] → [12, N]: per sample [12]; as the graph output the batch is not first.
  assert.throws(() => parseOnnx(model({ inputShape: [3, 4], nodes: nodes.map((n) => (n.name === 'view' ? { ...n, outputs: ['y'] } : n)) })),
    /the graph output 'y' of shape \[12,batch\] does not keep the batch as its first axis/);
  // A Transpose puts it back first: per sample both are the identity.
  const back = parseOnnx(model({
    inputShape: [3, 4],
    nodes: [...nodes, { op: 'Transpose', name: 't', inputs: ['flat', ], outputs: ['y'], attrs: { perm: [1, 0] } }],
  }));
  assert.deepEqual(back.nodes, [{ name: 'view', kind: 'reshape', inputs: [-1], outputShape: [12] }]);
});

test('Constant nodes with value_float(s) and float tensors feed dense layers', () => {
  const spec = parseOnnx(model({
    inputShape: [2],
    nodes: [
      { op: 'Constant', name: 'w', outputs: ['W'], attrs: { value: { tensor: { dims: [2, 2], data: f32(1, 2, 3, 4) } } } },
      { op: 'Constant', name: 'b', outputs: ['B'], attrs: { value_floats: { floats: [0.5, 1.5] } } },
      { op: 'Constant', name: 's', outputs: ['S'], attrs: { value_float: { float: 3 } } },
      { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Add', name: 'add', inputs: ['h', 'B'], outputs: ['h2'] },
      { op: 'Gemm', name: 'fc', inputs: ['h2', 'W', 'S'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(kinds(spec), ['dense', 'dense']);
  assert.deepEqual(Array.from(spec.nodes[0].bias), [0.5, 1.5]);
  assert.deepEqual(Array.from(spec.nodes[1].bias), [3, 3]);
});

// ---------------------------------------------------------------------------------------------
// Initializer encodings
// ---------------------------------------------------------------------------------------------

test('initializers in raw_data and typed fields, float32/double/int32/int64, decode the same', () => {
  const weights = f32(1.5, -2, 0.25, 4, 8, -16);
  const variants = [
    { W: { dims: [2, 3], data: weights }, shape: { dims: [2], data: int64s(0, -1) } },
    { W: { dims: [2, 3], data: weights, raw: true }, shape: { dims: [2], data: int64s(0, -1), raw: true } },
    { W: { dims: [2, 3], data: Float64Array.from(weights) }, shape: { dims: [2], data: Int32Array.of(0, -1) } },
    { W: { dims: [2, 3], data: Float64Array.from(weights), raw: true }, shape: { dims: [2], data: Int32Array.of(0, -1), raw: true } },
  ];
  for (const initializers of variants) {
    const spec = parseOnnx(model({
      inputShape: [3, 1],
      nodes: [
        { op: 'Reshape', name: 'rs', inputs: ['x', 'shape'], outputs: ['flat'] },
        { op: 'Gemm', name: 'fc', inputs: ['flat', 'W'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      initializers,
    }));
    assert.ok(spec.nodes[1].weight instanceof Float32Array);
    assert.deepEqual(Array.from(spec.nodes[1].weight), Array.from(weights));
  }
});

// ---------------------------------------------------------------------------------------------
// Softmax, unsupported operators, pruning
// ---------------------------------------------------------------------------------------------

test('a trailing Softmax or LogSoftmax is stripped', () => {
  for (const op of ['Softmax', 'LogSoftmax']) {
    const spec = parseOnnx(model({
      inputShape: [3],
      outputShape: [2],
      nodes: [
        { op: 'Gemm', name: 'fc', inputs: ['x', 'W'], outputs: ['logits'], attrs: { transB: 1 } },
        { op, name: 'sm', inputs: ['logits'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      initializers: { W: { dims: [2, 3], data: randomFloats(6) } },
    }));
    assert.equal(spec.strippedSoftmax, op);
    assert.deepEqual(kinds(spec), ['dense']);
    assert.equal(spec.outputName, 'y');
    assert.equal(spec.outputSize, 2);
  }
});

test('a Softmax inside the graph is a softmax node; an inner LogSoftmax is unsupported', () => {
  const inner = (op, opset = 13, attrs = {}, inputShape = [2, 3]) => parseOnnx(model({
    opset,
    inputShape,
    nodes: [
      { op, name: 'inner', inputs: ['x'], outputs: ['p'], attrs },
      { op: 'Relu', name: 'r', inputs: ['p'], outputs: ['y'] },
    ],
  }));
  assert.deepEqual(inner('Softmax').nodes[0], { name: 'inner', kind: 'softmax', inputs: [-1], outputShape: [2, 3], axis: 1 });
  assert.equal(inner('Softmax', 13, { axis: 1 }).nodes[0].axis, 0);
  // Before opset 13 the axes from `axis` on are flattened: one axis only if the later ones have size 1.
  assert.equal(inner('Softmax', 11, { axis: 2 }).nodes[0].axis, 1);
  assert.equal(inner('Softmax', 11, { axis: 1 }, [3, 1]).nodes[0].axis, 0);
  assert.throws(() => inner('Softmax', 11, { axis: 1 }), /'inner' \(Softmax\): softmax over the flattened axes 1..2 of \[batch, 2,3\] \(opset 11\) is not supported/);
  assert.throws(() => inner('Softmax', 13, { axis: 0 }), /'inner' \(Softmax\): axis 0 is the batch axis/);
  assert.throws(() => inner('LogSoftmax'), { message: "unsupported ONNX operator 'LogSoftmax' (node 'inner'): only a trailing LogSoftmax that produces the graph output is supported (it is stripped)" });
});

test('an unsupported operator is named with its node', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'ConvTranspose', name: 'deconv1', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [1, 1, 1, 1], data: f32(1) } },
  })), { message: "unsupported ONNX operator 'ConvTranspose' (node 'deconv1')" });
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Relu', name: 'custom', inputs: ['x'], outputs: ['y'], domain: 'com.example' }],
  })), { message: "unsupported ONNX operator 'com.example.Relu' (node 'custom'): the model does not import its domain 'com.example' (opset_import lists ai.onnx)" });
  assert.throws(() => parseOnnx(model({ inputShape: [4], nodes: [{ op: 'Erf', inputs: ['x'], outputs: ['y'] }] })),
    { message: "unsupported ONNX operator 'Erf' (node 'Erf_0')" }, 'unnamed nodes get a positional name');
  assert.throws(() => parseOnnx(model({ inputShape: [1, 4, 4], nodes: [{ op: 'LpPool', name: 'lp', inputs: ['x'], outputs: ['y'] }] })),
    { message: "unsupported ONNX operator 'LpPool' (node 'lp')" });
  for (const op of ['Pow']) {
    assert.throws(() => parseOnnx(model({ inputShape: [4], nodes: [{ op, name: 'p', inputs: op === 'Pow' ? ['x', 'two'] : ['x'], outputs: ['y'] }], initializers: { two: { dims: [], data: f32(2) } } })),
      { message: `unsupported ONNX operator '${op}' (node 'p')` }, `${op} outside a fused pattern`);
  }
});

test('layers that do not feed the output are dropped, indices renumbered', () => {
  const spec = parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'Relu', name: 'unused', inputs: ['x'], outputs: ['u'] },
      { op: 'Identity', name: 'id', inputs: ['x'], outputs: ['a'] },
      { op: 'Relu', name: 'r', inputs: ['a'], outputs: ['y'] },
      { op: 'Relu', name: 'after', inputs: ['y'], outputs: ['z'] },
    ],
  }));
  assert.deepEqual(spec.nodes.map((n) => [n.name, n.inputs]), [['id', [-1]], ['r', [0]]]);
});

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

test('empty, random and truncated bytes are invalid models', () => {
  assert.throws(() => parseOnnx(new Uint8Array(0)), { message: 'invalid ONNX model: the file is empty' });
  assert.throws(() => parseOnnx('model.onnx'), /invalid ONNX model: expected a Uint8Array or ArrayBuffer, got string/);
  for (let seed = 1; seed <= 20; seed++) {
    const bytes = Uint8Array.from(randomFloats(256, seed), (v) => Math.floor((v + 1) * 128));
    assert.throws(() => parseOnnx(bytes), /^Error: (invalid|unsupported) ONNX (model|operator)/, `seed ${seed}`);
  }
  const golden = readFileSync(`${GOLDEN}tiny-mlp/model.onnx`);
  for (const length of [1, 10, 100, 500, golden.length - 1]) {
    assert.throws(() => parseOnnx(golden.subarray(0, length)), /^Error: invalid ONNX model: /, `truncated to ${length}`);
  }
});

test('structural errors: no graph, no input, several inputs or outputs', () => {
  assert.throws(() => parseOnnx(encodeModel(modelProto({ graph: false }))), { message: 'invalid ONNX model: the model has no graph' });
  assert.throws(() => parseOnnx(buildModel({ output: { name: 'y' } })), { message: 'invalid ONNX model: the graph has no input' });
  assert.throws(() => parseOnnx(buildModel({
    inputs: [{ name: 'a', shape: [null, 2] }, { name: 'b', shape: [null, 2] }],
    output: { name: 'y' },
  })), /the graph has 2 inputs \('a', 'b'\); exactly one is supported/);
  assert.throws(() => parseOnnx(buildModel({
    input: { name: 'x', shape: [null, 2] },
    outputs: [{ name: 'y' }, { name: 'z' }],
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }, { op: 'Relu', inputs: ['x'], outputs: ['z'] }],
  })), /the graph has 2 outputs \('y', 'z'\); exactly one is supported/);
  assert.throws(() => parseOnnx(buildModel({ input: { name: 'x', shape: [null, 2] } })), /the graph has 0 outputs/);
});

test('initializers listed among the graph inputs (old exporters) are not the input', () => {
  const spec = parseOnnx(buildModel({
    inputs: [{ name: 'W', shape: [2, 3] }, { name: 'x', shape: [null, 3] }],
    output: { name: 'y' },
    nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { W: { dims: [2, 3], data: randomFloats(6) } },
  }));
  assert.equal(spec.inputName, 'x');
});

test('input shape must be known except the batch dim, and the input float32', () => {
  const withInput = (input) => () => parseOnnx(buildModel({ input, output: { name: 'y' }, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] }));
  assert.throws(withInput({ name: 'x', shape: [null, 'width'] }), /the input 'x' has an unknown size in dimension 1 \('width'\)/);
  assert.throws(withInput({ name: 'x', shape: [null, undefined] }), /unknown size in dimension 1/);
  assert.throws(withInput({ name: 'x' }), /the input 'x' has no shape/);
  assert.throws(withInput({ name: 'x', shape: [null] }), /batch dimension followed by at least one more dimension, got rank 1/);
  assert.throws(withInput({ name: 'x', shape: [null, 0] }), /the input 'x' has an invalid dimension 0/);
  assert.throws(withInput({ name: 'x', shape: [null, 2], elemType: onnx.TensorProto.DataType.DOUBLE }), /input 'x' has element type DOUBLE; only float32/);
  // Any batch size is accepted and dropped.
  assert.deepEqual(parseOnnx(buildModel({ input: { name: 'x', shape: [7, 2] }, output: { name: 'y' }, nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] })).inputShape, [2]);
});

test('absurd sizes are rejected before allocating', () => {
  assert.throws(() => parseOnnx(buildModel({
    input: { name: 'x', shape: [null, 2 ** 20, 2 ** 10] },
    output: { name: 'y' },
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
  })), /the input 'x' is too large: shape \[1048576,1024\] exceeds 268435456 elements/);
  // Dims claim 2^40 elements with no data: must fail on the dims, not on an allocation.
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [2 ** 20, 2 ** 20], data: new Float32Array(0) } },
  })), /initializer 'W' is too large: dims \[1048576,1048576\] exceed 268435456 elements/);
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [2, -3], data: new Float32Array(0) } },
  })), /initializer 'W' has an invalid dimension -3/);
  // A reshape target far beyond the limit is caught by the shape check as well.
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Reshape', name: 'rs', inputs: ['x', 's'], outputs: ['y'] }],
    initializers: { s: { dims: [3], data: int64s(0, 2 ** 30, 2 ** 30) } },
  })), /'rs' \(Reshape\)/);
});

test('initializer data length must match its dims', () => {
  const withWeight = (W) => () => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { W: W },
  }));
  assert.throws(withWeight({ dims: [2, 2], data: f32(1, 2, 3) }), /initializer 'W' has 3 values, but its dims \[2,2\] need 4/);
  assert.throws(withWeight({ dims: [2, 2], data: f32(1, 2, 3), raw: true }), /initializer 'W' has 12 bytes of data, but its dims \[2,2\] need 16/);
});

test('external data is rejected', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Gemm', inputs: ['x', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { W: { dims: [2, 2], data: new Float32Array(0), external: true } },
  })), /initializer 'W' stores its data in an external file/);
});

test('the output must be computed from the input by at least one layer and match its declared shape', () => {
  assert.throws(() => parseOnnx(buildModel({ input: { name: 'x', shape: [null, 2] }, output: { name: 'x' } })), /the graph output 'x' is the input itself/);
  assert.throws(() => parseOnnx(buildModel({ input: { name: 'x', shape: [null, 2] }, output: { name: 'nowhere' } })), /no node produces the graph output 'nowhere'/);
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Identity', inputs: ['c'], outputs: ['y'] }],
    initializers: { c: { dims: [2], data: f32(1, 2) } },
  })), /the graph output 'y' does not depend on the input/);
  assert.throws(() => parseOnnx(model({ inputShape: [2], outputShape: [3], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] })),
    /the graph output 'y' is declared with shape \[3\] but computes \[2\]/);
});

test('a node reading a tensor nobody produced is rejected', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Relu', name: 'r', inputs: ['ghost'], outputs: ['y'] }],
  })), /ONNX node 'r' \(Relu\): input 'ghost' is not produced by any earlier node/);
});

// ---------------------------------------------------------------------------------------------
// Semantics cross-checked with onnxruntime
// ---------------------------------------------------------------------------------------------

test('reference forward of parsed specs matches onnxruntime on the synthetic models', async () => {
  const models = {
    'gemm transB=0 alpha beta': model({
      inputShape: [5],
      nodes: [
        { op: 'Gemm', inputs: ['x', 'W1', 'b1'], outputs: ['h'], attrs: { alpha: 0.75, beta: 1.25 } },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'W2', 'b2'], outputs: ['y'], attrs: { transB: 1, alpha: { float: 2 }, beta: 0.5 } },
      ],
      initializers: {
        W1: { dims: [5, 6], data: randomFloats(30, 2) }, b1: { dims: [1, 6], data: randomFloats(6, 3) },
        W2: { dims: [3, 6], data: randomFloats(18, 4) }, b2: { dims: [3], data: randomFloats(3, 5) },
      },
    }),
    'view + matmul/add': model({
      inputShape: [2, 3, 2],
      nodes: [
        ...pytorchViewNodes(),
        { op: 'MatMul', inputs: ['flat', 'W'], outputs: ['h'] },
        { op: 'Add', inputs: ['b', 'h'], outputs: ['y'] },
      ],
      initializers: { W: { dims: [12, 4], data: randomFloats(48, 6) }, b: { dims: [4], data: randomFloats(4, 7) } },
    }),
    'flatten + dropout + softmax': model({
      inputShape: [1, 4, 2],
      nodes: [
        { op: 'Flatten', inputs: ['x'], outputs: ['f'], attrs: { axis: 2 } },
        { op: 'Dropout', inputs: ['f'], outputs: ['d'] },
        { op: 'Gemm', inputs: ['d', 'W'], outputs: ['logits'], attrs: { transB: 1 } },
        { op: 'LogSoftmax', inputs: ['logits'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      initializers: { W: { dims: [3, 8], data: randomFloats(24, 8) } },
    }),
  };
  for (const [name, bytes] of Object.entries(models)) {
    const spec = parseOnnx(bytes);
    const input = randomFloats(spec.inputShape.reduce((a, b) => a * b, 1), 11);
    let expected = await runtimeForward(bytes, input, spec.inputShape);
    if (spec.strippedSoftmax) {
      // The spec stops at the logits; compare log-softmax of ours with the runtime's output.
      const logits = referenceForward(spec, input);
      const logSum = Math.log(logits.reduce((sum, v) => sum + Math.exp(v), 0));
      assertClose(logits.map((v) => v - logSum), expected, 1e-5, name);
      continue;
    }
    assertClose(referenceForward(spec, input), expected, 1e-5, name);
  }
});

test('reference forward of parsed conv/residual specs matches onnxruntime on the original models (folding keeps the forward pass)', async () => {
  const bn = (prefix, channels, seed) => Object.fromEntries(Object.entries(bnInitializers(channels, seed)).map(([k, v]) => [`${prefix}${k}`, v]));
  const bnOp = (prefix, input, output, attrs = {}) => ({
    op: 'BatchNormalization', inputs: [input, `${prefix}gamma`, `${prefix}beta`, `${prefix}mean`, `${prefix}var`], outputs: [output], attrs,
  });
  const pads8 = (top, left, bottom, right) => ({ dims: [8], data: int64s(0, 0, top, left, 0, 0, bottom, right) });
  const models = {
    'conv stride + asymmetric pads, maxpool ceil_mode, flatten, gemm': model({
      inputShape: [2, 9, 8],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c'], attrs: { strides: [2, 1], pads: [1, 0, 2, 1] } },
        { op: 'Relu', inputs: ['c'], outputs: ['r'] },
        { op: 'MaxPool', inputs: ['r'], outputs: ['p'], attrs: { kernel_shape: [2, 3], strides: [2, 2], pads: [0, 1, 1, 0], ceil_mode: 1 } },
        { op: 'Flatten', inputs: ['p'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W2', 'B2'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      initializers: { W1: randomTensor([3, 2, 3, 3], 1), B1: randomTensor([3], 2), W2: randomTensor([4, 3 * 3 * 4], 3), B2: randomTensor([4], 4) },
    }),
    'dilation, groups, depthwise, auto_pad SAME_UPPER / SAME_LOWER / VALID': model({
      inputShape: [4, 9, 10],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1'], outputs: ['a'], attrs: { dilations: [2, 3], pads: [2, 3, 2, 3] } },
        { op: 'Conv', inputs: ['a', 'W2', 'B2'], outputs: ['b'], attrs: { group: 2, auto_pad: 'SAME_UPPER', strides: [2, 2] } },
        { op: 'Conv', inputs: ['b', 'W3', 'B3'], outputs: ['c'], attrs: { group: 6, auto_pad: 'SAME_LOWER', kernel_shape: [2, 2] } },
        { op: 'Conv', inputs: ['c', 'W4'], outputs: ['y'], attrs: { auto_pad: 'VALID', strides: [1, 2] } },
      ],
      initializers: {
        W1: randomTensor([4, 4, 3, 3], 5), W2: randomTensor([6, 2, 3, 4], 6), B2: randomTensor([6], 7),
        W3: randomTensor([12, 1, 2, 2], 8), B3: randomTensor([12], 9), W4: randomTensor([2, 12, 2, 2], 10),
      },
    }),
    'batch-norm merged into conv (no bias) and gemm, leaky relu': model({
      inputShape: [3, 6, 6],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
        bnOp('a', 'c', 'n', { epsilon: 0.01 }),
        { op: 'LeakyRelu', inputs: ['n'], outputs: ['r'], attrs: { alpha: 0.2 } },
        { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W2', 'B2'], outputs: ['h'], attrs: { transB: 1 } },
        bnOp('b', 'h', 'y'),
      ],
      initializers: { W1: randomTensor([5, 3, 3, 3], 11), W2: randomTensor([4, 5], 12), B2: randomTensor([4], 13), ...bn('a', 5, 14), ...bn('b', 4, 18) },
    }),
    'matmul + add + batch-norm, standalone batch-norms': model({
      inputShape: [6],
      nodes: [
        bnOp('a', 'x', 'n0'),
        { op: 'MatMul', inputs: ['n0', 'W'], outputs: ['m'] },
        { op: 'Add', inputs: ['b', 'm'], outputs: ['h'] },
        bnOp('b', 'h', 'n1'),
        { op: 'Tanh', inputs: ['n1'], outputs: ['t'] },
        bnOp('c', 't', 'y'),
      ],
      initializers: { W: randomTensor([6, 3], 22), b: randomTensor([3], 23), ...bn('a', 6, 24), ...bn('b', 3, 28), ...bn('c', 3, 32) },
    }),
    'residual block: conv-bn-relu-conv-bn + identity, relu, global pool, gemm': model({
      inputShape: [4, 5, 5],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
        bnOp('a', 'c1', 'n1'),
        { op: 'Relu', inputs: ['n1'], outputs: ['r1'] },
        { op: 'Conv', inputs: ['r1', 'W2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
        bnOp('b', 'c2', 'n2'),
        { op: 'Add', inputs: ['n2', 'x'], outputs: ['s'] },
        { op: 'Relu', inputs: ['s'], outputs: ['r2'] },
        { op: 'GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
        { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { op: 'Gemm', inputs: ['f', 'W3', 'B3'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      initializers: {
        W1: randomTensor([4, 4, 3, 3], 36), B1: randomTensor([4], 37), W2: randomTensor([4, 4, 3, 3], 38), W3: randomTensor([3, 4], 39), B3: randomTensor([3], 40),
        ...bn('a', 4, 41), ...bn('b', 4, 45),
      },
    }),
    'conv output + constant [C,1,1], minus a constant, shared conv output with its batch-norm': model({
      inputShape: [2, 4, 4],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'Add', inputs: ['k', 'c'], outputs: ['a'] },
        { op: 'Sub', inputs: ['a', 'm'], outputs: ['s'] },
        bnOp('a', 's', 'n'),
        { op: 'Add', inputs: ['s', 'n'], outputs: ['y'] },
      ],
      initializers: { W: randomTensor([3, 2, 2, 2], 50), k: randomTensor([3, 1, 1], 51), m: randomTensor([1, 3], 52), ...bn('a', 3, 53) },
    }),
    'concat of two branches and the input': model({
      inputShape: [2, 5, 5],
      nodes: [
        { op: 'Conv', inputs: ['x', 'W1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
        { op: 'MaxPool', inputs: ['x'], outputs: ['b'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { op: 'Concat', inputs: ['a', 'x', 'b'], outputs: ['c'], attrs: { axis: -3 } },
        { op: 'Conv', inputs: ['c', 'W2', 'B2'], outputs: ['y'], attrs: { kernel_shape: [1, 1] } },
      ],
      initializers: { W1: randomTensor([3, 2, 3, 3], 57), W2: randomTensor([2, 7, 1, 1], 58), B2: randomTensor([2], 59) },
    }),
    'PyTorch AvgPool2d(padding): zero Pad + AveragePool, absorbed': model({
      inputShape: [2, 7, 6],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads'], outputs: ['p'], attrs: { mode: 'constant' } },
        { op: 'AveragePool', inputs: ['p'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
      ],
      initializers: { pads: pads8(1, 1, 1, 1) },
    }),
    'zero Pad + AveragePool count_include_pad with own pads (kept: PyTorch and ONNX ceil sizes differ); zero Pad + Conv, absorbed': model({
      inputShape: [2, 6, 7],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads1', 'zero'], outputs: ['p'] },
        { op: 'AveragePool', inputs: ['p'], outputs: ['a'], attrs: { kernel_shape: [2, 3], strides: [2, 2], pads: [0, 1, 1, 0], count_include_pad: 1, ceil_mode: 1 } },
        { op: 'Pad', inputs: ['a', 'pads2'], outputs: ['q'] },
        { op: 'Conv', inputs: ['q', 'W', 'B'], outputs: ['y'], attrs: { strides: [2, 1], pads: [0, 1, 0, 0] } },
      ],
      initializers: { pads1: pads8(2, 0, 1, 1), zero: { dims: [], data: f32(0) }, pads2: pads8(0, 1, 2, 0), W: randomTensor([3, 2, 3, 2], 60), B: randomTensor([3], 61) },
    }),
    'Pads kept: non-zero value before a conv, before a relu, before an exclusive average pool with own pads': model({
      inputShape: [2, 5, 5],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads1', 'value'], outputs: ['p'] },
        { op: 'Conv', inputs: ['p', 'W'], outputs: ['c'] },
        { op: 'Pad', inputs: ['c', 'pads2'], outputs: ['q'] },
        { op: 'Relu', inputs: ['q'], outputs: ['r'] },
        { op: 'Pad', inputs: ['r', 'pads3'], outputs: ['s'] },
        { op: 'AveragePool', inputs: ['s'], outputs: ['y'], attrs: { kernel_shape: [2, 2], pads: [1, 1, 0, 0] } },
      ],
      initializers: {
        pads1: pads8(1, 2, 0, 1), value: { dims: [1], data: f32(0.75) }, W: randomTensor([2, 2, 2, 2], 62),
        pads2: pads8(0, 0, 1, 1), pads3: pads8(1, 0, 0, 1),
      },
    }),
    'pooling: average without count_include_pad + ceil_mode, max with dilation and pads, clip, sigmoid': model({
      inputShape: [2, 9, 8],
      nodes: [
        { op: 'AveragePool', inputs: ['x'], outputs: ['a'], attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], ceil_mode: 1 } },
        { op: 'MaxPool', inputs: ['x'], outputs: ['b'], attrs: { kernel_shape: [2, 3], dilations: [2, 1], pads: [1, 1, 0, 1], strides: [2, 2], ceil_mode: 1 } },
        { op: 'Clip', inputs: ['a', 'lo', ''], outputs: ['ca'] },
        { op: 'Sigmoid', inputs: ['b'], outputs: ['sb'] },
        { op: 'Concat', inputs: ['ca', 'sb'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      initializers: { lo: { dims: [], data: f32(-0.25) } },
    }),
    'opset 10: Pad and Clip from attributes': model({
      opset: 10,
      inputShape: [1, 4, 4],
      nodes: [
        { op: 'Pad', inputs: ['x'], outputs: ['p'], attrs: { pads: [0, 0, 1, 0, 0, 0, 0, 2], value: -0.5 } },
        { op: 'Clip', inputs: ['p'], outputs: ['c'], attrs: { min: -0.3, max: { float: 0.6 } } },
        { op: 'Pad', inputs: ['c'], outputs: ['q'], attrs: { pads: [0, 0, 1, 1, 0, 0, 1, 1] } },
        { op: 'AveragePool', inputs: ['q'], outputs: ['y'], attrs: { kernel_shape: [2, 2] } },
      ],
    }),
    'opset 18: Pad with axes': model({
      opset: 18,
      inputShape: [2, 3, 4],
      nodes: [
        { op: 'Pad', inputs: ['x', 'pads', '', 'axes'], outputs: ['p'] },
        { op: 'Conv', inputs: ['p', 'W'], outputs: ['y'] },
      ],
      initializers: { pads: { dims: [4], data: int64s(2, 0, 1, 1) }, axes: { dims: [2], data: int64s(3, 2) }, W: randomTensor([1, 2, 3, 3], 63) },
    }),
  };
  const expectedKinds = {
    'batch-norm merged into conv (no bias) and gemm, leaky relu': ['conv', 'leaky-relu', 'global-avgpool', 'reshape', 'dense'],
    'matmul + add + batch-norm, standalone batch-norms': ['batchnorm', 'dense', 'tanh', 'batchnorm'],
    'residual block: conv-bn-relu-conv-bn + identity, relu, global pool, gemm': ['conv', 'relu', 'conv', 'add', 'relu', 'global-avgpool', 'reshape', 'dense'],
    'conv output + constant [C,1,1], minus a constant, shared conv output with its batch-norm': ['conv', 'add', 'add', 'batchnorm', 'add'],
    'PyTorch AvgPool2d(padding): zero Pad + AveragePool, absorbed': ['avgpool'],
    'zero Pad + AveragePool count_include_pad with own pads (kept: PyTorch and ONNX ceil sizes differ); zero Pad + Conv, absorbed': ['pad', 'avgpool', 'conv'],
    'Pads kept: non-zero value before a conv, before a relu, before an exclusive average pool with own pads': ['pad', 'conv', 'pad', 'relu', 'pad', 'avgpool'],
    'opset 10: Pad and Clip from attributes': ['pad', 'clip', 'avgpool'],
    'opset 18: Pad with axes': ['conv'],
  };
  for (const [name, bytes] of Object.entries(models)) {
    const spec = parseOnnx(bytes);
    if (expectedKinds[name]) assert.deepEqual(kinds(spec), expectedKinds[name], name);
    for (const seed of [101, 102]) {
      const input = randomFloats(spec.inputShape.reduce((a, b) => a * b, 1), seed);
      const expected = await runtimeForward(bytes, input, spec.inputShape).catch((e) => { throw new Error(`${name}: ${e.message}`); });
      assert.equal(spec.outputSize, expected.length, `${name}: output size`);
      const scale = Math.max(1, ...Array.from(expected, Math.abs));
      assertClose(referenceForward(spec, input), expected, 1e-4 * scale, name);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// N-D tensors and today's operators (issue 8), each checked against onnxruntime where it can run
// ---------------------------------------------------------------------------------------------

const i64 = (...values) => ({ dims: [values.length], data: int64s(...values) });
const scalar = (value) => ({ dims: [], data: f32(value) });

/** parseOnnx, then the reference forward of the spec against onnxruntime on two random inputs. */
async function crossCheck(name, bytes, { kinds: expectedKinds, tolerance = 1e-4 } = {}) {
  const spec = parseOnnx(bytes);
  if (expectedKinds) assert.deepEqual(kinds(spec), expectedKinds, name);
  for (const seed of [201, 202]) {
    const input = randomFloats(spec.inputShape.reduce((a, b) => a * b, 1), seed);
    const expected = await runtimeForward(bytes, input, spec.inputShape).catch((e) => { throw new Error(`${name}: ${e.message}`); });
    assert.equal(spec.outputSize, expected.length, `${name}: output size`);
    const scale = Math.max(1, ...Array.from(expected, Math.abs));
    assertClose(referenceForward(spec, input), expected, tolerance * scale, name);
  }
  return spec;
}

/** Shape(x) → Gather(index) → Unsqueeze: a one-element int64 tensor holding dim `index` of `x`. */
function dimOf(x, index, out) {
  return [
    { op: 'Shape', inputs: [x], outputs: [`${out}_s`] },
    { op: 'Gather', inputs: [`${out}_s`, `${out}_i`], outputs: [`${out}_g`], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: [`${out}_g`, 'axes0'], outputs: [out] },
  ];
}
const dimInitializers = (out, index) => ({ [`${out}_i`]: { dims: [], data: int64s(index) } });

test('sequence-first attention layout: [N,T,E] → Transpose → [T,N,E] → Reshape [T, N·2, E/2] → Transpose → back', async () => {
  // Every shape comes from the graph's own Shape arithmetic, as torch exports nn.MultiheadAttention.
  const bytes = model({
    inputShape: [3, 4],
    nodes: [
      { op: 'Transpose', name: 'tnf', inputs: ['x'], outputs: ['t'], attrs: { perm: [1, 0, 2] } },       // [T, N, E]
      ...dimOf('t', 1, 'n'),                                                                             // N (symbolic)
      { op: 'Mul', inputs: ['n', 'two'], outputs: ['n2'] },                                              // N·2
      { op: 'Concat', inputs: ['T', 'n2', 'half'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', name: 'heads', inputs: ['t', 'target'], outputs: ['h'] },                         // [T, N·2, 2]
      { op: 'Transpose', name: 'hf', inputs: ['h'], outputs: ['hT'], attrs: { perm: [1, 0, 2] } },       // [N·2, T, 2]
      { op: 'Transpose', name: 'kT', inputs: ['hT'], outputs: ['hTt'], attrs: { perm: [0, 2, 1] } },     // [N·2, 2, T]
      { op: 'MatMul', name: 'scores', inputs: ['hT', 'hTt'], outputs: ['s'] },                          // [N·2, T, T]
      { op: 'Softmax', name: 'attn', inputs: ['s'], outputs: ['a'], attrs: { axis: -1 } },
      { op: 'MatMul', name: 'mix', inputs: ['a', 'hT'], outputs: ['o'] },                               // [N·2, T, 2]
      { op: 'Transpose', name: 'back', inputs: ['o'], outputs: ['oT'], attrs: { perm: [1, 0, 2] } },     // [T, N·2, 2]
      ...dimOf('x', 0, 'nb'),
      { op: 'Concat', inputs: ['T', 'nb', 'E'], outputs: ['target2'], attrs: { axis: 0 } },
      { op: 'Reshape', name: 'merge', inputs: ['oT', 'target2'], outputs: ['m'] },                      // [T, N, E]
      { op: 'Transpose', name: 'nfirst', inputs: ['m'], outputs: ['nf'], attrs: { perm: [1, 0, 2] } },  // [N, T, E]
      { op: 'Flatten', name: 'flat', inputs: ['nf'], outputs: ['f'] },
      { op: 'Gemm', name: 'head', inputs: ['f', 'W'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: {
      axes0: i64(0), two: i64(2), T: i64(3), half: i64(2), E: i64(4), ...dimInitializers('n', 1), ...dimInitializers('nb', 0),
      W: randomTensor([5, 12], 3),
    },
  });
  const spec = await crossCheck('attention layout', bytes);
  const byName = Object.fromEntries(spec.nodes.map((n) => [n.name, n]));
  // Per sample the first Transpose is the identity: no node. The batch merges into N·2 (per sample 2).
  assert.equal(byName.tnf, undefined);
  assert.deepEqual(byName.heads.outputShape, [3, 2, 2]);
  assert.deepEqual([byName.hf.kind, byName.hf.perm, byName.hf.outputShape], ['transpose', [1, 0, 2], [2, 3, 2]]);
  assert.deepEqual([byName.scores.kind, byName.scores.outputShape], ['matmul', [2, 3, 3]]);
  assert.deepEqual([byName.attn.kind, byName.attn.axis], ['softmax', 2]);
  // The batch comes back from the Shape of x: [T, N, E] per sample [3, 4], and [N, T, E] needs no node.
  assert.deepEqual(byName.merge.outputShape, [3, 4]);
  assert.equal(byName.nfirst, undefined);
  assert.deepEqual(byName.flat.outputShape, [12]);
  assert.deepEqual(kinds(spec), ['reshape', 'transpose', 'transpose', 'matmul', 'softmax', 'matmul', 'transpose', 'reshape', 'reshape', 'dense']);
});

test('channel shuffle (Reshape → Transpose → Reshape), Split into slices, Concat on the channels', async () => {
  const bytes = model({
    inputShape: [4, 3, 3],
    nodes: [
      { op: 'Split', name: 'split', inputs: ['x', 'parts'], outputs: ['a', 'b'], attrs: { axis: 1 } },
      { op: 'Relu', name: 'r', inputs: ['b'], outputs: ['rb'] },
      { op: 'Concat', name: 'cat', inputs: ['a', 'rb'], outputs: ['c'], attrs: { axis: 1 } },
      ...dimOf('c', 0, 'n'),
      { op: 'Concat', inputs: ['n', 'g'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', name: 'groups', inputs: ['c', 'target'], outputs: ['grouped'] },                 // [N, 2, 2, 3, 3]
      { op: 'Transpose', name: 'shuffle', inputs: ['grouped'], outputs: ['t'], attrs: { perm: [0, 2, 1, 3, 4] } },
      { op: 'Reshape', name: 'ungroup', inputs: ['t', 'flat'], outputs: ['y'] },                        // [N, 4, 3, 3]
    ],
    initializers: { parts: i64(2, 2), axes0: i64(0), g: i64(2, 2, 3, 3), flat: i64(0, 4, 3, 3), ...dimInitializers('n', 0) },
  });
  const spec = await crossCheck('shuffle', bytes, { kinds: ['slice', 'slice', 'relu', 'concat', 'reshape', 'transpose', 'reshape'] });
  assert.deepEqual(spec.nodes[0], { name: 'split:0', kind: 'slice', inputs: [-1], outputShape: [2, 3, 3], starts: [0, 0, 0], ends: [2, 3, 3], steps: [1, 1, 1] });
  assert.deepEqual(spec.nodes[1].starts, [2, 0, 0]);
  assert.deepEqual(spec.nodes[5].perm, [1, 0, 2, 3]);
});

test('Slice (steps, negative indices, clamping), Gather, Squeeze/Unsqueeze, Expand on activations', async () => {
  const bytes = model({
    inputShape: [5, 4],
    nodes: [
      { op: 'Slice', name: 'sl', inputs: ['x', 'st', 'en', 'ax', 'sp'], outputs: ['s'] },   // rows 4,2 (step −2), cols 1..end
      { op: 'Gather', name: 'g', inputs: ['s', 'idx'], outputs: ['gt'], attrs: { axis: 2 } }, // cols [2, 0] of the 3
      { op: 'Unsqueeze', name: 'un', inputs: ['gt', 'ax2'], outputs: ['u'] },                 // [N, 2, 1, 2]
      { op: 'Expand', name: 'ex', inputs: ['u', 'shape'], outputs: ['e'] },                   // [N, 2, 3, 2]
      { op: 'Gather', name: 'first', inputs: ['e', 'zero'], outputs: ['f'], attrs: { axis: 1 } }, // [N, 3, 2]
      { op: 'Squeeze', name: 'sq', inputs: ['f'], outputs: ['y'] },
    ],
    initializers: {
      st: i64(-1, 1), en: i64(-10, 100), ax: i64(1, 2), sp: i64(-2, 1), idx: i64(2, -3), ax2: i64(2),
      shape: i64(1, 1, 3, 1), zero: { dims: [], data: int64s(0) },
    },
  });
  const spec = await crossCheck('re-indexing', bytes, { kinds: ['slice', 'gather', 'reshape', 'expand', 'gather', 'reshape'] });
  assert.deepEqual(spec.nodes[0], { name: 'sl', kind: 'slice', inputs: [-1], outputShape: [3, 3], starts: [4, 1], ends: [-1, 4], steps: [-2, 1] });
  assert.deepEqual(spec.nodes[1], { name: 'g', kind: 'gather', inputs: [0], outputShape: [3, 2], axis: 1, indices: [2, 0], indicesShape: [2] });
  assert.deepEqual(spec.nodes[4], { name: 'first', kind: 'gather', inputs: [3], outputShape: [3, 2], axis: 0, indices: [0], indicesShape: [] });
  assert.throws(() => parseOnnx(model({
    inputShape: [5],
    nodes: [{ op: 'Gather', name: 'g', inputs: ['x', 'zero'], outputs: ['y'], attrs: { axis: 0 } }],
    initializers: { zero: { dims: [], data: int64s(0) } },
  })), /'g' \(Gather\): axis 0 is the batch axis of the input \[batch, 5\]/);
});

test('MatMul on [N, T, F] is a dense layer along the last axis with its bias; a constant left operand is refused', async () => {
  const bytes = model({
    inputShape: [3, 4],
    nodes: [
      { op: 'MatMul', name: 'fc', inputs: ['x', 'W'], outputs: ['m'] },
      { op: 'Add', name: 'bias', inputs: ['b', 'm'], outputs: ['h'] },
      ...dimOf('h', 0, 'n'),
      { op: 'Concat', inputs: ['n', 'one', 'minus'], outputs: ['target'], attrs: { axis: 0 } },
      { op: 'Reshape', name: 'view', inputs: ['h', 'target'], outputs: ['v'] },  // x.view(N, 1, -1)
      { op: 'MatMul', name: 'fc2', inputs: ['v', 'W2'], outputs: ['y'] },
    ],
    initializers: { W: randomTensor([4, 2], 5), b: randomTensor([2], 6), axes0: i64(0), one: i64(1), minus: i64(-1), ...dimInitializers('n', 0), W2: randomTensor([6, 3], 7) },
  });
  const spec = await crossCheck('sequence dense', bytes, { kinds: ['dense', 'reshape', 'dense'] });
  assert.deepEqual(spec.nodes[0].outputShape, [3, 2]);
  assert.ok(spec.nodes[0].bias instanceof Float32Array && spec.nodes[0].bias.length === 2);
  assert.deepEqual(spec.nodes[2].outputShape, [1, 3]);
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'MatMul', name: 'left', inputs: ['W', 'x'], outputs: ['y'] }],
    initializers: { W: randomTensor([4, 4]) },
  })), /unsupported ONNX operator 'MatMul' \(node 'left'\): the left operand 'W' is a constant/);
});

test('Add/Sub/Mul/Div: constants pre-broadcast (Div c → mul 1/c), two activations with broadcasting (squeeze-excitation)', async () => {
  const bytes = model({
    inputShape: [3, 2, 2],
    nodes: [
      { op: 'Div', name: 'scale', inputs: ['x', 'four'], outputs: ['a'] },
      { op: 'Sub', name: 'shift', inputs: ['a', 'c'], outputs: ['b'] },
      { op: 'GlobalAveragePool', name: 'gap', inputs: ['b'], outputs: ['p'] },
      { op: 'Sigmoid', name: 'gate', inputs: ['p'], outputs: ['g'] },
      { op: 'Mul', name: 'se', inputs: ['b', 'g'], outputs: ['m'] },
      { op: 'Div', name: 'ratio', inputs: ['m', 'den'], outputs: ['r'] },
      { op: 'Sub', name: 'diff', inputs: ['r', 'm'], outputs: ['y'] },
    ],
    initializers: { four: scalar(4), c: randomTensor([3, 1, 1], 8) },
  });
  // 'den' is an activation: 1 + sigmoid, computed
  const withDen = onnx.ModelProto.decode(bytes);
  withDen.graph.node.splice(5, 0, onnx.NodeProto.fromObject({ opType: 'Add', name: 'den', input: ['g', 'one'], output: ['den'] }));
  withDen.graph.initializer.push(onnx.TensorProto.fromObject({ name: 'one', dims: [], dataType: 1, floatData: [1] }));
  const full = onnx.ModelProto.encode(withDen).finish();
  const spec = await crossCheck('binary', full, { kinds: ['mul', 'add', 'global-avgpool', 'sigmoid', 'mul', 'add', 'div', 'sub'] });
  assert.deepEqual(Array.from(spec.nodes[0].constant), new Array(12).fill(0.25));
  assert.deepEqual(spec.nodes[4], { name: 'se', kind: 'mul', inputs: [1, 3], outputShape: [3, 2, 2], constant: null });
  assert.deepEqual(spec.nodes[6], { name: 'ratio', kind: 'div', inputs: [4, 5], outputShape: [3, 2, 2] });
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [{ op: 'Div', name: 'inv', inputs: ['one', 'x'], outputs: ['y'] }],
    initializers: { one: scalar(1) },
  })), /unsupported ONNX operator 'Div' \(node 'inv'\): dividing the constant 'one' by a computed tensor is not supported/);
});

test('ReduceMean/ReduceSum/ReduceMax (axes as attribute or input, keepdims), GlobalMaxPool, element-wise activations', async () => {
  const opset14 = model({
    opset: 14,
    inputShape: [3, 4, 2],
    nodes: [
      { op: 'ReduceMean', name: 'mean', inputs: ['x'], outputs: ['m'], attrs: { axes: [2, 3], keepdims: 0 } },   // mnasnet's pooling
      { op: 'ReduceSum', name: 'sum', inputs: ['x', 'ax'], outputs: ['s'], attrs: { keepdims: 1 } },
      { op: 'ReduceMax', name: 'max', inputs: ['x'], outputs: ['mx'], attrs: { axes: [-1], keepdims: 0 } },
      { op: 'GlobalMaxPool', name: 'gmp', inputs: ['x'], outputs: ['gm'] },
      { op: 'Flatten', inputs: ['s'], outputs: ['sf'] },
      { op: 'Flatten', inputs: ['mx'], outputs: ['mf'] },
      { op: 'Flatten', inputs: ['gm'], outputs: ['gf'] },
      { op: 'HardSigmoid', name: 'hs', inputs: ['m'], outputs: ['a1'], attrs: { alpha: 0.3, beta: 0.4 } },
      { op: 'HardSwish', name: 'hw', inputs: ['sf'], outputs: ['a2'] },
      { op: 'Elu', name: 'elu', inputs: ['mf'], outputs: ['a3'], attrs: { alpha: 0.5 } },
      { op: 'Softplus', name: 'sp', inputs: ['gf'], outputs: ['a4'] },
      { op: 'PRelu', name: 'pr', inputs: ['a3', 'slope'], outputs: ['a5'] },
      { op: 'Concat', inputs: ['a1', 'a2', 'a5', 'a4'], outputs: ['y'], attrs: { axis: 1 } },
    ],
    initializers: { ax: i64(1), slope: randomTensor([12], 9) },
  });
  const spec = await crossCheck('reductions', opset14);
  const byName = Object.fromEntries(spec.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.mean, { name: 'mean', kind: 'reduce-mean', inputs: [-1], outputShape: [3], axes: [1, 2], keepdims: false });
  assert.deepEqual(byName.sum.outputShape, [1, 4, 2]);
  assert.deepEqual([byName.max.axes, byName.max.outputShape], [[2], [3, 4]]);
  assert.deepEqual(byName.gmp, { name: 'gmp', kind: 'global-maxpool', inputs: [-1], outputShape: [3, 1, 1] });
  assert.deepEqual([byName.hs.kind, byName.hs.alpha, byName.hs.beta], ['hard-sigmoid', Math.fround(0.3), Math.fround(0.4)]);
  assert.deepEqual([byName.hw.kind, byName.elu.kind, byName.elu.alpha, byName.sp.kind, byName.pr.kind], ['hard-swish', 'elu', 0.5, 'softplus', 'prelu']);
  assert.throws(() => parseOnnx(model({ inputShape: [3], nodes: [{ op: 'ReduceSum', name: 'rs', inputs: ['x'], outputs: ['y'], attrs: { axes: [0] } }] })),
    /'rs' \(ReduceSum\): reduction axis 0 is the batch axis/);
});

test('Conv1d, MaxPool1d, AvgPool1d and AdaptiveAvgPool1d (GlobalAveragePool) on [N, C, L]', async () => {
  const bytes = model({
    inputShape: [2, 11],
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attrs: { pads: [1, 2], strides: [2], dilations: [2] } },
      { op: 'MaxPool', name: 'mp', inputs: ['c'], outputs: ['m'], attrs: { kernel_shape: [2], ceil_mode: 1, strides: [2] } },
      { op: 'AveragePool', name: 'ap', inputs: ['m'], outputs: ['a'], attrs: { kernel_shape: [2], pads: [1, 0] } },
      { op: 'GlobalAveragePool', name: 'gap', inputs: ['a'], outputs: ['y'] },
    ],
    initializers: { W: randomTensor([3, 2, 3], 10), B: randomTensor([3], 11) },
  });
  const spec = await crossCheck('1-D', bytes, { kinds: ['conv', 'maxpool', 'avgpool', 'global-avgpool'] });
  assert.deepEqual({ ...spec.nodes[0], weight: undefined, bias: undefined }, {
    name: 'conv', kind: 'conv', inputs: [-1], outputShape: [3, 5], weight: undefined, bias: undefined,
    kernel: [3], strides: [2], pads: [1, 2], dilations: [2], group: 1,
  });
  assert.deepEqual(spec.nodes.map((n) => n.outputShape), [[3, 5], [3, 3], [3, 3], [3, 1]]);
});

test('PyTorch AvgPool2d(3, stride=3, padding=1, ceil_mode=True) on 5×5 (Pad + AveragePool): PyTorch’s output size 2×2', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 5, 5],
    nodes: [
      { op: 'Pad', name: 'pad', inputs: ['x', 'pads'], outputs: ['p'], attrs: { mode: 'constant' } },
      { op: 'AveragePool', name: 'ap', inputs: ['p'], outputs: ['a'], attrs: { kernel_shape: [3, 3], strides: [3, 3], ceil_mode: 1 } },
      { op: 'Flatten', name: 'f', inputs: ['a'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'W'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: { pads: i64(0, 0, 1, 1, 0, 0, 1, 1), W: randomTensor([3, 8]) },
  }));
  // ceil((5 + 2 − 3)/3) + 1 = 3, but the third window would start at 6 ≥ 5 + 1: PyTorch drops it.
  assert.deepEqual(spec.nodes[0], {
    name: 'ap', kind: 'avgpool', inputs: [-1], outputShape: [2, 2, 2],
    kernel: [3, 3], strides: [3, 3], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true,
  });
  assert.deepEqual(kinds(spec), ['avgpool', 'reshape', 'dense']);
});

test('ZeroPad2d at torch\'s default opset: pads from ConstantOfShape/Concat/Reshape/Slice/Transpose/Cast are folded', async () => {
  // torch 1.13's symbolic for constant_pad_nd with pads (0, 1, 0, 1) on a 4-D input, constant parts inlined.
  const bytes = model({
    inputShape: [1, 3, 3],
    nodes: [
      { op: 'ConstantOfShape', inputs: ['four'], outputs: ['zeros'], attrs: { value: { tensor: { dims: [1], data: int64s(0) } } } },
      { op: 'Concat', inputs: ['torchPads', 'zeros'], outputs: ['all'], attrs: { axis: 0 } },           // [0,1,0,1,0,0,0,0]
      { op: 'Reshape', inputs: ['all', 'm1x2'], outputs: ['pairs'] },                                  // [[0,1],[0,1],[0,0],[0,0]]
      { op: 'Slice', inputs: ['pairs', 'start', 'end', 'axis0', 'step'], outputs: ['reversed'] },      // last axis first
      { op: 'Transpose', inputs: ['reversed'], outputs: ['t'], attrs: { perm: [1, 0] } },
      { op: 'Reshape', inputs: ['t', 'm1'], outputs: ['flat'] },
      { op: 'Cast', inputs: ['flat'], outputs: ['onnxPads'], attrs: { to: onnx.TensorProto.DataType.INT64 } },
      { op: 'Pad', name: 'pad', inputs: ['x', 'onnxPads', 'zero'], outputs: ['p'], attrs: { mode: 'constant' } },
      { op: 'Conv', name: 'conv', inputs: ['p', 'W'], outputs: ['y'] },
    ],
    initializers: {
      four: i64(4), torchPads: i64(0, 1, 0, 1), m1x2: i64(-1, 2), start: i64(-1), end: { dims: [1], data: BigInt64Array.of(-9223372036854775807n) },
      axis0: i64(0), step: i64(-1), m1: i64(-1), zero: scalar(0), W: randomTensor([2, 1, 2, 2], 12),
    },
  });
  const spec = await crossCheck('ZeroPad2d', bytes, { kinds: ['conv'] });
  assert.deepEqual(spec.nodes[0].pads, [0, 0, 1, 1]);
});

test('SiLU, HardSwish (opset 13), GELU (Erf and tanh forms, any operand order) and opset-20 Gelu are fused into one activation', async () => {
  const geluErf = (x, out, order) => [
    { op: 'Div', inputs: [x, 'sqrt2'], outputs: [`${out}_d`] },
    { op: 'Erf', inputs: [`${out}_d`], outputs: [`${out}_e`] },
    { op: 'Add', inputs: ['one', `${out}_e`], outputs: [`${out}_a`] },
    ...(order === 'x-then-half'
      ? [{ op: 'Mul', inputs: [x, `${out}_a`], outputs: [`${out}_m`] }, { op: 'Mul', name: out, inputs: [`${out}_m`, 'half'], outputs: [out] }]
      : [{ op: 'Mul', inputs: ['half', x], outputs: [`${out}_h`] }, { op: 'Mul', name: out, inputs: [`${out}_a`, `${out}_h`], outputs: [out] }]),
  ];
  const geluTanh = (x, out) => [
    { op: 'Mul', inputs: [x, x], outputs: [`${out}_sq`] },
    { op: 'Mul', inputs: [x, `${out}_sq`], outputs: [`${out}_cube`] },
    { op: 'Mul', inputs: ['kappa', `${out}_cube`], outputs: [`${out}_k`] },
    { op: 'Add', inputs: [x, `${out}_k`], outputs: [`${out}_in`] },
    { op: 'Mul', inputs: ['beta', `${out}_in`], outputs: [`${out}_b`] },
    { op: 'Tanh', inputs: [`${out}_b`], outputs: [`${out}_t`] },
    { op: 'Add', inputs: ['one', `${out}_t`], outputs: [`${out}_a`] },
    { op: 'Mul', inputs: [x, `${out}_a`], outputs: [`${out}_m`] },
    { op: 'Mul', name: out, inputs: ['half', `${out}_m`], outputs: [out] },
  ];
  const bytes = model({
    inputShape: [6],
    nodes: [
      { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
      { op: 'Mul', name: 'silu', inputs: ['s', 'x'], outputs: ['a'] },
      { op: 'HardSigmoid', inputs: ['a'], outputs: ['hs'], attrs: { alpha: 1 / 6, beta: 0.5 } },
      { op: 'Mul', name: 'hswish', inputs: ['a', 'hs'], outputs: ['b'] },
      ...geluErf('b', 'gelu1', 'x-then-half'),
      ...geluErf('gelu1', 'gelu2', 'half-first'),
      ...geluTanh('gelu2', 'gelu3'),
      { op: 'Sigmoid', name: 'gate', inputs: ['gelu3'], outputs: ['g'] },
      { op: 'Mul', name: 'gated', inputs: ['gelu2', 'g'], outputs: ['y'] },  // not SiLU: the gate reads another tensor
    ],
    initializers: {
      sqrt2: scalar(Math.SQRT2), one: scalar(1), half: scalar(0.5), kappa: scalar(0.044715), beta: scalar(Math.sqrt(2 / Math.PI)),
    },
  });
  const spec = await crossCheck('fused activations', bytes, { kinds: ['silu', 'hard-swish', 'gelu', 'gelu', 'gelu', 'sigmoid', 'mul'] });
  assert.deepEqual(spec.nodes.slice(0, 5).map((n) => [n.name, n.approximate]),
    [['silu', undefined], ['hswish', undefined], ['gelu1', 'none'], ['gelu2', 'none'], ['gelu3', 'tanh']]);
  const opset20 = parseOnnx(model({ opset: 20, inputShape: [3], nodes: [{ op: 'Gelu', name: 'g', inputs: ['x'], outputs: ['y'], attrs: { approximate: 'tanh' } }] }));
  assert.deepEqual(opset20.nodes, [{ name: 'g', kind: 'gelu', inputs: [-1], outputShape: [3], approximate: 'tanh' }]);
  // Wrong constants: no fusion, and the Erf is then an unsupported operator.
  assert.throws(() => parseOnnx(model({ inputShape: [3], nodes: geluErf('x', 'y', 'x-then-half'), initializers: { sqrt2: scalar(2), one: scalar(1), half: scalar(0.5) } })),
    /unsupported ONNX operator 'Erf'/);
});

test('LayerNorm: decomposed (ReduceMean … Add(b)) after a channels-last Transpose, and LayerNormalization (opset 17)', async () => {
  const decomposed = model({
    inputShape: [4, 2, 3],
    nodes: [
      { op: 'Transpose', name: 'cl', inputs: ['x'], outputs: ['t'], attrs: { perm: [0, 2, 3, 1] } },  // ConvNeXt: [N, H, W, C]
      { op: 'ReduceMean', inputs: ['t'], outputs: ['m'], attrs: { axes: [-1] } },
      { op: 'Sub', inputs: ['t', 'm'], outputs: ['d'] },
      { op: 'Pow', inputs: ['d', 'two'], outputs: ['p'] },
      { op: 'ReduceMean', inputs: ['p'], outputs: ['v'], attrs: { axes: [-1] } },
      { op: 'Add', inputs: ['v', 'eps'], outputs: ['ve'] },
      { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
      { op: 'Div', inputs: ['d', 'sd'], outputs: ['n'] },
      { op: 'Mul', inputs: ['n', 'w'], outputs: ['nw'] },
      { op: 'Add', name: 'ln', inputs: ['b', 'nw'], outputs: ['l'] },
      { op: 'Transpose', name: 'cf', inputs: ['l'], outputs: ['y'], attrs: { perm: [0, 3, 1, 2] } },
    ],
    initializers: { two: scalar(2), eps: scalar(1e-5), w: randomTensor([4], 13), b: randomTensor([4], 14) },
  });
  const spec = await crossCheck('decomposed LayerNorm', decomposed, { kinds: ['transpose', 'layernorm', 'transpose'] });
  assert.deepEqual([spec.nodes[1].name, spec.nodes[1].axis, spec.nodes[1].outputShape], ['ln', 2, [2, 3, 4]]);
  assert.ok(Math.abs(spec.nodes[1].epsilon - 1e-5) < 1e-10);
  assert.equal(spec.nodes[1].scale.length, 4);
  const opset17 = model({
    opset: 17,
    inputShape: [3, 4],
    nodes: [{ op: 'LayerNormalization', name: 'ln', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { axis: -1, epsilon: 1e-3 } }],
    initializers: { w: randomTensor([4], 15), b: randomTensor([4], 16) },
  });
  const ln = await crossCheck('LayerNormalization', opset17, { kinds: ['layernorm'] });
  assert.deepEqual([ln.nodes[0].axis, ln.nodes[0].bias.length], [1, 4]);
});

test('token ids: an int64 input feeding an embedding Gather becomes an embedding node; inputType is reported', () => {
  const spec = parseOnnx(buildModel({
    input: { name: 'ids', shape: [null, 5], elemType: onnx.TensorProto.DataType.INT64 },
    output: { name: 'y' },
    nodes: [
      { op: 'Gather', name: 'embed', inputs: ['table', 'ids'], outputs: ['e'], attrs: { axis: 0 } },
      { op: 'Add', name: 'pos', inputs: ['e', 'positions'], outputs: ['p'] },
      { op: 'ReduceMean', name: 'pool', inputs: ['p'], outputs: ['m'], attrs: { axes: [1], keepdims: 0 } },
      { op: 'Gemm', name: 'head', inputs: ['m', 'W'], outputs: ['y'], attrs: { transB: 1 } },
    ],
    initializers: { table: randomTensor([10, 3], 17), positions: randomTensor([5, 3], 18), W: randomTensor([2, 3], 19) },
  }));
  assert.equal(spec.inputType, 'int64');
  assert.equal(spec.vocabularySize, 10);
  assert.deepEqual(spec.inputShape, [5]);
  assert.deepEqual(kinds(spec), ['embedding', 'add', 'reduce-mean', 'dense']);
  assert.deepEqual(spec.nodes[0].outputShape, [5, 3]);
  assert.equal(spec.nodes[0].table.length, 30);
  const logits = referenceForward(spec, [1, 2, 3, 9, 0]);
  assert.equal(logits.length, 2);
  assert.equal(parseOnnx(readFileSync(`${GOLDEN}tiny-mlp/model.onnx`)).inputType, 'float32');
  assert.throws(() => parseOnnx(buildModel({
    input: { name: 'ids', shape: [null, 5], elemType: onnx.TensorProto.DataType.INT64 },
    output: { name: 'y' },
    nodes: [{ op: 'Relu', name: 'r', inputs: ['ids'], outputs: ['y'] }],
  })), { message: "invalid ONNX model: the graph output 'y' is computed from the token ids without an embedding lookup; ids may only feed embedding lookups Gather(table, ids) and masks" });
  // The ids themselves as an activation (a Linear on them) are refused, naming the operator.
  assert.throws(() => parseOnnx(buildModel({
    input: { name: 'ids', shape: [null, 5], elemType: onnx.TensorProto.DataType.INT64 },
    output: { name: 'y' },
    nodes: [{ op: 'Gemm', name: 'g', inputs: ['ids', 'W'], outputs: ['y'], attrs: { transB: 1 } }],
    initializers: { W: randomTensor([2, 5], 19) },
  })), { message: "unsupported ONNX operator 'Gemm' (node 'g'): it reads the integer input 'ids' (token ids), which may only feed an embedding lookup Gather(table, ids) or a mask computed from them" });
});

// tiny-text (torch 1.13, opset 14: embeddings, decomposed LayerNorm, Erf GELU, attention) once its
// golden data is copied into tests/fixtures/golden (../shared/golden/tiny-text).
const TINY_TEXT = `${GOLDEN}tiny-text/`;
test('golden tiny-text: the spec reproduces PyTorch\'s logits', { skip: !existsSync(`${TINY_TEXT}cases.json`) && 'tests/fixtures/golden/tiny-text not present' }, () => {
  const spec = parseOnnx(readFileSync(`${TINY_TEXT}model.onnx`));
  assert.equal(spec.inputType, 'int64');
  const { cases } = JSON.parse(readFileSync(`${TINY_TEXT}cases.json`, 'utf8'));
  const bytes = readFileSync(`${TINY_TEXT}inputs.i32`);
  const ids = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const length = spec.inputShape[0];
  for (const c of cases) {
    const logits = referenceForward(spec, Array.from(ids.subarray(c.input_index * length, (c.input_index + 1) * length)));
    assertClose(logits, c.output, 1e-4, `case ${c.id}`);
  }
});

// torch.onnx.export without dynamic axes bakes the batch size 1 into Reshape targets: an attention block's
// tensor loses its batch axis ([1, 5, 16] after a merge and split) and then meets the residual input that
// kept it. The size-1 axis where the other operand has its batch is that batch axis (a relabelling reshape).
test('a static batch of 1 baked into reshapes meets a tensor that kept its batch axis', () => {
  const spec = parseOnnx(buildModel({
    input: { name: 'x', shape: [1, 5, 16] },
    output: { name: 'y' },
    nodes: [
      { op: 'Reshape', inputs: ['x', 'split'], outputs: ['h'] },
      { op: 'Reshape', inputs: ['h', 'back'], outputs: ['r'] },
      { op: 'Add', name: 'residual', inputs: ['x', 'r'], outputs: ['y'] },
    ],
    initializers: { split: i64(5, 4, 4), back: i64(1, 5, 16) },
  }));
  const last = spec.nodes.at(-1);
  assert.equal(last.kind, 'add');
  assert.deepEqual(last.outputShape, [5, 16]);
  const relabel = spec.nodes[last.inputs[1]];
  assert.equal(relabel.kind, 'reshape');
  assert.deepEqual(relabel.outputShape, [5, 16]);
  const x = randomFloats(80, 3);
  assertClose(referenceForward(spec, x), Float32Array.from(x, (v) => 2 * v), 1e-6, 'x + x');
});

// PyTorch exports slice assignments to constants (Swin's shifted-window mask) as ScatterND: folded at load.
test('ScatterND on constants is folded (a slice assignment)', () => {
  const spec = parseOnnx(model({
    inputShape: [2, 3],
    nodes: [
      { op: 'ScatterND', inputs: ['zeros', 'rows', 'updates'], outputs: ['c'] },
      { op: 'Add', name: 'plus', inputs: ['x', 'c'], outputs: ['y'] },
    ],
    initializers: {
      zeros: { dims: [2, 3], data: new Float32Array(6) },
      rows: { dims: [1, 1], data: int64s(-1) },
      updates: { dims: [1, 3], data: f32(7, 8, 9) },
    },
  }));
  assert.deepEqual(spec.nodes.map((n) => [n.kind, Array.from(n.constant)]), [['add', [0, 0, 0, 7, 8, 9]]]);
});

// ---------------------------------------------------------------------------------------------
// Issue 12: every load error names the node, its operator and the problem
// ---------------------------------------------------------------------------------------------

test('every operator with no inputs, one input, or an omitted first input: the error names node and operator', () => {
  const operators = [...new Set([...supportedOperators, ...foldedOperators])].sort();
  const internal = /undefined|Cannot read|is not a function|is not iterable|NaN|Maximum call stack/;
  let refused = 0;
  for (const op of operators) {
    for (const inputs of [[], ['x'], ['', 'x']]) {
      for (const inputShape of [[4], [3, 4, 4]]) {
        const bytes = model({ inputShape, nodes: [{ op, name: 'n', inputs, outputs: ['y'] }] });
        let message = null;
        try {
          parseOnnx(bytes);
        } catch (error) {
          message = error.message;
        }
        if (message === null) continue;
        refused += 1;
        const where = `${op} with inputs [${inputs}] on [${inputShape}]: ${message}`;
        assert.doesNotMatch(message, internal, where);
        // Graph-level refusals (an output that no longer depends on the input, or lost its batch axis) name the output.
        if (message.startsWith("invalid ONNX model: the graph output 'y'")) continue;
        assert.ok(message.includes("'n'") && message.includes(op), where);
        if (inputs.length === 0 && op !== 'Constant') assert.match(message, /^ONNX node 'n' \(\w+\): the node has no inputs$/, where);
      }
    }
  }
  assert.ok(refused > operators.length, `${refused} refusals`);
});

test('selectAlongAxes (the folder\'s gather of index lists, a loop over axes) matches a naive enumeration', () => {
  const dims = [3, 1, 4, 2, 5];
  const data = randomFloats(dims.reduce((a, b) => a * b, 1), 12);
  const lists = [[2, 0, 2], [0], [3, 1], [1, 0, 1], [4, 0, 2, 2]];
  const strides = [40, 40, 10, 5, 1];
  const expected = [];
  for (const a of lists[0]) for (const b of lists[1]) for (const c of lists[2]) for (const d of lists[3]) for (const e of lists[4]) {
    expected.push(data[a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3] + e * strides[4]]);
  }
  const picked = selectAlongAxes({ dims, data, type: 'float' }, lists);
  assert.deepEqual(picked.dims, [3, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(picked.data), expected);
  // Empty lists and rank 0.
  assert.deepEqual(selectAlongAxes({ dims: [2, 3], data: new Float32Array(6), type: 'float' }, [[1], []]).dims, [1, 0]);
  assert.deepEqual(selectAlongAxes({ dims: [], data: [7], type: 'int' }, []).data, [7]);
});
