// ONNX → engine graph description.
//
// parseOnnx(bytes) decodes an ONNX model and converts its graph into the plain description the
// engine builds its layers from (see the JSDoc of parseOnnx for the exact format). Everything the
// engine does not need is resolved here: constant sub-graphs (PyTorch's `x.view(x.size(0), -1)`)
// are folded, MatMul + Add become one dense layer, Gemm's alpha/beta/transB are folded into the
// weights, and a trailing Softmax is stripped so that the explained outputs are the logits.
//
// Shapes are tracked without the batch dimension. Inside folded shape tensors the batch size is the
// symbol BATCH: known to exist, value unknown.
//
// Plain ES module without Node built-ins, so that it runs in Node and, bundled by esbuild, in browsers.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;
const EXTERNAL_DATA = onnx.TensorProto.DataLocation.EXTERNAL;

/** Largest element count accepted for any tensor or shape: hostile files must not make us allocate. */
const MAX_ELEMENTS = 2 ** 28;

/** The batch size inside a folded shape tensor. */
const BATCH = Symbol('batch');

// ---------------------------------------------------------------------------------------------
// Public entry point
// ---------------------------------------------------------------------------------------------

/**
 * Convert an ONNX model into the engine's graph description.
 *
 * @param {Uint8Array|ArrayBuffer} bytes the .onnx file
 * @returns {{
 *   inputName: string, inputShape: number[], outputName: string, outputSize: number,
 *   nodes: Array<{ name: string, kind: 'dense'|'relu'|'reshape'|'identity', inputs: number[],
 *                  outputShape: number[], inFeatures?: number, outFeatures?: number,
 *                  weight?: Float32Array, bias?: Float32Array|null }>,
 *   strippedSoftmax: false|'Softmax'|'LogSoftmax',
 * }}
 * Shapes exclude the batch dimension. Nodes are in topological order; `inputs` holds indices of
 * earlier nodes, -1 being the graph input. Only nodes that feed the output are kept, so the last
 * node produces the output. Dense weights are outFeatures×inFeatures, row-major.
 * @throws {Error} naming the problem (operator and node, expected vs. got) for anything unsupported
 */
export function parseOnnx(bytes) {
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw invalidModel('the model has no graph');

  const converter = new GraphConverter(graph);
  graph.node.forEach((node, position) => converter.convert(node, position));
  return converter.finish();
}

function decodeModel(bytes) {
  const view = asUint8Array(bytes);
  if (view.length === 0) throw invalidModel('the file is empty');
  try {
    return onnx.ModelProto.decode(view);
  } catch (error) {
    throw invalidModel(`could not decode the protobuf (${error.message}); the file is truncated or not an ONNX model`);
  }
}

function asUint8Array(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new Error(`invalid ONNX model: expected a Uint8Array or ArrayBuffer, got ${describeValue(bytes)}`);
}

function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

function invalidModel(message) {
  return new Error(`invalid ONNX model: ${message}`);
}

function nodeError(node, message) {
  return new Error(`ONNX node '${node.displayName}' (${node.opType}): ${message}`);
}

function unsupportedOperator(node, reason) {
  const domain = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.` : '';
  const suffix = reason ? `: ${reason}` : '';
  return new Error(`unsupported ONNX operator '${domain}${node.opType}' (node '${node.displayName}')${suffix}`);
}

// ---------------------------------------------------------------------------------------------
// Graph conversion
// ---------------------------------------------------------------------------------------------

/** Tensor table entry of a value computed from the graph input. `node` -1 is the graph input. */
function activation(node, shape) {
  return { node, shape };
}

/** Tensor table entry of a value known at load time. */
function constant(tensor) {
  return { constant: tensor };
}

class GraphConverter {
  constructor(graph) {
    this.tensors = new Map();
    this.nodes = [];
    this.strippedSoftmax = false;
    // Dense layers made from a MatMul: an Add of a constant right after them is their bias.
    this.biasFusable = new Set();

    // Cheap structural checks first, before any weight is decoded.
    const input = readGraphInput(graph, new Set(graph.initializer.map((tensor) => tensor.name)));
    this.inputName = input.name;
    this.inputShape = input.shape;
    this.batchValue = input.batchValue;
    this.output = readGraphOutput(graph);
    this.consumers = countConsumers(graph);

    for (const initializer of graph.initializer) {
      this.tensors.set(initializer.name, constant(tensorFromProto(initializer, `initializer '${initializer.name}'`)));
    }
    this.tensors.set(input.name, activation(-1, input.shape));
  }

  convert(node, position) {
    // Error messages need a name even for unnamed nodes (the decoded message is ours to annotate).
    node.displayName = node.name || `${node.opType}_${position}`;
    const isDefaultDomain = !node.domain || node.domain === 'ai.onnx';
    if (!isDefaultDomain || !Object.hasOwn(OPERATORS, node.opType)) throw unsupportedOperator(node);
    OPERATORS[node.opType](node, this);
  }

  // --- lookups used by the operator handlers ---

  entry(node, name) {
    const entry = this.tensors.get(name);
    if (!entry) throw nodeError(node, `input '${name}' is not produced by any earlier node (missing tensor, or nodes not in topological order)`);
    return entry;
  }

  isConstant(node, name) {
    return 'constant' in this.entry(node, name);
  }

  /** A tensor computed from the graph input. */
  activation(node, name, role = 'input') {
    const entry = this.entry(node, name);
    if ('constant' in entry) throw nodeError(node, `${role} '${name}' must be computed from the graph input, but it is a constant`);
    return entry;
  }

  /** A tensor known at load time (initializer, Constant node or folded sub-graph). */
  constant(node, name, role = 'input') {
    const entry = this.entry(node, name);
    if (!('constant' in entry)) {
      throw unsupportedOperator(node, `${role} '${name}' is computed from the graph input; only constant ${role}s are supported`);
    }
    return entry.constant;
  }

  consumerCount(name) {
    return this.consumers.get(name) ?? 0;
  }

  // --- results of the operator handlers ---

  addLayer(node, layer) {
    checkShape(layer.outputShape, () => `ONNX node '${node.displayName}' (${node.opType}) output`);
    const index = this.nodes.length;
    this.nodes.push({ name: node.displayName, ...layer });
    this.tensors.set(node.output[0], activation(index, layer.outputShape));
    return index;
  }

  setConstant(name, tensor) {
    this.tensors.set(name, constant(tensor));
  }

  /** The output name now denotes the same value as `entry` (no layer needed). */
  alias(name, entry) {
    this.tensors.set(name, entry);
  }

  layer(index) {
    return this.nodes[index];
  }

  // --- final assembly ---

  finish() {
    const outputEntry = this.tensors.get(this.output.name);
    if (!outputEntry) throw invalidModel(`no node produces the graph output '${this.output.name}'`);
    if ('constant' in outputEntry) throw invalidModel(`the graph output '${this.output.name}' does not depend on the input`);
    if (outputEntry.node === -1) throw invalidModel(`the graph output '${this.output.name}' is the input itself; the model has no layers`);
    checkDeclaredOutputShape(this.output, outputEntry.shape);

    return {
      inputName: this.inputName,
      inputShape: this.inputShape,
      outputName: this.output.name,
      outputSize: product(outputEntry.shape),
      nodes: keepNodesFeeding(this.nodes, outputEntry.node),
      strippedSoftmax: this.strippedSoftmax,
    };
  }
}

function readGraphInput(graph, initializerNames) {
  // Old exporters (IR < 4) list the initializers among the inputs too.
  const inputs = graph.input.filter((info) => !initializerNames.has(info.name));
  if (inputs.length === 0) throw invalidModel('the graph has no input');
  if (inputs.length > 1) {
    throw invalidModel(`the graph has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}); exactly one is supported`);
  }
  const info = inputs[0];
  const tensorType = info.type?.tensorType;
  if (!tensorType) throw invalidModel(`the input '${info.name}' is not a tensor`);
  if (tensorType.elemType !== DataType.FLOAT) {
    throw new Error(`unsupported ONNX model: the input '${info.name}' has element type ${dataTypeName(tensorType.elemType)}; only float32 inputs are supported`);
  }
  const dims = tensorType.shape?.dim;
  if (!dims) throw invalidModel(`the input '${info.name}' has no shape`);
  if (dims.length < 2) {
    throw invalidModel(`the input '${info.name}' must have a batch dimension followed by at least one more dimension, got rank ${dims.length}`);
  }
  const shape = dims.slice(1).map((dim, i) => {
    const size = dim.value === 'dimValue' ? toSafeInteger(dim.dimValue) : null;
    if (size === null) {
      throw invalidModel(`the input '${info.name}' has an unknown size in dimension ${i + 1} ('${dim.dimParam || '?'}'); only the batch dimension may be dynamic`);
    }
    return size;
  });
  checkShape(shape, () => `the input '${info.name}'`);
  const batch = dims[0];
  return { name: info.name, shape, batchValue: batch.value === 'dimValue' ? toSafeInteger(batch.dimValue) : null };
}

function readGraphOutput(graph) {
  if (graph.output.length !== 1) {
    const names = graph.output.map((o) => `'${o.name}'`).join(', ');
    throw invalidModel(`the graph has ${graph.output.length} outputs${names ? ` (${names})` : ''}; exactly one is supported`);
  }
  return graph.output[0];
}

/** How many nodes (and graph outputs) read each tensor: decides whether fusing is safe. */
function countConsumers(graph) {
  const counts = new Map();
  const add = (name) => counts.set(name, (counts.get(name) ?? 0) + 1);
  for (const node of graph.node) node.input.filter((name) => name).forEach(add);
  for (const output of graph.output) add(output.name);
  return counts;
}

/** A declared output shape that disagrees with the inferred one means we misread the graph. */
function checkDeclaredOutputShape(output, shape) {
  const dims = output.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== shape.length + 1) return;
  const declared = dims.slice(1).map((dim) => (dim.value === 'dimValue' ? toSafeInteger(dim.dimValue) : null));
  if (declared.some((size, i) => size !== null && size !== shape[i])) {
    throw invalidModel(`the graph output '${output.name}' is declared with shape [${declared.map((d) => d ?? '?')}] but computes [${shape}]`);
  }
}

/** Drop layers the output does not depend on (e.g. side branches) and renumber the rest. */
function keepNodesFeeding(nodes, outputIndex) {
  const needed = new Array(nodes.length).fill(false);
  needed[outputIndex] = true;
  // Inputs always precede their consumers, so one backward sweep marks every ancestor.
  for (let i = outputIndex; i >= 0; i--) {
    if (needed[i]) nodes[i].inputs.forEach((input) => { if (input >= 0) needed[input] = true; });
  }
  const newIndex = new Map([[-1, -1]]);
  const kept = [];
  nodes.forEach((node, i) => {
    if (!needed[i]) return;
    newIndex.set(i, kept.length);
    kept.push({ ...node, inputs: node.inputs.map((input) => newIndex.get(input)) });
  });
  return kept;
}

// ---------------------------------------------------------------------------------------------
// Operator handlers: one function per ONNX operator, (node, converter) → void.
// Layer operators add engine nodes; constant operators fold values known at load time.
// ---------------------------------------------------------------------------------------------

const OPERATORS = {
  Gemm: convertGemm,
  MatMul: convertMatMul,
  Add: convertAdd,
  Relu: convertRelu,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Identity: convertIdentity,
  Dropout: convertDropout,
  Softmax: convertSoftmax,
  LogSoftmax: convertSoftmax,
  Constant: foldConstant,
  Shape: foldShape,
  Gather: foldGather,
  Unsqueeze: foldUnsqueeze,
  Squeeze: foldSqueeze,
  Concat: foldConcat,
  Cast: foldCast,
  Slice: foldSlice,
};

function convertGemm(node, ctx) {
  const [aName, bName, cName] = node.input;
  if (attrInt(node, 'transA', 0) !== 0) {
    throw nodeError(node, 'transA=1 is not supported: the activation input A must not be transposed');
  }
  const transB = attrInt(node, 'transB', 0);
  if (transB !== 0 && transB !== 1) throw nodeError(node, `transB must be 0 or 1, got ${transB}`);
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);

  const input = ctx.activation(node, aName, 'input A');
  const features = featureCount(node, input.shape);
  const b = floatConstant(node, ctx, bName, 'weight B');
  if (b.dims.length !== 2) throw nodeError(node, `weight B must be 2-D, got shape [${b.dims}]`);
  const [rows, cols] = b.dims;
  // With transB the rows of B already are the output neurons, as the engine wants.
  const [inFeatures, outFeatures] = transB ? [cols, rows] : [rows, cols];
  if (inFeatures !== features) {
    throw nodeError(node, `weight B of shape [${b.dims}]${transB ? ' (transB=1)' : ''} expects ${inFeatures} input features, but the input has ${features}`);
  }
  const weight = transB ? scaled(b.data, alpha) : transposed(b.data, rows, cols, alpha);
  const bias = cName ? broadcastBias(node, floatConstant(node, ctx, cName, 'bias C'), outFeatures, beta) : null;
  ctx.addLayer(node, { kind: 'dense', inputs: [input.node], outputShape: [outFeatures], inFeatures, outFeatures, weight, bias });
}

function convertMatMul(node, ctx) {
  const [aName, bName] = node.input;
  const input = ctx.activation(node, aName, 'left operand');
  const features = featureCount(node, input.shape);
  const b = floatConstant(node, ctx, bName, 'right operand');
  if (b.dims.length !== 2) throw nodeError(node, `the constant right operand must be 2-D [K, N], got shape [${b.dims}]`);
  const [inFeatures, outFeatures] = b.dims;
  if (inFeatures !== features) {
    throw nodeError(node, `the right operand of shape [${b.dims}] expects ${inFeatures} input features, but the input has ${features}`);
  }
  const index = ctx.addLayer(node, {
    kind: 'dense', inputs: [input.node], outputShape: [outFeatures], inFeatures, outFeatures,
    weight: transposed(b.data, inFeatures, outFeatures, 1), bias: null,
  });
  // Only fuse a following Add when nothing else reads the bias-free product.
  if (ctx.consumerCount(node.output[0]) === 1) ctx.biasFusable.add(index);
}

/** Add is supported as the bias of a preceding MatMul (PyTorch's Linear without Gemm). */
function convertAdd(node, ctx) {
  const [left, right] = node.input;
  const constantSide = [left, right].find((name) => ctx.isConstant(node, name));
  const activationSide = [left, right].find((name) => !ctx.isConstant(node, name));
  const reason = 'only the addition of a constant bias right after a MatMul is supported';
  if (!constantSide || !activationSide) throw unsupportedOperator(node, reason);
  const input = ctx.activation(node, activationSide);
  if (!ctx.biasFusable.has(input.node)) throw unsupportedOperator(node, reason);

  const dense = ctx.layer(input.node);
  dense.bias = broadcastBias(node, floatConstant(node, ctx, constantSide, 'bias'), dense.outFeatures, 1);
  ctx.biasFusable.delete(input.node);
  ctx.alias(node.output[0], input);
}

function convertRelu(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  ctx.addLayer(node, { kind: 'relu', inputs: [input.node], outputShape: input.shape });
}

function convertFlatten(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const rank = input.shape.length + 1;
  const rawAxis = attrInt(node, 'axis', 1);
  // Unlike most operators, Flatten accepts axis = rank (everything goes to the outer dimension).
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (!(axis >= 0 && axis <= rank)) throw nodeError(node, `axis ${rawAxis} is out of range for rank ${rank}`);
  if (axis === 0) throw nodeError(node, 'axis=0 would merge the batch dimension into the features');
  // Flatten's output is [batch·d1·…·d(axis-1), rest]; the batch stays separate only if that product is 1.
  const merged = input.shape.slice(0, axis - 1);
  if (product(merged) !== 1) {
    throw nodeError(node, `axis=${axis} would merge the batch dimension with dimensions [${merged}] of input shape [batch, ${input.shape}]`);
  }
  ctx.addLayer(node, { kind: 'reshape', inputs: [input.node], outputShape: [product(input.shape.slice(axis - 1))] });
}

function convertReshape(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  const target = intConstant(node, ctx, node.input[1], 'shape', { allowBatch: true });
  if (target.dims.length !== 1) throw nodeError(node, `the target shape must be 1-D, got shape [${target.dims}]`);
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const outputShape = resolveReshape(node, input.shape, target.data, allowZero, ctx.batchValue);
  ctx.addLayer(node, { kind: 'reshape', inputs: [input.node], outputShape });
}

function convertIdentity(node, ctx) {
  const entry = ctx.entry(node, node.input[0]);
  if ('constant' in entry) {
    ctx.alias(node.output[0], entry);
    return;
  }
  ctx.addLayer(node, { kind: 'identity', inputs: [entry.node], outputShape: entry.shape });
}

/** Inference-mode Dropout is the identity; its mask output has no meaning here. */
function convertDropout(node, ctx) {
  const mask = node.output[1];
  if (mask && ctx.consumerCount(mask) > 0) throw unsupportedOperator(node, `its mask output '${mask}' is used; only the first output may be used`);
  convertIdentity(node, ctx);
}

/** A trailing (Log)Softmax is dropped so that the logits get explained. */
function convertSoftmax(node, ctx) {
  const isTrailing = node.output[0] === ctx.output.name && ctx.consumerCount(node.output[0]) === 1;
  if (!isTrailing) throw unsupportedOperator(node, 'only a trailing Softmax/LogSoftmax that produces the graph output is supported (it is stripped)');
  ctx.alias(node.output[0], ctx.activation(node, node.input[0]));
  ctx.strippedSoftmax = node.opType;
}

// --- constant folding ---

function foldConstant(node, ctx) {
  if (node.attribute.length !== 1) throw nodeError(node, `expected exactly one value attribute, got ${node.attribute.length}`);
  const attr = node.attribute[0];
  const fromAttribute = {
    value: () => tensorFromProto(attr.t, `ONNX node '${node.displayName}' (Constant) value`),
    value_float: () => ({ dims: [], data: Float32Array.of(attr.f), type: 'float' }),
    value_floats: () => ({ dims: [attr.floats.length], data: Float32Array.from(attr.floats), type: 'float' }),
    value_int: () => ({ dims: [], data: [toSafeInteger(attr.i)], type: 'int' }),
    value_ints: () => ({ dims: [attr.ints.length], data: attr.ints.map(toSafeInteger), type: 'int' }),
  };
  if (!Object.hasOwn(fromAttribute, attr.name)) throw unsupportedOperator(node, `attribute '${attr.name}' is not supported`);
  ctx.setConstant(node.output[0], fromAttribute[attr.name]());
}

/** Shape of a computed tensor is known except for the batch size, which stays symbolic. */
function foldShape(node, ctx) {
  const entry = ctx.entry(node, node.input[0]);
  const fullShape = 'constant' in entry ? entry.constant.dims : [BATCH, ...entry.shape];
  const rank = fullShape.length;
  const clampAxis = (axis) => Math.min(Math.max(axis < 0 ? axis + rank : axis, 0), rank);
  const start = clampAxis(attrInt(node, 'start', 0));
  const end = clampAxis(attrInt(node, 'end', rank));
  const dims = fullShape.slice(start, Math.max(start, end));
  ctx.setConstant(node.output[0], { dims: [dims.length], data: dims, type: 'int' });
}

function foldGather(node, ctx) {
  const data = ctx.constant(node, node.input[0], 'data');
  const indices = intConstant(node, ctx, node.input[1], 'indices');
  const axis = normalizeAxis(node, attrInt(node, 'axis', 0), data.dims.length);
  const size = data.dims[axis];
  const picked = indices.data.map((index) => {
    const wrapped = index < 0 ? index + size : index;
    if (!(wrapped >= 0 && wrapped < size)) throw nodeError(node, `index ${index} is out of range for a dimension of size ${size}`);
    return wrapped;
  });
  const lists = data.dims.map((dim, i) => (i === axis ? picked : range(dim)));
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  ctx.setConstant(node.output[0], { dims, data: selectAlongAxes(data, lists), type: data.type });
}

function foldUnsqueeze(node, ctx) {
  const data = ctx.constant(node, node.input[0], 'data');
  // Opset 13 moved the axes from an attribute to an input.
  const axes = axesFromInputOrAttribute(node, ctx);
  if (!axes) throw nodeError(node, 'missing axes');
  const outRank = data.dims.length + axes.length;
  const inserted = new Set(axes.map((axis) => normalizeAxis(node, axis, outRank)));
  if (inserted.size !== axes.length) throw nodeError(node, `repeated axes [${axes}]`);
  const remaining = [...data.dims];
  const dims = range(outRank).map((i) => (inserted.has(i) ? 1 : remaining.shift()));
  ctx.setConstant(node.output[0], { ...data, dims });
}

function foldSqueeze(node, ctx) {
  const data = ctx.constant(node, node.input[0], 'data');
  const axes = axesFromInputOrAttribute(node, ctx);
  const removed = axes
    ? new Set(axes.map((axis) => normalizeAxis(node, axis, data.dims.length)))
    : new Set(data.dims.flatMap((dim, i) => (dim === 1 ? [i] : [])));
  for (const axis of removed) {
    if (data.dims[axis] !== 1) throw nodeError(node, `cannot squeeze axis ${axis} of size ${data.dims[axis]}`);
  }
  ctx.setConstant(node.output[0], { ...data, dims: data.dims.filter((_, i) => !removed.has(i)) });
}

function foldConcat(node, ctx) {
  const parts = node.input.filter((name) => name).map((name) => ctx.constant(node, name));
  if (parts.length === 0) throw nodeError(node, 'no inputs');
  const rank = parts[0].dims.length;
  const axis = normalizeAxis(node, attrInt(node, 'axis', null), rank);
  for (const part of parts) {
    const compatible = part.dims.length === rank && part.dims.every((dim, i) => i === axis || dim === parts[0].dims[i]);
    if (!compatible) throw nodeError(node, `cannot concatenate shapes [${parts[0].dims}] and [${part.dims}] along axis ${axis}`);
    if (part.type !== parts[0].type) throw nodeError(node, 'cannot concatenate float and integer tensors');
  }
  const outer = product(parts[0].dims.slice(0, axis));
  const chunk = (part) => product(part.dims.slice(axis));
  const values = [];
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const size = chunk(part);
      for (let i = o * size; i < (o + 1) * size; i++) values.push(part.data[i]);
    }
  }
  const dims = parts[0].dims.map((dim, i) => (i === axis ? parts.reduce((sum, part) => sum + part.dims[axis], 0) : dim));
  ctx.setConstant(node.output[0], { dims, data: arrayLike(parts[0].data, values), type: parts[0].type });
}

const FLOAT_CASTS = { [DataType.FLOAT]: Float32Array, [DataType.FLOAT16]: Float32Array, [DataType.DOUBLE]: Float64Array };
const INTEGER_CASTS = new Set([DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
  DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64]);

function foldCast(node, ctx) {
  const data = ctx.constant(node, node.input[0]);
  const to = attrInt(node, 'to', null);
  const values = Array.from(data.data);
  let result;
  if (Object.hasOwn(FLOAT_CASTS, to)) {
    if (values.includes(BATCH)) throw nodeError(node, 'cannot cast the symbolic batch size to a floating-point type');
    result = { dims: data.dims, data: FLOAT_CASTS[to].from(values), type: 'float' };
  } else if (INTEGER_CASTS.has(to) || to === DataType.BOOL) {
    const convert = to === DataType.BOOL ? (v) => (v === 0 ? 0 : 1) : Math.trunc;
    result = { dims: data.dims, data: values.map((v) => (v === BATCH ? BATCH : convert(v))), type: 'int' };
  } else {
    throw unsupportedOperator(node, `cast to ${dataTypeName(to)} is not supported`);
  }
  ctx.setConstant(node.output[0], result);
}

function foldSlice(node, ctx) {
  const data = ctx.constant(node, node.input[0], 'data');
  // Opset 10 moved starts/ends/axes from attributes to inputs and added steps.
  const fromInput = (i, what) => (node.input[i] ? intConstant(node, ctx, node.input[i], what).data : null);
  const starts = fromInput(1, 'starts') ?? attrInts(node, 'starts');
  const ends = fromInput(2, 'ends') ?? attrInts(node, 'ends');
  const axes = fromInput(3, 'axes') ?? attrInts(node, 'axes') ?? range(starts?.length ?? 0);
  const steps = fromInput(4, 'steps') ?? starts?.map(() => 1);
  if (!starts || !ends || starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw nodeError(node, 'starts, ends, axes and steps must be given and have the same length');
  }
  const lists = data.dims.map(range);
  axes.forEach((rawAxis, j) => {
    const axis = normalizeAxis(node, rawAxis, data.dims.length);
    if (steps[j] === 0) throw nodeError(node, 'step 0 is invalid');
    lists[axis] = sliceIndices(data.dims[axis], starts[j], ends[j], steps[j]);
  });
  ctx.setConstant(node.output[0], { dims: lists.map((list) => list.length), data: selectAlongAxes(data, lists), type: data.type });
}

/** Indices picked by ONNX Slice along one axis (out-of-range starts/ends are clamped). */
function sliceIndices(size, start, end, step) {
  const from = start < 0 ? start + size : start;
  const to = end < 0 ? end + size : end;
  const indices = [];
  if (step > 0) {
    for (let i = Math.max(from, 0), stop = Math.min(to, size); i < stop; i += step) indices.push(i);
  } else {
    for (let i = Math.min(from, size - 1), stop = Math.max(to, -1); i > stop; i += step) indices.push(i);
  }
  return indices;
}

// ---------------------------------------------------------------------------------------------
// Helpers of the operator handlers
// ---------------------------------------------------------------------------------------------

/** A dense layer reads a plain feature vector (a 2-D [batch, features] tensor in ONNX terms). */
function featureCount(node, shape) {
  if (shape.length !== 1) {
    throw nodeError(node, `expects a 2-D input [batch, features], got [batch, ${shape}]; add a Flatten before it`);
  }
  return shape[0];
}

function floatConstant(node, ctx, name, role) {
  const tensor = ctx.constant(node, name, role);
  if (tensor.type !== 'float') throw nodeError(node, `${role} '${name}' must be a floating-point tensor`);
  return tensor;
}

function intConstant(node, ctx, name, role, { allowBatch = false } = {}) {
  const tensor = ctx.constant(node, name, role);
  if (tensor.type !== 'int') throw nodeError(node, `${role} '${name}' must be an integer tensor`);
  if (!allowBatch && tensor.data.includes(BATCH)) throw nodeError(node, `${role} '${name}' depends on the batch size`);
  return tensor;
}

function axesFromInputOrAttribute(node, ctx) {
  return node.input[1] ? intConstant(node, ctx, node.input[1], 'axes').data : attrInts(node, 'axes');
}

function normalizeAxis(node, axis, rank) {
  if (axis === null) throw nodeError(node, 'missing axis attribute');
  const normalized = axis < 0 ? axis + rank : axis;
  if (!(normalized >= 0 && normalized < rank)) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return normalized;
}

/** Weights in engine order (row o = weights into output o) from B stored as [in, out]. */
function transposed(data, rows, cols, scale) {
  const weight = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) weight[c * rows + r] = scale * data[r * cols + c];
  }
  return weight;
}

function scaled(data, scale) {
  const out = new Float32Array(data);  // a plain typed copy is ~50× faster than Float32Array.from(data, fn)
  if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

/** Bias of a dense layer from a tensor broadcastable to [batch, n]: scalar, [n], [1, n] or [1, 1]. */
function broadcastBias(node, tensor, n, scale) {
  const { dims } = tensor;
  const last = dims.length > 0 ? dims[dims.length - 1] : 1;
  const broadcastable = dims.length <= 2 && (dims.length < 2 || dims[0] === 1) && (last === 1 || last === n);
  if (!broadcastable) throw nodeError(node, `bias of shape [${dims}] does not broadcast to ${n} outputs`);
  return Float32Array.from({ length: n }, (_, i) => scale * tensor.data[last === 1 ? 0 : i]);
}

function resolveReshape(node, inputShape, target, allowZero, batchValue) {
  const count = product(inputShape);
  const fail = (why) => nodeError(node, `cannot reshape [batch, ${inputShape}] to [${target.map(formatDim)}]: ${why}`);
  if (target.length === 0) throw fail('the target must keep the batch dimension first');
  const [first, ...rest] = target;
  const keepsBatch = first === BATCH || (first === 0 && !allowZero) || (batchValue !== null && first === batchValue);
  if (!keepsBatch && first !== -1) throw fail('the first dimension must stay the batch size');

  // 0 copies the input's size at the same position (unless allowzero).
  const dims = rest.map((dim, i) => {
    if (dim === BATCH) throw fail('the batch size may only appear first');
    if (dim === 0 && !allowZero) {
      if (i >= inputShape.length) throw fail(`0 at position ${i + 1} has no input dimension to copy`);
      return inputShape[i];
    }
    if (!(Number.isSafeInteger(dim) && (dim > 0 || dim === -1))) throw fail(`invalid size ${formatDim(dim)}`);
    return dim;
  });
  const inferred = dims.filter((dim) => dim === -1).length;
  const known = product(dims.filter((dim) => dim !== -1));
  if (first === -1) {
    // -1 first is the batch size only if the other dimensions hold exactly one example.
    if (inferred > 0 || known !== count) throw fail('-1 in the first position must stand for the batch size');
    return dims;
  }
  if (inferred > 1) throw fail('more than one -1');
  if (inferred === 1) {
    if (count % known !== 0) throw fail(`element count mismatch: ${count} elements do not divide into ${known}`);
    return dims.map((dim) => (dim === -1 ? count / known : dim));
  }
  if (known !== count) throw fail(`element count mismatch: ${count} elements vs ${known}`);
  return dims;
}

function formatDim(dim) {
  return dim === BATCH ? 'batch' : String(dim);
}

/** Elements at the cartesian product of per-axis index lists, in row-major order. */
function selectAlongAxes(tensor, lists) {
  const strides = rowMajorStrides(tensor.dims);
  const values = [];
  const visit = (axis, offset) => {
    if (axis === lists.length) {
      values.push(tensor.data[offset]);
      return;
    }
    for (const index of lists[axis]) visit(axis + 1, offset + index * strides[axis]);
  };
  visit(0, 0);
  return arrayLike(tensor.data, values);
}

function rowMajorStrides(dims) {
  const strides = new Array(dims.length);
  let stride = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= dims[i];
  }
  return strides;
}

/** `values` in the same kind of array as `like` (typed float arrays stay typed). */
function arrayLike(like, values) {
  return Array.isArray(like) ? values : like.constructor.from(values);
}

function range(n) {
  return Array.from({ length: n }, (_, i) => i);
}

function product(dims) {
  return dims.reduce((acc, dim) => acc * dim, 1);
}

/** Every dimension a positive integer and the total within MAX_ELEMENTS. */
function checkShape(shape, describe) {
  let count = 1;
  for (const dim of shape) {
    if (!(Number.isSafeInteger(dim) && dim > 0)) throw new Error(`${describe()} has an invalid dimension ${formatDim(dim)} in shape [${shape.map(formatDim)}]`);
    count *= dim;
    if (count > MAX_ELEMENTS) throw new Error(`${describe()} is too large: shape [${shape}] exceeds ${MAX_ELEMENTS} elements`);
  }
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

function findAttribute(node, name, type) {
  const attr = node.attribute.find((a) => a.name === name);
  // Very old exporters leave `type` unset; trust the name then.
  if (attr && attr.type && attr.type !== type) {
    throw nodeError(node, `attribute '${name}' must be of type ${AttributeType[type]}, got ${AttributeType[attr.type] ?? attr.type}`);
  }
  return attr;
}

function attrInt(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.INT);
  return attr ? toSafeInteger(attr.i) : fallback;
}

function attrFloat(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.FLOAT);
  return attr ? attr.f : fallback;
}

function attrInts(node, name) {
  const attr = findAttribute(node, name, AttributeType.INTS);
  return attr ? attr.ints.map(toSafeInteger) : null;
}

// ---------------------------------------------------------------------------------------------
// Tensors: { dims: number[], data: Float32Array|Float64Array|Array<number|BATCH>, type: 'float'|'int' }
// ---------------------------------------------------------------------------------------------

const INT32_FIELD = 'int32Data';
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const ELEMENT_FORMATS = {
  [DataType.FLOAT]: { type: 'float', bytes: 4, field: 'floatData', Array: Float32Array, read: (view, at) => view.getFloat32(at, true) },
  [DataType.DOUBLE]: { type: 'float', bytes: 8, field: 'doubleData', Array: Float64Array, read: (view, at) => view.getFloat64(at, true) },
  [DataType.INT64]: { type: 'int', bytes: 8, field: 'int64Data', Array: Array, read: (view, at) => toSafeInteger(view.getBigInt64(at, true)) },
  [DataType.INT32]: { type: 'int', bytes: 4, field: INT32_FIELD, Array: Array, read: (view, at) => view.getInt32(at, true) },
  // Small integer types are stored in int32_data when not raw.
  [DataType.INT16]: { type: 'int', bytes: 2, field: INT32_FIELD, Array: Array, read: (view, at) => view.getInt16(at, true) },
  [DataType.UINT16]: { type: 'int', bytes: 2, field: INT32_FIELD, Array: Array, read: (view, at) => view.getUint16(at, true) },
  [DataType.INT8]: { type: 'int', bytes: 1, field: INT32_FIELD, Array: Array, read: (view, at) => view.getInt8(at) },
  [DataType.UINT8]: { type: 'int', bytes: 1, field: INT32_FIELD, Array: Array, read: (view, at) => view.getUint8(at) },
  [DataType.BOOL]: { type: 'int', bytes: 1, field: INT32_FIELD, Array: Array, read: (view, at) => view.getUint8(at) },
};

function tensorFromProto(proto, label) {
  if (!proto) throw invalidModel(`${label} is missing its tensor`);
  if (proto.dataLocation === EXTERNAL_DATA || proto.externalData?.length > 0) {
    throw new Error(`unsupported ONNX model: ${label} stores its data in an external file; export the model with the weights embedded`);
  }
  const dims = proto.dims.map(toSafeInteger);
  const count = elementCount(dims, label);
  if (!Object.hasOwn(ELEMENT_FORMATS, proto.dataType)) {
    throw new Error(`unsupported ONNX model: ${label} has data type ${dataTypeName(proto.dataType)}`);
  }
  const format = ELEMENT_FORMATS[proto.dataType];
  return { dims, data: readElements(proto, count, format, label), type: format.type };
}

/** Element count of constant dims, checked before anything is allocated (0 is legal: empty tensor). */
function elementCount(dims, label) {
  let count = 1;
  for (const dim of dims) {
    if (!(Number.isSafeInteger(dim) && dim >= 0)) throw invalidModel(`${label} has an invalid dimension ${dim} in dims [${dims}]`);
    count *= dim;
    if (count > MAX_ELEMENTS) throw invalidModel(`${label} is too large: dims [${dims}] exceed ${MAX_ELEMENTS} elements`);
  }
  return count;
}

function readElements(proto, count, format, label) {
  const raw = proto.rawData;
  if (raw && raw.length > 0) {
    const expected = count * format.bytes;
    if (raw.length !== expected) throw invalidModel(`${label} has ${raw.length} bytes of data, but its dims [${proto.dims.map(toSafeInteger)}] need ${expected}`);
    // raw_data is little-endian: on a little-endian host (every browser platform) a copy of the bytes is
    // the array already; the copy also fixes the alignment (it may sit at any offset inside the file).
    // (Uint8Array.prototype.slice copies; Node Buffer.slice would return a view.)
    if (LITTLE_ENDIAN_HOST && format.Array !== Array) return new format.Array(Uint8Array.prototype.slice.call(raw).buffer);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = format.Array === Array ? new Array(count) : new format.Array(count);
    for (let i = 0; i < count; i++) values[i] = format.read(view, i * format.bytes);
    return values;
  }
  const field = proto[format.field] ?? [];
  if (field.length !== count) throw invalidModel(`${label} has ${field.length} values, but its dims [${proto.dims.map(toSafeInteger)}] need ${count}`);
  return format.Array === Array ? Array.from(field, toSafeInteger) : format.Array.from(field);
}

function dataTypeName(type) {
  return DataType[type] ?? `#${type}`;
}

/**
 * int64 fields arrive as Long objects (protobufjs with the `long` package), numbers (bundled without
 * it) or BigInt (raw data). Values beyond 2^53 become ±Infinity: ONNX uses them only as "to the end"
 * markers (Slice), and any use as a size fails validation.
 */
function toSafeInteger(value) {
  if (typeof value === 'number') return Math.abs(value) > Number.MAX_SAFE_INTEGER ? Math.sign(value) * Infinity : value;
  if (typeof value === 'bigint') return bigIntToNumber(value);
  if (typeof value === 'string') return bigIntToNumber(BigInt(value));
  if (value && typeof value.low === 'number' && typeof value.high === 'number') {
    const high = value.unsigned ? BigInt(value.high >>> 0) : BigInt(value.high | 0);
    return bigIntToNumber((high << 32n) + BigInt(value.low >>> 0));
  }
  throw invalidModel(`expected an integer, got ${describeValue(value)}`);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function bigIntToNumber(value) {
  if (value > MAX_SAFE) return Infinity;
  if (value < -MAX_SAFE) return -Infinity;
  return Number(value);
}
