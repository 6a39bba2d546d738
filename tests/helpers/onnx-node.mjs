// Conformance of lrp-wasm's forward pass against the ONNX project's own operator tests (Debian package
// libonnx-testdata: /usr/share/libonnx-testdata/data/node/test_<op>*/, each a model.onnx and
// test_data_set_*/{input_N,output_N}.pb TensorProtos).
//
// For every test directory of an operator on the list (OPERATOR_TARGETS below, or the package's own
// `supportedOperators` once it exports one), the harness decides whether the test is *applicable*:
//   - input 0 is a float tensor of rank ≥ 2 whose first axis is the batch and stays the first axis of
//     output 0 (decided per operator from its attributes and the inputs' shapes: analyseNode below);
//   - output 0 is a float tensor (only output 0 is compared);
//   - every other input is a tensor that can be baked in as a constant: one that varies along the batch
//     axis (e.g. Add of two [3, 4, 5] tensors) cannot, since lrp-wasm runs one sample at a time;
//   - out of scope as well: 3-D conv/pool, training-mode Dropout/BatchNormalization, and a graph that is
//     only a Softmax/LogSoftmax (the importer strips a trailing one, so nothing would be left).
// An `_expanded` variant (the operator's function body as primitive ops) computes the same function
// from the same inputs as its sibling, so it is applicable exactly when the sibling is (apart from the
// trailing-Softmax rule, which does not apply to the expansion).
//
// An applicable test is baked into a new model (inputs 1..k become initializers from their
// input_k.pb, input 0 stays the only graph input with its declared batch size, or made dynamic, and
// only output 0 is kept), loaded with loadModel, run with predictBatch over the slices of input 0
// along axis 0, and compared with output_0 within TOLERANCE.
//
// CLI:  node tests/helpers/onnx-node.mjs [filter]     (filter: substring of a test or operator name)
//       prints the report over every target operator: per-operator counts, out-of-scope tests grouped
//       by reason, and each failure with the package's message. Exit code 1 if any applicable test fails.
// Env:  ONNX_NODE_TESTDATA=<dir> reads the tests from elsewhere than the Debian package's directory.

import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

export const TESTDATA_DIR = process.env.ONNX_NODE_TESTDATA ?? '/usr/share/libonnx-testdata/data/node';

/** Pass criterion per output element: |actual − expected| ≤ absolute + relative · |expected|. */
export const TOLERANCE = Object.freeze({ relative: 1e-4, absolute: 1e-5 });

// ---------------------------------------------------------------------------------------------
// THE OPERATOR LIST (data). Until the package exports `supportedOperators` (the importer's job),
// this is the list the harness covers: what the importer supports today plus the target of issue 8.
// Once `import { supportedOperators } from 'lrp-wasm'` exists, operatorList() uses it and reports
// target operators that the package does not claim yet; nothing else needs to change here.
// ---------------------------------------------------------------------------------------------
export const OPERATOR_TARGETS = Object.freeze([
  // supported before issue 8
  'Gemm', 'MatMul', 'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'BatchNormalization',
  'Add', 'Sub', 'Pad', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'Tanh', 'Flatten', 'Reshape', 'Identity',
  'Dropout', 'Softmax', 'LogSoftmax', 'Concat',
  // issue 8
  'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Split', 'Gather', 'Expand', 'Mul', 'Div',
  'ReduceMean', 'ReduceSum', 'GlobalMaxPool', 'HardSigmoid', 'HardSwish', 'Elu', 'Softplus', 'PRelu',
  'Gelu', 'LayerNormalization',
]);

/**
 * The operators to cover: `{ operators: string[], source: 'package' | 'harness', unclaimed: string[] }`.
 * With a package list, `operators` is its list plus OPERATOR_TARGETS (so the report still shows the
 * whole target) and `unclaimed` the targets the package does not list.
 */
export async function operatorList() {
  const pkg = await import('lrp-wasm');
  const exported = pkg.supportedOperators;
  if (!exported) return { operators: [...OPERATOR_TARGETS], source: 'harness', unclaimed: [] };
  const claimed = new Set(exported);
  return {
    operators: [...new Set([...exported, ...OPERATOR_TARGETS])],
    source: 'package',
    unclaimed: OPERATOR_TARGETS.filter((op) => !claimed.has(op)),
  };
}

export function testdataMissingMessage() {
  return `the ONNX node tests are not installed (${TESTDATA_DIR} is missing): run scripts/setup.sh ` +
    '(it installs the Debian package libonnx-testdata), or point ONNX_NODE_TESTDATA at a copy';
}

export function testdataAvailable() {
  return existsSync(TESTDATA_DIR) && statSync(TESTDATA_DIR).isDirectory();
}

// ---------------------------------------------------------------------------------------------
// Tensors
// ---------------------------------------------------------------------------------------------

const num = (v) => (typeof v === 'number' ? v : Number(v?.toString?.() ?? v));

export function dataTypeName(type) {
  return Object.keys(DataType).find((key) => DataType[key] === type) ?? `type ${type}`;
}

/** TensorProto values: Float32Array for FLOAT, plain numbers for the rest (int64 via BigInt). */
export function tensorValues(tensor) {
  const dims = tensor.dims.map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = tensor.rawData?.length ? tensor.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const fromRaw = (size, read) => Array.from({ length: count }, (_, i) => read(i * size));
  switch (tensor.dataType) {
    case DataType.FLOAT:
      return raw ? Float32Array.from(fromRaw(4, (o) => view.getFloat32(o, true))) : Float32Array.from(tensor.floatData);
    case DataType.DOUBLE:
      return raw ? fromRaw(8, (o) => view.getFloat64(o, true)) : tensor.doubleData.map(num);
    case DataType.INT64:
      return raw ? fromRaw(8, (o) => Number(view.getBigInt64(o, true))) : tensor.int64Data.map(num);
    case DataType.UINT64:
      return raw ? fromRaw(8, (o) => Number(view.getBigUint64(o, true))) : tensor.uint64Data.map(num);
    case DataType.INT32:
      return raw ? fromRaw(4, (o) => view.getInt32(o, true)) : tensor.int32Data.map(num);
    case DataType.INT8: case DataType.UINT8: case DataType.INT16: case DataType.UINT16: case DataType.BOOL: {
      if (!raw) return tensor.int32Data.map(num);
      const size = { [DataType.INT16]: 2, [DataType.UINT16]: 2 }[tensor.dataType] ?? 1;
      const read = {
        [DataType.INT8]: (o) => view.getInt8(o), [DataType.UINT8]: (o) => view.getUint8(o),
        [DataType.BOOL]: (o) => view.getUint8(o), [DataType.INT16]: (o) => view.getInt16(o, true),
        [DataType.UINT16]: (o) => view.getUint16(o, true),
      }[tensor.dataType];
      return fromRaw(size, read);
    }
    default:
      return null;
  }
}

function readTensor(path) {
  return onnx.TensorProto.decode(readFileSync(path));
}

const shapeOf = (tensor) => tensor.dims.map(num);
const fmt = (shape) => `[${shape.join(', ')}]`;

// ---------------------------------------------------------------------------------------------
// Scanning: which directories belong to which operator, and which tests are applicable
// ---------------------------------------------------------------------------------------------

/**
 * Every test directory of the listed operators, with its verdict:
 *   { name, dir, operator, expanded, nodeOps, dataSets: [dir...], applicable, reason }
 * plus `others`: how many directories belong to other operators.
 */
export function scanTests({ operators, filter = '' } = {}) {
  if (!testdataAvailable()) throw new Error(testdataMissingMessage());
  const wanted = new Set(operators ?? OPERATOR_TARGETS);
  const names = readdirSync(TESTDATA_DIR).filter((n) => n.startsWith('test_') && existsSync(join(TESTDATA_DIR, n, 'model.onnx'))).sort();
  const models = new Map();
  const modelOf = (name) => {
    if (!models.has(name)) models.set(name, onnx.ModelProto.decode(readFileSync(join(TESTDATA_DIR, name, 'model.onnx'))));
    return models.get(name);
  };
  const operatorOf = (name) => {
    const nodes = modelOf(name).graph.node;
    const ops = [...new Set(nodes.map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType)))];
    return ops.length === 1 && nodes.length === 1 ? ops[0] : ops.join('+');
  };

  const tests = [];
  let others = 0;
  for (const name of names) {
    const sibling = name.endsWith('_expanded') ? name.slice(0, -'_expanded'.length) : null;
    const expanded = sibling !== null && names.includes(sibling);
    const operator = operatorOf(expanded ? sibling : name);
    if (!wanted.has(operator)) { others++; continue; }
    if (filter && !name.includes(filter) && operator !== filter) continue;
    const dir = join(TESTDATA_DIR, name);
    const dataSets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort().map((d) => join(dir, d));
    const test = { name, dir, operator, expanded, nodeOps: [...new Set(modelOf(name).graph.node.map((n) => n.opType))], dataSets };
    const reason = dataSets.length === 0 ? 'no test data set'
      : applicability(modelOf(name), dataSets[0], expanded ? modelOf(sibling) : null);
    Object.assign(test, { applicable: reason === null, reason });
    tests.push(test);
  }
  return { tests, others };
}

function opsetOf(model) {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? num(entry.version) : 1;
}

function graphInputs(model) {
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  return model.graph.input.filter((info) => !initializers.has(info.name));
}

const article = (word) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function typeKind(info) {
  const type = info.type ?? {};
  for (const kind of ['tensorType', 'sequenceType', 'mapType', 'optionalType', 'sparseTensorType']) {
    if (type[kind]) return kind.replace('Type', '');
  }
  return 'untyped';
}

/** null when applicable, else the reason (a short phrase; reports group by it). */
function applicability(model, dataSet, siblingModel) {
  const inputs = graphInputs(model);
  if (inputs.length === 0) return 'no graph input';
  if (typeKind(inputs[0]) !== 'tensor') return `input 0 is ${article(typeKind(inputs[0]))}, not a float tensor`;
  for (let k = 1; k < inputs.length; k++) {
    if (typeKind(inputs[k]) !== 'tensor') return `an extra input is ${article(typeKind(inputs[k]))}: it cannot be a constant`;
    if (!existsSync(join(dataSet, `input_${k}.pb`))) return 'an extra input has no data: it cannot be a constant';
  }
  const output = model.graph.output[0];
  if (!output || typeKind(output) !== 'tensor') return 'output 0 is not a tensor';
  if (!existsSync(join(dataSet, 'input_0.pb')) || !existsSync(join(dataSet, 'output_0.pb'))) return 'no input_0/output_0 data';

  const x = readTensor(join(dataSet, 'input_0.pb'));
  const y = readTensor(join(dataSet, 'output_0.pb'));
  if (x.dataType !== DataType.FLOAT) return `input 0 is ${dataTypeName(x.dataType)}, not float`;
  if (y.dataType !== DataType.FLOAT) return `output 0 is ${dataTypeName(y.dataType)}, not float`;
  const xShape = shapeOf(x);
  const yShape = shapeOf(y);
  if (xShape.length < 2) return 'input 0 has rank < 2 (no batch axis besides the data)';
  if (xShape.includes(0) || yShape.includes(0)) return 'empty tensor (a zero-size dimension)';

  // The analysis reads the single operator node (of the sibling for an expanded test).
  const analysed = siblingModel ?? model;
  const nodes = analysed.graph.node;
  if (nodes.length !== 1) return 'not a single-operator graph (batch analysis needs one node)';
  const node = nodes[0];
  if (!siblingModel && (node.opType === 'Softmax' || node.opType === 'LogSoftmax')) {
    return 'the graph is only a trailing Softmax/LogSoftmax (the importer strips it)';
  }
  const names = graphInputs(analysed).map((info) => info.name);
  const tensors = new Map(names.map((name, k) => [name, k === 0 ? x : readTensor(join(dataSet, `input_${k}.pb`))]));
  for (const initializer of analysed.graph.initializer) tensors.set(initializer.name, initializer);
  const ctx = {
    x: names[0], N: xShape[0], rank: xShape.length, xShape, yShape, opset: opsetOf(analysed),
    has: (i) => Boolean(node.input[i]) && tensors.has(node.input[i]),
    shape: (i) => shapeOf(tensors.get(node.input[i])),
    values: (i) => tensorValues(tensors.get(node.input[i])),
  };
  const reason = analyseNode(node, ctx);
  if (reason) return reason;
  if (yShape.length < 1 || yShape[0] !== ctx.N) return `output 0's first axis has size ${yShape[0]}, not the batch size ${ctx.N}`;
  return null;
}

function attribute(node, name) {
  const attr = node.attribute.find((a) => a.name === name);
  if (!attr) return undefined;
  switch (attr.type) {
    case onnx.AttributeProto.AttributeType.INT: return num(attr.i);
    case onnx.AttributeProto.AttributeType.FLOAT: return attr.f;
    case onnx.AttributeProto.AttributeType.INTS: return attr.ints.map(num);
    case onnx.AttributeProto.AttributeType.FLOATS: return [...attr.floats];
    case onnx.AttributeProto.AttributeType.STRING: return new TextDecoder().decode(attr.s);
    default: return attr;
  }
}

const ELEMENTWISE = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Elu',
  'Softplus', 'Gelu', 'Identity', 'Clip']);
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div', 'PRelu']);
const CONV_POOL = new Set(['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);

/**
 * Does the operator keep the batch (axis 0 of input 0) as axis 0 of output 0, with every other input
 * a per-sample constant? null if so, else why not. One rule per operator, from its ONNX semantics.
 */
function analyseNode(node, ctx) {
  const op = node.opType;
  const { N, rank } = ctx;
  const axis = (a) => (a < 0 ? a + rank : a);
  const intInput = (i) => (ctx.has(i) ? ctx.values(i) : undefined);
  if (node.input[0] !== ctx.x && !BROADCASTING.has(op)) return 'input 0 is not the operator\'s data operand';

  if (ELEMENTWISE.has(op)) return null;
  if (op === 'Dropout') {
    const training = ctx.opset >= 12 ? intInput(2)?.[0] : 0;
    return training ? 'training-mode Dropout (random)' : null;
  }
  if (op === 'BatchNormalization') {
    return attribute(node, 'training_mode') ? 'training-mode BatchNormalization (statistics over the batch)' : null;
  }
  if (op === 'Softmax' || op === 'LogSoftmax') {
    const a = axis(attribute(node, 'axis') ?? (ctx.opset >= 13 ? -1 : 1));
    return a === 0 ? 'normalises over the batch axis' : null;
  }
  if (op === 'LayerNormalization') {
    return axis(attribute(node, 'axis') ?? -1) === 0 ? 'normalises over the batch axis' : null;
  }
  if (BROADCASTING.has(op)) {
    const outRank = ctx.yShape.length;
    for (let i = 0; i < node.input.length; i++) {
      if (node.input[i] === ctx.x) {
        if (rank !== outRank) return 'broadcasting adds axes before the batch axis';
        continue;
      }
      const shape = ctx.shape(i);
      if (shape.length === outRank && shape[0] !== 1) return 'a constant input varies along the batch axis';
    }
    return null;
  }
  if (op === 'Gemm') {
    if (attribute(node, 'transA')) return 'Gemm transA=1: the batch would be A\'s second axis';
    if (ctx.has(2) && ctx.shape(2).length === 2 && ctx.shape(2)[0] !== 1) return 'a constant input varies along the batch axis';
    return null;
  }
  if (op === 'MatMul') {
    const b = ctx.shape(1);
    if (b.length > rank) return 'broadcasting adds axes before the batch axis';
    if (b.length === rank && rank > 2 && b[0] !== 1) return 'a constant input varies along the batch axis';
    return null;
  }
  if (CONV_POOL.has(op)) return rank === 5 ? '3-D convolution/pooling' : null;
  if (op === 'Pad') {
    const pads = ctx.opset >= 11 ? intInput(1) : attribute(node, 'pads');
    const axes = ctx.has(3) ? ctx.values(3).map(axis) : [...Array(rank).keys()];
    const k = axes.indexOf(0);
    return k >= 0 && pads && (pads[k] !== 0 || pads[k + axes.length] !== 0) ? 'pads the batch axis' : null;
  }
  if (op === 'Flatten') {
    const a = axis(attribute(node, 'axis') ?? 1);
    if (a === 0) return 'Flatten axis=0: the output is one row [1, N·…]';
    return a > 1 ? 'Flatten axis ≥ 2 merges the batch with the axes after it' : null;
  }
  if (op === 'Reshape') {
    return ctx.yShape[0] !== N ? 'reshapes across the batch axis' : null;
  }
  if (op === 'Squeeze') {
    const axes = (ctx.opset >= 13 ? intInput(1) : attribute(node, 'axes'))?.map(axis);
    return (axes ? axes.includes(0) : N === 1) ? 'squeezes the batch axis' : null;
  }
  if (op === 'Unsqueeze') {
    const axes = ctx.opset >= 13 ? intInput(1) : attribute(node, 'axes');
    const outRank = rank + axes.length;
    return axes.map((a) => (a < 0 ? a + outRank : a)).includes(0) ? 'inserts an axis before the batch axis' : null;
  }
  if (op === 'Slice') {
    const starts = ctx.opset >= 10 ? intInput(1) : attribute(node, 'starts');
    const ends = ctx.opset >= 10 ? intInput(2) : attribute(node, 'ends');
    const axes = (ctx.opset >= 10 ? intInput(3) : attribute(node, 'axes')) ?? starts.map((_, i) => i);
    const steps = (ctx.opset >= 10 ? intInput(4) : undefined) ?? starts.map(() => 1);
    const k = axes.map(axis).indexOf(0);
    if (k < 0) return null;
    const clamp = (v) => Math.min(Math.max(v < 0 ? v + N : v, 0), N);
    return steps[k] === 1 && clamp(starts[k]) === 0 && clamp(ends[k]) === N ? null : 'slices the batch axis';
  }
  if (op === 'Split') return axis(attribute(node, 'axis') ?? 0) === 0 ? 'splits the batch axis' : null;
  if (op === 'Concat') {
    if (axis(attribute(node, 'axis')) === 0) return 'concatenates along the batch axis';
    for (let i = 1; i < node.input.length; i++) {
      if (node.input[i] !== ctx.x && ctx.shape(i)[0] !== 1) return 'a constant input varies along the batch axis';
    }
    return null;
  }
  if (op === 'Gather') return axis(attribute(node, 'axis') ?? 0) === 0 ? 'gathers along the batch axis' : null;
  if (op === 'Expand') {
    const shape = intInput(1);
    if (shape.length > rank) return 'broadcasting adds axes before the batch axis';
    return ctx.yShape[0] !== N ? 'broadcasts the batch axis' : null;
  }
  if (op === 'Transpose') {
    const perm = attribute(node, 'perm') ?? [...Array(rank).keys()].reverse();
    return perm[0] !== 0 ? 'moves the batch axis' : null;
  }
  if (op === 'ReduceMean' || op === 'ReduceSum') {
    const fromInput = op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
    const axes = fromInput ? intInput(1) : attribute(node, 'axes');
    if (!axes || axes.length === 0) {
      return attribute(node, 'noop_with_empty_axes') ? null : 'reduces over the batch axis (all axes)';
    }
    return axes.map(axis).includes(0) ? 'reduces over the batch axis' : null;
  }
  return `the harness has no batch rule for ${op} (add one to analyseNode)`;
}

// ---------------------------------------------------------------------------------------------
// Baking and running
// ---------------------------------------------------------------------------------------------

/**
 * The test's model with inputs 1..k baked in as initializers from the data set, input 0 the only graph
 * input (batch kept as declared, or 'dynamic': a symbolic dimension) and output 0 the only output.
 */
export function bakeModel(test, dataSet, { batch = 'keep' } = {}) {
  const model = onnx.ModelProto.decode(readFileSync(join(test.dir, 'model.onnx')));
  const graph = model.graph;
  const [input, ...extra] = graphInputs(model);
  extra.forEach((info, j) => {
    const tensor = readTensor(join(dataSet, `input_${j + 1}.pb`));
    tensor.name = info.name;
    graph.initializer.push(tensor);
  });
  const bakedNames = new Set(extra.map((info) => info.name));
  graph.input = graph.input.filter((info) => !bakedNames.has(info.name));
  graph.output = [graph.output[0]];
  if (batch === 'dynamic') {
    for (const info of [input, graph.output[0]]) {
      const dims = info.type?.tensorType?.shape?.dim;
      if (dims?.length) dims[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'N' });
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Runs one applicable test through lrp-wasm: { pass, message, maxError, dataSets }.
 * A load or predict error fails the test with the package's message.
 */
export async function runTest(test, { batch = 'keep' } = {}) {
  const { loadModel } = await import('lrp-wasm');
  let maxError = 0;
  for (const dataSet of test.dataSets) {
    const where = test.dataSets.length > 1 ? ` (${basename(dataSet)})` : '';
    const x = readTensor(join(dataSet, 'input_0.pb'));
    const y = readTensor(join(dataSet, 'output_0.pb'));
    const xShape = shapeOf(x);
    const yShape = shapeOf(y);
    const xs = tensorValues(x);
    const expected = tensorValues(y);
    const n = xShape[0];
    const sampleSize = xs.length / n;
    let model;
    try {
      model = await loadModel(bakeModel(test, dataSet, { batch }));
    } catch (error) {
      return { pass: false, message: `loadModel refused the model${where}: ${error.message}` };
    }
    try {
      const samples = Array.from({ length: n }, (_, i) => xs.slice(i * sampleSize, (i + 1) * sampleSize));
      let outputs;
      try {
        outputs = model.predictBatch(samples);
      } catch (error) {
        return { pass: false, message: `predictBatch failed${where}: ${error.message} (inputShape [${model.inputShape}], input 0 ${fmt(xShape)})` };
      }
      const actual = new Float32Array(outputs.reduce((s, o) => s + o.length, 0));
      outputs.reduce((offset, o) => (actual.set(o, offset), offset + o.length), 0);
      if (actual.length !== expected.length) {
        return { pass: false, message: `output size ${outputs[0].length} per sample × ${n}, expected ${fmt(yShape)} = ${expected.length} values${where}` };
      }
      let worst = -1;
      let worstExcess = 0;
      for (let i = 0; i < expected.length; i++) {
        const error = Math.abs(actual[i] - expected[i]);
        const excess = error - (TOLERANCE.absolute + TOLERANCE.relative * Math.abs(expected[i]));
        if (!(error <= maxError)) maxError = Number.isNaN(error) ? NaN : Math.max(maxError, error);
        if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) { worst = i; worstExcess = excess; }
      }
      if (worst >= 0) {
        const index = unravel(worst, yShape);
        return { pass: false, message: `output mismatch${where}: at ${fmt(index)} got ${actual[worst]}, expected ${expected[worst]} (max |error| ${maxError.toPrecision(3)})`, maxError };
      }
    } finally {
      model.dispose();
    }
  }
  return { pass: true, message: 'ok', maxError };
}

function unravel(flat, shape) {
  const index = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { index[d] = flat % shape[d]; flat = Math.floor(flat / shape[d]); }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/** Runs every applicable test of the listed operators and returns the results with a printable report. */
export async function conformanceReport({ filter = '', operators } = {}) {
  const list = operators ? { operators, source: 'caller', unclaimed: [] } : await operatorList();
  const { tests, others } = scanTests({ operators: list.operators, filter });
  for (const test of tests) if (test.applicable) test.result = await runTest(test);

  const rows = new Map();
  for (const op of list.operators) rows.set(op, { applicable: 0, pass: 0, fail: 0, outOfScope: 0, expanded: { applicable: 0, pass: 0 } });
  for (const test of tests) {
    const row = rows.get(test.operator);
    if (!test.applicable) { row.outOfScope++; continue; }
    row.applicable++;
    if (test.result.pass) row.pass++; else row.fail++;
    if (test.expanded) { row.expanded.applicable++; if (test.result.pass) row.expanded.pass++; }
  }

  const lines = [];
  const applicable = tests.filter((t) => t.applicable);
  const passed = applicable.filter((t) => t.result.pass);
  const source = { package: 'the package\'s supportedOperators', harness: 'the harness\'s list (the package exports no supportedOperators yet)', caller: 'the caller\'s list' }[list.source];
  lines.push(`ONNX node conformance of lrp-wasm — ${TESTDATA_DIR}`);
  lines.push(`operators: ${source}; tolerance |actual − expected| ≤ ${TOLERANCE.absolute} + ${TOLERANCE.relative}·|expected|${filter ? `; filter '${filter}'` : ''}`);
  if (list.unclaimed.length) lines.push(`target operators the package does not list yet: ${list.unclaimed.join(', ')}`);
  lines.push('');
  lines.push(`${'operator'.padEnd(20)}${'applicable'.padStart(11)}${'pass'.padStart(6)}${'fail'.padStart(6)}${'out of scope'.padStart(14)}   of the applicable: expanded (passing)`);
  for (const [op, row] of rows) {
    if (filter && row.applicable + row.outOfScope === 0) continue;
    const status = row.applicable === 0 ? (row.outOfScope ? '  (no applicable test)' : '  (no test in the data)') : row.fail === 0 ? '  all pass' : '';
    const expanded = row.expanded.applicable ? `   ${row.expanded.applicable} expanded (${row.expanded.pass})` : '';
    lines.push(`${op.padEnd(20)}${String(row.applicable).padStart(11)}${String(row.pass).padStart(6)}${String(row.fail).padStart(6)}${String(row.outOfScope).padStart(14)}${expanded}${status}`);
  }

  const byReason = new Map();
  for (const test of tests.filter((t) => !t.applicable)) {
    if (!byReason.has(test.reason)) byReason.set(test.reason, []);
    byReason.get(test.reason).push(test.name.replace(/^test_/, ''));
  }
  lines.push('');
  lines.push(`out of scope (${tests.length - applicable.length}):`);
  for (const [reason, names] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`  ${reason} (${names.length}): ${names.join(', ')}`);
  }
  const failures = applicable.filter((t) => !t.result.pass);
  lines.push('');
  lines.push(`failures (${failures.length}):`);
  for (const test of failures) lines.push(`  ${test.name} [${test.operator}${test.expanded ? `, expanded: ${test.nodeOps.join(' ')}` : ''}]: ${test.result.message}`);
  lines.push('');
  lines.push(`${tests.length} test directories of ${list.operators.length} operators: ${applicable.length} applicable — ` +
    `${passed.length} pass, ${failures.length} fail; ${tests.length - applicable.length} out of scope. ` +
    `${others} directories of other operators not considered.`);
  return { tests, rows, others, text: lines.join('\n') };
}

// CLI
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!testdataAvailable()) {
    console.error(`error: ${testdataMissingMessage()}`);
    process.exit(2);
  }
  const { text, tests } = await conformanceReport({ filter: process.argv[2] ?? '' });
  console.log(text);
  process.exitCode = tests.some((t) => t.applicable && !t.result.pass) ? 1 : 0;
}
