// Seeded mutations of the test fixtures' ONNX models, for tests/fuzz.test.mjs.
//
// mutant(seed, index) → { base, mutation, bytes }: the same (seed, index) gives the same bytes on every
// run and machine, so a failure is reproduced by `node tests/helpers/fuzz-child.mjs --seed S --index I`.
// Structural mutations edit the decoded protobuf (onnx-proto, the importer's own decoder) and encode it
// again; byte-level ones flip, cut or splice the file itself.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { mulberry32 } from '../../web/src/random.js';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * The models mutated: every operator fixture (CNN, modern-architecture and transformer operators), the
 * golden models, the encoders and the small ResNet. { name, bytes }.
 */
export function baseModels() {
  const models = [];
  const add = (name, path) => models.push({ name, bytes: new Uint8Array(readFileSync(path)) });
  for (const group of ['ops', 'golden']) {
    for (const name of readdirSync(join(fixtures, group)).sort()) {
      const path = join(fixtures, group, name, 'model.onnx');
      if (existsSync(path)) add(`${group}/${name}`, path);
    }
  }
  for (const file of readdirSync(join(fixtures, 'encoder')).filter((f) => f.endsWith('.onnx')).sort())
    add(`encoder/${file.replace(/\.onnx$/, '')}`, join(fixtures, 'encoder', file));
  add('resnet-small', join(fixtures, 'resnet-small', 'model.onnx'));
  return models;
}

/** A generator for one (seed, index): mulberry32 of a hash of both, so neighbouring indices differ. */
export function rngFor(seed, index) {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 13;
  return mulberry32(Math.imul(h, 0x27d4eb2f) >>> 0);
}

// int64 fields decode as Long objects (or numbers without the long package).
const toNumber = (value) => (typeof value === 'number' ? value : value.toNumber?.() ?? Number(value));
const pick = (rng, items) => items[Math.floor(rng() * items.length)];
const integerBelow = (rng, n) => Math.floor(rng() * n);

// Integers an attribute or a dimension is set to: zero, negative, off by one and far beyond any limit.
const HOSTILE_INTEGERS = [0, -1, -7, 1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 1e6, 65536];
const INTEGER_ATTRIBUTES = ['kernel_shape', 'strides', 'pads', 'dilations', 'axes', 'perm', 'group', 'axis',
  'transB', 'transA', 'keepdims', 'ceil_mode', 'count_include_pad', 'split', 'blocksize'];
const OTHER_OPERATORS = ['Relu', 'Conv', 'MaxPool', 'AveragePool', 'Gemm', 'MatMul', 'Softmax', 'Transpose',
  'Reshape', 'Add', 'Mul', 'Div', 'LayerNormalization', 'Slice', 'Concat', 'Gather', 'Identity', 'Erf',
  'ConvTranspose', 'NoSuchOperator', ''];

// ---------------------------------------------------------------------------------------------------
// Structural mutations: (model, rng) → a description, or null when the model offers nothing to mutate.
// ---------------------------------------------------------------------------------------------------

function nodesWithIntegerAttributes(graph) {
  const found = [];
  for (const node of graph.node) {
    for (const attr of node.attribute) {
      if (!INTEGER_ATTRIBUTES.includes(attr.name)) continue;
      if (attr.type === AttributeType.INTS && attr.ints.length > 0) found.push({ node, attr });
      if (attr.type === AttributeType.INT) found.push({ node, attr });
    }
  }
  return found;
}

function mutateIntegerAttribute(model, rng) {
  const candidates = nodesWithIntegerAttributes(model.graph);
  if (candidates.length === 0) return null;
  const { node, attr } = pick(rng, candidates);
  const value = pick(rng, HOSTILE_INTEGERS);
  if (attr.type === AttributeType.INT) {
    attr.i = value;
    return `attribute ${attr.name} of node '${node.name}' (${node.opType}) = ${value}`;
  }
  const ints = attr.ints.map(toNumber);
  const at = integerBelow(rng, ints.length);
  ints[at] = value;
  attr.ints = ints;
  return `attribute ${attr.name}[${at}] of node '${node.name}' (${node.opType}) = ${value}`;
}

// Windowed operators (where the attributes set the work) are picked first; others ignore most of these.
function addIntegerAttribute(model, rng) {
  const windowed = model.graph.node.filter((n) => /Conv|Pool/.test(n.opType));
  const node = pick(rng, windowed.length > 0 && rng() < 0.8 ? windowed : model.graph.node);
  if (!node) return null;
  const name = pick(rng, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'axis', 'perm']);
  const value = pick(rng, HOSTILE_INTEGERS);
  const isList = ['kernel_shape', 'strides', 'pads', 'dilations', 'perm'].includes(name);
  node.attribute = node.attribute.filter((a) => a.name !== name);
  node.attribute.push(isList
    ? { name, type: AttributeType.INTS, ints: [value, value] }
    : { name, type: AttributeType.INT, i: value });
  return `attribute ${name} = ${isList ? `[${value}, ${value}]` : value} added to node '${node.name}' (${node.opType})`;
}

// Float and integer tensors: initializers and the values of Constant nodes.
function tensors(graph) {
  const found = graph.initializer.map((tensor) => ({ tensor, where: `initializer '${tensor.name}'` }));
  for (const node of graph.node) {
    if (node.opType !== 'Constant') continue;
    const value = node.attribute.find((a) => a.name === 'value' && a.t);
    if (value) found.push({ tensor: value.t, where: `value of Constant '${node.name}'` });
  }
  return found;
}

function mutateTensorDims(model, rng) {
  const candidates = tensors(model.graph).filter(({ tensor }) => tensor.dims.length > 0);
  if (candidates.length === 0) return null;
  const { tensor, where } = pick(rng, candidates);
  const dims = tensor.dims.map(toNumber);
  const at = integerBelow(rng, dims.length);
  const value = pick(rng, [...HOSTILE_INTEGERS, dims[at] * 2]);
  dims[at] = value;
  tensor.dims = dims;
  return `dims[${at}] of ${where} = ${value}`;
}

function floatValues(tensor) {
  if (tensor.dataType !== DataType.FLOAT) return null;
  if (tensor.rawData?.length > 0) return new Float32Array(Uint8Array.prototype.slice.call(tensor.rawData).buffer);
  return Float32Array.from(tensor.floatData);
}

function setFloatValues(tensor, values) {
  tensor.rawData = new Uint8Array(values.buffer);
  tensor.floatData = [];
}

// Weights made finite-but-huge (±1e38: any product overflows), NaN or infinite.
function poisonWeights(model, rng) {
  const candidates = tensors(model.graph).filter(({ tensor }) => (floatValues(tensor)?.length ?? 0) > 0);
  if (candidates.length === 0) return null;
  const { tensor, where } = pick(rng, candidates);
  const values = floatValues(tensor);
  const kind = pick(rng, ['1e38', 'NaN', 'Infinity', '-Infinity', 'x1e30']);
  if (kind === '1e38') values.forEach((v, i) => { values[i] = v < 0 ? -1e38 : 1e38; });
  else if (kind === 'x1e30') values.forEach((v, i) => { values[i] = v * 1e30; });
  else values[integerBelow(rng, values.length)] = Number(kind);
  setFloatValues(tensor, values);
  return `${where}: ${kind === '1e38' ? 'every value ±1e38' : kind === 'x1e30' ? 'values times 1e30' : `one value ${kind}`}`;
}

function mutateInputDims(model, rng) {
  const input = pick(rng, model.graph.input.filter((i) => i.type?.tensorType?.shape?.dim?.length > 0));
  if (!input) return null;
  const dims = input.type.tensorType.shape.dim;
  const action = pick(rng, ['set', 'set', 'set', 'drop', 'add']);
  if (action === 'drop') {
    const at = integerBelow(rng, dims.length);
    dims.splice(at, 1);
    return `graph input '${input.name}': dimension ${at} removed`;
  }
  if (action === 'add') {
    dims.push({ dimValue: 3 });
    return `graph input '${input.name}': a dimension of 3 appended`;
  }
  const at = integerBelow(rng, dims.length);
  const value = pick(rng, [...HOSTILE_INTEGERS, 1 << 20]);
  dims[at] = { dimValue: value };
  return `graph input '${input.name}': dimension ${at} = ${value}`;
}

function dropOrDuplicateConnection(model, rng) {
  const node = pick(rng, model.graph.node.filter((n) => n.input.length + n.output.length > 0));
  if (!node) return null;
  const side = node.input.length > 0 && (node.output.length === 0 || rng() < 0.6) ? 'input' : 'output';
  const list = node[side];
  const at = integerBelow(rng, list.length);
  if (rng() < 0.5) {
    const [removed] = list.splice(at, 1);
    return `node '${node.name}' (${node.opType}): ${side} ${at} ('${removed}') dropped`;
  }
  list.push(list[at]);
  return `node '${node.name}' (${node.opType}): ${side} ${at} ('${list[at]}') duplicated`;
}

function renameInput(model, rng) {
  const node = pick(rng, model.graph.node.filter((n) => n.input.length > 0));
  if (!node) return null;
  const at = integerBelow(rng, node.input.length);
  const name = pick(rng, ['no_such_tensor', '', node.output[0] ?? 'self']);
  node.input[at] = name;
  return `node '${node.name}' (${node.opType}): input ${at} renamed '${name}'`;
}

function changeOperator(model, rng) {
  const node = pick(rng, model.graph.node);
  if (!node) return null;
  const before = node.opType;
  node.opType = pick(rng, OTHER_OPERATORS);
  return `node '${node.name}': operator ${before} → '${node.opType}'`;
}

function changeVersion(model, rng) {
  const value = pick(rng, [99, 0, -1, 1, 6, 2 ** 40]);
  if (rng() < 0.5) {
    model.irVersion = value;
    return `IR version ${value}`;
  }
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) return null;
  entry.version = value;
  return `opset ${value}`;
}

function cutGraph(model, rng) {
  const nodes = model.graph.node;
  if (nodes.length < 2) return null;
  const action = pick(rng, ['truncate', 'remove', 'swap', 'no-output', 'reverse']);
  const at = integerBelow(rng, nodes.length - 1);
  if (action === 'truncate') {
    const count = nodes.length;
    nodes.splice(at + 1);
    return `graph cut after node ${at} of ${count}`;
  }
  if (action === 'remove') {
    const [removed] = nodes.splice(at, 1);
    return `node ${at} '${removed.name}' (${removed.opType}) removed`;
  }
  if (action === 'swap') {
    [nodes[at], nodes[at + 1]] = [nodes[at + 1], nodes[at]];
    return `nodes ${at} and ${at + 1} swapped (not in topological order)`;
  }
  if (action === 'reverse') {
    nodes.reverse();
    return 'node order reversed';
  }
  model.graph.output = [];
  return 'graph outputs removed';
}

const STRUCTURAL = {
  'integer-attribute': mutateIntegerAttribute,
  'added-attribute': addIntegerAttribute,
  'tensor-dims': mutateTensorDims,
  'poisoned-weights': poisonWeights,
  'input-dims': mutateInputDims,
  'connection': dropOrDuplicateConnection,
  'renamed-input': renameInput,
  'operator': changeOperator,
  'version': changeVersion,
  'cut-graph': cutGraph,
};

// ---------------------------------------------------------------------------------------------------
// Byte-level mutations: (bytes, rng, other) → { bytes, description }.
// ---------------------------------------------------------------------------------------------------

function flipBits(bytes, rng) {
  const copy = bytes.slice();
  const count = 1 + integerBelow(rng, 8);
  const positions = [];
  for (let i = 0; i < count; i++) {
    const at = integerBelow(rng, copy.length);
    copy[at] ^= 1 << integerBelow(rng, 8);
    positions.push(at);
  }
  return { bytes: copy, description: `bits flipped at bytes ${positions.join(', ')}` };
}

function truncate(bytes, rng) {
  const length = integerBelow(rng, bytes.length);
  return { bytes: bytes.slice(0, length), description: `truncated to ${length} of ${bytes.length} bytes` };
}

// A chunk of `other` (another fixture, or the same one) written over or inserted into this file.
function splice(bytes, rng, other) {
  const from = integerBelow(rng, other.length);
  const length = Math.min(1 + integerBelow(rng, 64), other.length - from);
  const at = integerBelow(rng, bytes.length);
  const chunk = other.subarray(from, from + length);
  const insert = rng() < 0.5;
  // Written over the end, the chunk lengthens the file.
  const result = new Uint8Array(insert ? bytes.length + length : Math.max(bytes.length, at + length));
  result.set(bytes.subarray(0, at));
  result.set(chunk, at);
  result.set(bytes.subarray(insert ? at : Math.min(at + length, bytes.length)), at + length);
  return {
    bytes: result,
    description: `${length} bytes from offset ${from} ${insert ? 'inserted' : 'written'} at ${at}`,
  };
}

const BYTE_LEVEL = { 'bit-flip': flipBits, 'truncate': truncate, 'splice': splice };

export const mutationClasses = [...Object.keys(STRUCTURAL), ...Object.keys(BYTE_LEVEL)];

/**
 * The mutant `index` of run `seed`: a base model, a mutation class (structural 3 times in 4), and the bytes.
 * A structural mutation that finds nothing to change in its model falls back to a version change.
 */
export function mutant(seed, index, models = baseModels()) {
  const rng = rngFor(seed, index);
  const base = pick(rng, models);
  if (rng() < 0.25) {
    const kind = pick(rng, Object.keys(BYTE_LEVEL));
    const other = pick(rng, models).bytes;
    const { bytes, description } = BYTE_LEVEL[kind](base.bytes, rng, other);
    return { base: base.name, kind, mutation: description, bytes };
  }
  const model = onnx.ModelProto.decode(base.bytes);
  let kind = pick(rng, Object.keys(STRUCTURAL));
  let description = STRUCTURAL[kind](model, rng);
  if (description === null) {
    kind = 'version';
    description = changeVersion(model, rng) ?? 'unchanged';
  }
  return { base: base.name, kind, mutation: description, bytes: onnx.ModelProto.encode(model).finish(), mustRefuse: absurdVersion(description) };
}

/**
 * For a version mutant no ONNX release ever had (≤ 0, 99, 2^40: outside any range the importer could
 * document), the pattern its refusal must match; null otherwise (opset 1 or 6 may be accepted or refused).
 */
function absurdVersion(description) {
  const match = /^(IR version|opset) (-?\d+)$/.exec(description);
  if (!match || !(Number(match[2]) <= 0 || Number(match[2]) >= 99)) return null;
  return match[1] === 'opset' ? /opset/i : /IR version/i;
}
