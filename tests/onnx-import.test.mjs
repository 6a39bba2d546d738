// Tests of the ONNX importer (web/src/onnx.js): operators, folding, validation, golden model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parseOnnx } from '../web/src/onnx.js';
import { buildModel, encodeModel, modelProto, randomFloats, int64s, onnx } from './helpers/onnx-builder.mjs';
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

/** Evaluate with onnxruntime (the independent referee for the semantics of our test models). */
async function runtimeForward(bytes, input, inputShape) {
  const ort = await import('onnxruntime-web');
  const session = await ort.InferenceSession.create(bytes);
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
  assert.equal(first.inFeatures, 16);
  assert.equal(first.outFeatures, 12);
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
    name: 'fc', kind: 'dense', inputs: [-1], outputShape: [2], inFeatures: 3, outFeatures: 2, weight: undefined, bias: undefined,
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
  assert.equal(dense.inFeatures, 3);
  assert.equal(dense.outFeatures, 2);
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

test('Add that is not a MatMul bias is an unsupported operator', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [2],
    nodes: [
      { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['h'] },
      { op: 'Add', name: 'add1', inputs: ['h', 'b'], outputs: ['y'] },
    ],
    initializers: { b: { dims: [2], data: f32(1, 2) } },
  })), /unsupported ONNX operator 'Add' \(node 'add1'\)/);
});

test('MatMul whose product is also used elsewhere is not fused with the Add', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Relu', name: 'side', inputs: ['h'], outputs: ['s'] },
      { op: 'Add', name: 'add', inputs: ['h', 'b'], outputs: ['y'] },
    ],
    initializers: { W: MATMUL_B, b: { dims: [2], data: f32(1, 2) } },
  })), /unsupported ONNX operator 'Add' \(node 'add'\)/);
});

test('MatMul rejects a K that does not match the input', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: MATMUL_B },
  })), /'mm' \(MatMul\): the right operand of shape \[3,2\] expects 3 input features, but the input has 4/);
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

test('Flatten with a larger axis is accepted only when it keeps the batch separate', () => {
  const ok = parseOnnx(model({ inputShape: [1, 3, 4], nodes: [{ op: 'Flatten', name: 'f', inputs: ['x'], outputs: ['y'], attrs: { axis: 2 } }] }));
  assert.deepEqual(ok.nodes[0].outputShape, [12]);
  assert.throws(() => parseOnnx(model({ inputShape: [2, 3, 4], nodes: [{ op: 'Flatten', name: 'f', inputs: ['x'], outputs: ['y'], attrs: { axis: 2 } }] })),
    /'f' \(Flatten\): axis=2 would merge the batch dimension/);
  assert.throws(() => parseOnnx(model({ inputShape: [2, 3], nodes: [{ op: 'Flatten', name: 'f', inputs: ['x'], outputs: ['y'], attrs: { axis: 0 } }] })),
    /axis=0 would merge the batch dimension/);
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
  assert.throws(reshape([2, -1]), /the first dimension must stay the batch size/);
  assert.throws(reshape([-1, 3]), /-1 in the first position must stand for the batch size/);
  assert.throws(reshape([0, -1, -1]), /more than one -1/);
  assert.throws(reshape([0, -2]), /invalid size -2/);
  assert.throws(reshape([]), /keep the batch dimension first/);
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
  assert.equal(spec.nodes[1].inFeatures, 24);
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

test('folding ops on computed tensors are unsupported, naming op and node', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Gather', name: 'g', inputs: ['x', 'i'], outputs: ['y'] }],
    initializers: { i: { dims: [1], data: int64s(0) } },
  })), /unsupported ONNX operator 'Gather' \(node 'g'\): data 'x' is computed from the graph input/);
});

test('a Reshape whose target uses the batch size elsewhere than first is rejected', () => {
  const nodes = pytorchViewNodes().map((node) => (node.op === 'Concat' ? { ...node, inputs: ['m1', 'n1'] } : node));
  assert.throws(() => parseOnnx(model({ inputShape: [3, 4], nodes: nodes.map((n) => (n.name === 'view' ? { ...n, outputs: ['y'] } : n)) })),
    /'view' \(Reshape\): cannot reshape \[batch, 3,4\] to \[-1,batch\]: the batch size may only appear first/);
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

test('a Softmax that is not the graph output is an unsupported operator', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [3],
    nodes: [
      { op: 'Softmax', name: 'inner', inputs: ['x'], outputs: ['p'] },
      { op: 'Relu', name: 'r', inputs: ['p'], outputs: ['y'] },
    ],
  })), /^Error: unsupported ONNX operator 'Softmax' \(node 'inner'\)/);
});

test('an unsupported operator is named with its node', () => {
  assert.throws(() => parseOnnx(model({
    inputShape: [1, 4, 4],
    nodes: [{ op: 'Conv', name: 'conv1', inputs: ['x', 'W'], outputs: ['y'] }],
    initializers: { W: { dims: [1, 1, 1, 1], data: f32(1) } },
  })), { message: "unsupported ONNX operator 'Conv' (node 'conv1')" });
  assert.throws(() => parseOnnx(model({
    inputShape: [4],
    nodes: [{ op: 'Relu', name: 'custom', inputs: ['x'], outputs: ['y'], domain: 'com.example' }],
  })), { message: "unsupported ONNX operator 'com.example.Relu' (node 'custom')" });
  assert.throws(() => parseOnnx(model({ inputShape: [4], nodes: [{ op: 'Tanh', inputs: ['x'], outputs: ['y'] }] })),
    { message: "unsupported ONNX operator 'Tanh' (node 'Tanh_0')" }, 'unnamed nodes get a positional name');
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
