// ONNX → engine graph description.
//
// parseOnnx(bytes) decodes an ONNX model and converts its graph into the plain description the
// engine builds its layers from (see the JSDoc of parseOnnx for the exact format). Everything the
// engine does not need is resolved here: constant sub-graphs (PyTorch's `x.view(x.size(0), -1)`)
// are folded, MatMul + Add become one dense layer, Gemm's alpha/beta/transB are folded into the
// weights, a BatchNormalization is merged into the Conv/dense layer before it, a zero Pad is merged
// into the Conv or AveragePool after it, auto_pad is resolved into explicit pads, and a trailing
// Softmax is stripped so that the explained outputs are the logits.
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

/** Largest float32: stands for an infinite Clip bound. */
const FLT_MAX = 3.4028234663852886e38;

// ---------------------------------------------------------------------------------------------
// Public entry point
// ---------------------------------------------------------------------------------------------

/**
 * Convert an ONNX model into the engine's graph description.
 *
 * @param {Uint8Array|ArrayBuffer} bytes the .onnx file
 * @returns {{
 *   inputName: string, inputShape: number[], outputName: string, outputSize: number,
 *   nodes: Array<{ name: string, kind: string, inputs: number[], outputShape: number[], ... }>,
 *   strippedSoftmax: false|'Softmax'|'LogSoftmax',
 * }}
 * Shapes exclude the batch dimension; images are C×H×W. Nodes are in topological order; `inputs`
 * holds indices of earlier nodes, -1 being the graph input. Only nodes that feed the output are kept,
 * so the last node produces the output. Every node has `name`, `kind`, `inputs`, `outputShape`, plus:
 *
 *   dense          inFeatures, outFeatures, weight: Float32Array (outFeatures×inFeatures, row-major),
 *                  bias: Float32Array(outFeatures) | null
 *   conv           weight: Float32Array in ONNX order [O, C/group, kH, kW], bias: Float32Array(O) | null,
 *                  kernel: [kH, kW], strides: [sH, sW], pads: [top, left, bottom, right],
 *                  dilations: [dH, dW], group
 *   maxpool        kernel, strides, pads, dilations, ceilMode: boolean
 *   avgpool        kernel, strides, pads, dilations: [1, 1], ceilMode: boolean, countIncludePad: boolean
 *   globalavgpool  (outputShape [C, 1, 1])
 *   batchnorm      scale: Float32Array(C), shift: Float32Array(C): y = scale_c·x + shift_c
 *                  (only a batch-norm that could not be merged into a conv/dense layer)
 *   add            two inputs of the same shape; or one input and constant: Float32Array of the
 *                  output's size (the ONNX operand broadcast to it)
 *   concat         inputs concatenated along the channel axis (the first axis of outputShape)
 *   pad            pads: [top, left, bottom, right] (non-negative), value: number
 *   leakyrelu      alpha
 *   clip           min, max (a missing bound is ∓FLT_MAX, ±3.4028234663852886e38)
 *   relu, sigmoid, tanh, reshape, identity   nothing else
 *
 * Pooling output sizes follow PyTorch: floor((in + padBegin + padEnd − dilation·(k−1) − 1)/stride) + 1,
 * with ceil instead of floor when ceilMode, where the last window must start inside input + padBegin.
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

/**
 * Tensor table entry of a zero Pad not yet turned into a layer: a Conv or AveragePool reading it
 * absorbs it into its own pads; any other reader makes it a 'pad' layer (GraphConverter.entry).
 */
function pendingPad(padNode, source, shape, pads) {
  return { shape, pendingPad: { padNode, source, pads } };
}

class GraphConverter {
  constructor(graph) {
    this.tensors = new Map();
    this.nodes = [];
    this.strippedSoftmax = false;
    // Layer index → the one tensor name through which exactly one node reads the layer's output.
    // Only such a layer may absorb the node after it (bias Add, BatchNormalization).
    this.soleReader = new Map();

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

  /** The table entry of `name`; a pending Pad becomes a layer now (its reader cannot absorb it). */
  entry(node, name) {
    const entry = this.lookup(node, name);
    return entry.pendingPad ? this.materializePad(entry) : entry;
  }

  /** The table entry of `name` as it is, possibly a pending Pad. */
  lookup(node, name) {
    const entry = this.tensors.get(name);
    if (!entry) throw nodeError(node, `input '${name}' is not produced by any earlier node (missing tensor, or nodes not in topological order)`);
    return entry;
  }

  isConstant(node, name) {
    return 'constant' in this.lookup(node, name);
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

  /**
   * The Conv/AveragePool input `name` and, when it is a pending zero Pad that `absorb(pads)` accepts,
   * that Pad's [top, left, bottom, right] to add to the reader's own pads. `shape` is the shape the
   * reader sees (the padded one).
   */
  paddableActivation(node, name, absorb) {
    const entry = this.lookup(node, name);
    if (entry.pendingPad && absorb(entry.pendingPad.pads)) {
      return { input: entry.pendingPad.source, extraPads: entry.pendingPad.pads, shape: entry.shape, absorbed: true };
    }
    const input = this.activation(node, name);
    return { input, extraPads: [0, 0, 0, 0], shape: input.shape, absorbed: false };
  }

  /** The layer computing `name` if the current node is the only reader of its output, else null. */
  exclusiveLayer(name) {
    const entry = this.tensors.get(name);
    if (!entry || !('node' in entry) || entry.node < 0) return null;
    return this.soleReader.get(entry.node) === name && this.consumerCount(name) === 1 ? this.nodes[entry.node] : null;
  }

  // --- results of the operator handlers ---

  addLayer(node, layer) {
    checkShape(layer.outputShape, () => `ONNX node '${node.displayName}' (${node.opType}) output`);
    const index = this.nodes.length;
    this.nodes.push({ name: node.displayName, ...layer });
    this.tensors.set(node.output[0], activation(index, layer.outputShape));
    if (this.consumerCount(node.output[0]) === 1) this.soleReader.set(index, node.output[0]);
    return index;
  }

  materializePad(entry) {
    const { padNode, source, pads } = entry.pendingPad;
    this.addLayer(padNode, { kind: 'pad', inputs: [source.node], outputShape: entry.shape, pads, value: 0 });
    return this.tensors.get(padNode.output[0]);
  }

  setConstant(name, tensor) {
    this.tensors.set(name, constant(tensor));
  }

  /**
   * The output name now denotes the same value as `entry` (no layer needed). `from` is the name the
   * aliasing node read it by: if that node was the layer's only reader, `name` takes over that role.
   */
  alias(name, entry, from) {
    this.tensors.set(name, entry);
    if (!('node' in entry) || entry.node < 0) return;
    if (from !== undefined && this.soleReader.get(entry.node) === from && this.consumerCount(name) === 1) {
      this.soleReader.set(entry.node, name);
    } else {
      this.soleReader.delete(entry.node);
    }
  }

  layer(index) {
    return this.nodes[index];
  }

  // --- final assembly ---

  finish() {
    let outputEntry = this.tensors.get(this.output.name);
    if (!outputEntry) throw invalidModel(`no node produces the graph output '${this.output.name}'`);
    if (outputEntry.pendingPad) outputEntry = this.materializePad(outputEntry);
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
  Conv: convertConv,
  MaxPool: convertMaxPool,
  AveragePool: convertAveragePool,
  GlobalAveragePool: convertGlobalAveragePool,
  BatchNormalization: convertBatchNormalization,
  Add: convertAdd,
  Sub: convertSub,
  Pad: convertPad,
  Relu: elementwise('relu'),
  LeakyRelu: convertLeakyRelu,
  Clip: convertClip,
  Sigmoid: elementwise('sigmoid'),
  Tanh: elementwise('tanh'),
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
  Concat: convertConcat,
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
  // A following Add of a constant becomes the bias (convertAdd), when nothing else reads the product.
  ctx.addLayer(node, {
    kind: 'dense', inputs: [input.node], outputShape: [outFeatures], inFeatures, outFeatures,
    weight: transposed(b.data, inFeatures, outFeatures, 1), bias: null,
  });
}

// --- convolution and pooling ---

function convertConv(node, ctx) {
  const [xName, wName, bName] = node.input;
  // A zero Pad in front is always absorbed: padded cells of a convolution are zeros.
  const { input, extraPads, shape } = ctx.paddableActivation(node, xName, () => true);
  requireImage(node, shape, 'convolutions');
  const w = floatConstant(node, ctx, wName, 'weight W');
  if (w.dims.length !== 4) {
    throw nodeError(node, `only 2-D convolutions are supported: weight W must be 4-D [O, C/group, kH, kW], got shape [${w.dims}]`);
  }
  const [outChannels, groupChannels, kH, kW] = w.dims;
  if (w.data.length === 0) throw nodeError(node, `weight W of shape [${w.dims}] is empty`);
  const kernelShape = attrInts(node, 'kernel_shape');
  if (kernelShape && !sameDims(kernelShape, [kH, kW])) {
    throw nodeError(node, `kernel_shape [${kernelShape}] does not match weight W of shape [${w.dims}]`);
  }
  const group = attrInt(node, 'group', 1);
  const channels = shape[0];
  if (!(Number.isSafeInteger(group) && group >= 1)) throw nodeError(node, `group must be a positive integer, got ${group}`);
  if (channels % group !== 0) throw nodeError(node, `group ${group} does not divide the ${channels} input channels`);
  if (outChannels % group !== 0) throw nodeError(node, `group ${group} does not divide the ${outChannels} output channels of weight W [${w.dims}]`);
  if (groupChannels * group !== channels) {
    throw nodeError(node, `weight W of shape [${w.dims}] with group ${group} expects ${groupChannels * group} input channels, but the input has ${channels} (shape [batch, ${shape}])`);
  }
  const geometry = windowGeometry(node, shape, [kH, kW]);
  const outputShape = [outChannels, ...geometry.outputSize];
  checkLayerShape(node, outputShape);

  let bias = null;
  if (bName) {
    const b = floatConstant(node, ctx, bName, 'bias B');
    if (b.data.length !== outChannels || b.dims.length !== 1) throw nodeError(node, `bias B must have shape [${outChannels}], got [${b.dims}]`);
    bias = Float32Array.from(b.data);
  }
  ctx.addLayer(node, {
    kind: 'conv', inputs: [input.node], outputShape, weight: Float32Array.from(w.data), bias,
    kernel: [kH, kW], strides: geometry.strides, pads: addPads(geometry.pads, extraPads), dilations: geometry.dilations, group,
  });
}

function convertMaxPool(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  requireImage(node, input.shape, 'max pooling');
  const indices = node.output[1];
  if (indices && ctx.consumerCount(indices) > 0) {
    throw unsupportedOperator(node, `its indices output '${indices}' is used; only the first output may be used`);
  }
  const storageOrder = attrInt(node, 'storage_order', 0);
  if (storageOrder !== 0) throw nodeError(node, `storage_order ${storageOrder} is not supported (only 0)`);
  const ceilMode = ceilModeAttribute(node);
  const geometry = windowGeometry(node, input.shape, kernelShapeAttribute(node), { ceilMode });
  const outputShape = [input.shape[0], ...geometry.outputSize];
  checkLayerShape(node, outputShape);
  requireInputInEveryWindow(node, input.shape, geometry);
  ctx.addLayer(node, {
    kind: 'maxpool', inputs: [input.node], outputShape,
    kernel: geometry.kernel, strides: geometry.strides, pads: geometry.pads, dilations: geometry.dilations, ceilMode,
  });
}

function convertAveragePool(node, ctx) {
  const name = node.input[0];
  // The shape the pool sees is the same whether or not a pending Pad in front gets absorbed.
  const seen = ctx.lookup(node, name);
  if ('constant' in seen) ctx.activation(node, name);  // throws the usual message
  requireImage(node, seen.shape, 'average pooling');
  const dilations = attrInts(node, 'dilations');
  if (dilations && dilations.some((d) => d !== 1)) throw nodeError(node, `dilations [${dilations}] are not supported (only 1)`);
  const ceilMode = ceilModeAttribute(node);
  const countIncludePadAttr = attrInt(node, 'count_include_pad', 0);
  if (countIncludePadAttr !== 0 && countIncludePadAttr !== 1) throw nodeError(node, `count_include_pad must be 0 or 1, got ${countIncludePadAttr}`);
  const geometry = windowGeometry(node, seen.shape, kernelShapeAttribute(node), { ceilMode, dilations: false });
  const outputShape = [seen.shape[0], ...geometry.outputSize];
  checkLayerShape(node, outputShape);

  // A zero Pad in front counts in the divisor like the pool's own padding with count_include_pad;
  // it can be absorbed unless the pool has its own padding that must not count.
  const ownPadding = geometry.pads.some((p) => p > 0);
  // (PyTorch exports AvgPool2d, whose count_include_pad defaults to True, as Pad + AveragePool even
  // for padding=0.)
  const { input, extraPads, absorbed } = ctx.paddableActivation(node, name, () => countIncludePadAttr === 1 || !ownPadding);
  const pads = addPads(geometry.pads, extraPads);
  const countIncludePad = countIncludePadAttr === 1 || absorbed;
  if (!countIncludePad) requireInputInEveryWindow(node, input.shape, { ...geometry, pads });
  ctx.addLayer(node, {
    kind: 'avgpool', inputs: [input.node], outputShape,
    kernel: geometry.kernel, strides: geometry.strides, pads, dilations: [1, 1], ceilMode, countIncludePad,
  });
}

function convertGlobalAveragePool(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  requireImage(node, input.shape, 'global average pooling');
  ctx.addLayer(node, { kind: 'globalavgpool', inputs: [input.node], outputShape: [input.shape[0], 1, 1] });
}

// --- batch normalization ---

/**
 * Inference batch-norm y = s·(x − μ) + β with s = γ/√(σ²+ε) per channel (axis 1). Merged into the
 * Conv or dense layer it follows when nothing else reads that layer's output (RULES.md):
 * W' = W·s per output channel, b' = (b − μ)·s + β. Otherwise a 'batchnorm' node.
 */
function convertBatchNormalization(node, ctx) {
  const [xName, ...paramNames] = node.input;
  if (attrInt(node, 'training_mode', 0) !== 0) throw nodeError(node, 'training_mode=1 is not supported; export the model in eval mode');
  if (attrInt(node, 'spatial', 1) !== 1) throw nodeError(node, 'spatial=0 is not supported');
  const used = node.output.slice(1).filter((name) => name && ctx.consumerCount(name) > 0);
  if (used.length > 0) throw unsupportedOperator(node, `its training output '${used[0]}' is used; only the first output may be used`);
  const input = ctx.activation(node, xName);
  const channels = input.shape[0];
  if (paramNames.length !== 4 || paramNames.some((name) => !name)) throw nodeError(node, 'expects the inputs X, scale, B, input_mean and input_var');
  const [gamma, beta, mean, variance] = ['scale', 'B', 'input_mean', 'input_var'].map((role, i) => {
    const tensor = floatConstant(node, ctx, paramNames[i], role);
    if (tensor.data.length !== channels || tensor.dims.length !== 1) {
      throw nodeError(node, `${role} '${paramNames[i]}' must have shape [${channels}] (the channels of input [batch, ${input.shape}]), got [${tensor.dims}]`);
    }
    return tensor.data;
  });
  const epsilon = attrFloat(node, 'epsilon', 1e-5);
  const scale = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
    if (!Number.isFinite(scale[c]) || !Number.isFinite(shift[c])) {
      throw nodeError(node, `channel ${c} has no finite normalization (scale ${gamma[c]}, var ${variance[c]}, epsilon ${epsilon}, mean ${mean[c]}, B ${beta[c]})`);
    }
  }

  const layer = ctx.exclusiveLayer(xName);
  if (layer && (layer.kind === 'conv' || layer.kind === 'dense')) {
    // Row o of either weight layout holds the weights into output channel o.
    const rowLength = layer.weight.length / channels;
    const bias = new Float32Array(channels);
    for (let o = 0; o < channels; o++) {
      for (let k = o * rowLength; k < (o + 1) * rowLength; k++) layer.weight[k] *= scale[o];
      bias[o] = (layer.bias ? layer.bias[o] : 0) * scale[o] + shift[o];  // (b − μ)·s + β
    }
    layer.bias = bias;
    ctx.alias(node.output[0], input, xName);
    return;
  }
  ctx.addLayer(node, {
    kind: 'batchnorm', inputs: [input.node], outputShape: input.shape,
    scale: Float32Array.from(scale), shift: Float32Array.from(shift),
  });
}

// --- element-wise operators with two operands ---

/**
 * Add of two computed tensors of the same shape (a residual connection), or of a computed tensor and
 * a constant that broadcasts to it. A constant added to a dense layer's output that nothing else
 * reads becomes (part of) that layer's bias (PyTorch's Linear as MatMul + Add).
 */
function convertAdd(node, ctx) {
  const [left, right] = node.input;
  const leftConstant = ctx.isConstant(node, left);
  const rightConstant = ctx.isConstant(node, right);
  if (leftConstant && rightConstant) throw unsupportedOperator(node, 'both operands are constants; only additions to a computed tensor are supported');
  if (leftConstant || rightConstant) {
    const [tensorName, constantName] = leftConstant ? [right, left] : [left, right];
    addConstant(node, ctx, tensorName, constantName, 1);
    return;
  }
  const a = ctx.activation(node, left);
  const b = ctx.activation(node, right);
  if (!sameDims(a.shape, b.shape)) {
    throw nodeError(node, `cannot add tensors of shapes [batch, ${a.shape}] and [batch, ${b.shape}]: two computed tensors must have the same shape`);
  }
  ctx.addLayer(node, { kind: 'add', inputs: [a.node, b.node], outputShape: a.shape });
}

/** Sub of a constant is the Add of its negation. */
function convertSub(node, ctx) {
  const [left, right] = node.input;
  if (ctx.isConstant(node, left) || !ctx.isConstant(node, right)) {
    throw unsupportedOperator(node, 'only the subtraction of a constant from a computed tensor is supported');
  }
  addConstant(node, ctx, left, right, -1);
}

function addConstant(node, ctx, tensorName, constantName, sign) {
  const input = ctx.activation(node, tensorName);
  const constantTensor = floatConstant(node, ctx, constantName, 'constant operand');
  const expanded = broadcastTo(node, constantTensor, constantName, input.shape, sign);
  const layer = ctx.exclusiveLayer(tensorName);
  if (layer && layer.kind === 'dense') {
    if (layer.bias) for (let i = 0; i < expanded.length; i++) expanded[i] += layer.bias[i];
    layer.bias = expanded;
    ctx.alias(node.output[0], input, tensorName);
    return;
  }
  ctx.addLayer(node, { kind: 'add', inputs: [input.node], outputShape: input.shape, constant: expanded });
}

/** Concat of computed tensors along the channel axis; of constants it is folded. */
function convertConcat(node, ctx) {
  const names = node.input.filter((name) => name);
  const constants = names.filter((name) => ctx.isConstant(node, name));
  if (constants.length === names.length) {
    foldConcat(node, ctx);
    return;
  }
  if (constants.length > 0) {
    throw unsupportedOperator(node, `input '${constants[0]}' is a constant; only computed tensors can be concatenated with computed tensors`);
  }
  const parts = names.map((name) => ctx.activation(node, name));
  const rank = parts[0].shape.length + 1;
  const rawAxis = attrInt(node, 'axis', null);
  if (normalizeAxis(node, rawAxis, rank) !== 1) {
    throw nodeError(node, `only concatenation along the channel axis 1 is supported, got axis ${rawAxis} for rank ${rank}`);
  }
  const [first] = parts;
  for (const part of parts) {
    if (part.shape.length !== first.shape.length || part.shape.some((dim, i) => i > 0 && dim !== first.shape[i])) {
      throw nodeError(node, `cannot concatenate shapes [batch, ${first.shape}] and [batch, ${part.shape}] along axis 1: the other dimensions differ`);
    }
  }
  const outputShape = [parts.reduce((sum, part) => sum + part.shape[0], 0), ...first.shape.slice(1)];
  ctx.addLayer(node, { kind: 'concat', inputs: parts.map((part) => part.node), outputShape });
}

// --- padding ---

/**
 * Constant Pad of the spatial axes of an N×C×H×W tensor. Opset ≥ 11 gives pads (and constant_value,
 * opset 18 also axes) as inputs, older opsets as attributes. A zero Pad read by one node only stays
 * pending: a Conv or AveragePool absorbs it into its pads, any other reader makes it a layer.
 */
function convertPad(node, ctx) {
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant') throw unsupportedOperator(node, `mode '${mode}' is not supported (only 'constant')`);
  const input = ctx.activation(node, node.input[0], 'data');
  const rank = input.shape.length + 1;
  let pads;
  let value;
  let axes = range(rank);
  if (node.input[1]) {
    pads = intConstant(node, ctx, node.input[1], 'pads').data;
    value = node.input[2] ? scalarFloat(node, ctx, node.input[2], 'constant_value') : 0;
    if (node.input[3]) axes = intConstant(node, ctx, node.input[3], 'axes').data.map((axis) => normalizeAxis(node, axis, rank));
  } else {
    pads = attrInts(node, 'pads');
    if (!pads) throw nodeError(node, 'missing pads (neither an input nor an attribute)');
    value = attrFloat(node, 'value', 0);
  }
  if (pads.length !== 2 * axes.length) throw nodeError(node, `pads [${pads}] must have ${2 * axes.length} values (begin and end of ${axes.length} axes)`);
  const begin = new Array(rank).fill(0);
  const end = new Array(rank).fill(0);
  axes.forEach((axis, j) => {
    begin[axis] += pads[j];
    end[axis] += pads[j + axes.length];
  });
  const full = [...begin, ...end];
  if (rank !== 4) throw nodeError(node, `only 4-D [batch, C, H, W] tensors can be padded, got [batch, ${input.shape}]`);
  if (begin[0] || begin[1] || end[0] || end[1]) {
    throw nodeError(node, `only the spatial axes (H, W) may be padded, got pads [${full}] for input [batch, ${input.shape}]`);
  }
  if (full.some((p) => !(Number.isSafeInteger(p) && p >= 0))) throw nodeError(node, `pads [${full}] must be non-negative integers (cropping is not supported)`);
  if (Number.isNaN(value)) throw nodeError(node, 'constant_value is NaN');
  const spatial = [begin[2], begin[3], end[2], end[3]];
  const [channels, height, width] = input.shape;
  const outputShape = [channels, height + spatial[0] + spatial[2], width + spatial[1] + spatial[3]];
  checkLayerShape(node, outputShape);
  if (value === 0 && ctx.consumerCount(node.output[0]) === 1) {
    ctx.tensors.set(node.output[0], pendingPad(node, input, outputShape, spatial));
    return;
  }
  ctx.addLayer(node, { kind: 'pad', inputs: [input.node], outputShape, pads: spatial, value });
}

// --- element-wise activations and shape operators ---

function elementwise(kind) {
  return (node, ctx) => {
    const input = ctx.activation(node, node.input[0]);
    ctx.addLayer(node, { kind, inputs: [input.node], outputShape: input.shape });
  };
}

function convertLeakyRelu(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  ctx.addLayer(node, { kind: 'leakyrelu', inputs: [input.node], outputShape: input.shape, alpha: attrFloat(node, 'alpha', 0.01) });
}

/** Clip: bounds are inputs from opset 11, attributes before; a missing bound is ±FLT_MAX. */
function convertClip(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const bound = (index, name, fallback) => {
    const value = node.input[index] ? scalarFloat(node, ctx, node.input[index], name) : attrFloat(node, name, fallback);
    if (Number.isNaN(value)) throw nodeError(node, `${name} is NaN`);
    return Math.min(Math.max(value, -FLT_MAX), FLT_MAX);
  };
  const min = bound(1, 'min', -FLT_MAX);
  const max = bound(2, 'max', FLT_MAX);
  ctx.addLayer(node, { kind: 'clip', inputs: [input.node], outputShape: input.shape, min, max });
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
  ctx.alias(node.output[0], ctx.activation(node, node.input[0]), node.input[0]);
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

/** Convolutions and pooling read C×H×W images (4-D [batch, C, H, W] tensors in ONNX terms). */
function requireImage(node, shape, what) {
  if (shape.length !== 3) {
    throw nodeError(node, `only 2-D ${what} are supported: expects a 4-D input [batch, C, H, W], got [batch, ${shape}]`);
  }
}

function kernelShapeAttribute(node) {
  const kernel = attrInts(node, 'kernel_shape');
  if (!kernel) throw nodeError(node, 'missing kernel_shape');
  if (kernel.length !== 2) throw nodeError(node, `only 2-D pooling is supported: kernel_shape must have 2 values, got [${kernel}]`);
  return kernel;
}

function ceilModeAttribute(node) {
  const ceilMode = attrInt(node, 'ceil_mode', 0);
  if (ceilMode !== 0 && ceilMode !== 1) throw nodeError(node, `ceil_mode must be 0 or 1, got ${ceilMode}`);
  return ceilMode === 1;
}

/**
 * Kernel, strides, dilations and explicit pads [top, left, bottom, right] of a 2-D window over a
 * C×H×W input (auto_pad resolved), and the output size [Ho, Wo]; throws when the window does not fit.
 */
function windowGeometry(node, shape, kernel, { ceilMode = false, dilations: allowDilations = true } = {}) {
  const inputSize = shape.slice(1);
  const check = (values, name, min) => {
    if (values.length !== 2) throw nodeError(node, `${name} must have 2 values for a 2-D window, got [${values}]`);
    if (values.some((v) => !(Number.isSafeInteger(v) && v >= min && v <= MAX_ELEMENTS))) {
      throw nodeError(node, `${name} [${values}] must be integers ${min === 0 ? '≥ 0' : '≥ 1'}`);
    }
    return values;
  };
  check(kernel, 'kernel_shape', 1);
  const strides = check(attrInts(node, 'strides') ?? [1, 1], 'strides', 1);
  const dilations = allowDilations ? check(attrInts(node, 'dilations') ?? [1, 1], 'dilations', 1) : [1, 1];
  const extent = [0, 1].map((i) => dilations[i] * (kernel[i] - 1) + 1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const explicitPads = attrInts(node, 'pads');
  let pads;
  if (explicitPads) {
    if (explicitPads.length !== 4) throw nodeError(node, `pads must have 4 values [top, left, bottom, right] for a 2-D window, got [${explicitPads}]`);
    if (explicitPads.some((p) => !(Number.isSafeInteger(p) && p >= 0 && p <= MAX_ELEMENTS))) throw nodeError(node, `pads [${explicitPads}] must be non-negative integers`);
  }
  if (autoPad === 'NOTSET') {
    pads = explicitPads ?? [0, 0, 0, 0];
  } else {
    if (explicitPads && explicitPads.some((p) => p !== 0)) throw nodeError(node, `auto_pad ${autoPad} cannot be combined with explicit pads [${explicitPads}]`);
    if (ceilMode) throw nodeError(node, `ceil_mode=1 cannot be combined with auto_pad ${autoPad}`);
    if (autoPad === 'VALID') {
      pads = [0, 0, 0, 0];
    } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // Output ceil(in / stride); the odd pad cell goes to the end (UPPER) or the beginning (LOWER).
      pads = [0, 0, 0, 0];
      for (let i = 0; i < 2; i++) {
        const out = Math.ceil(inputSize[i] / strides[i]);
        const total = Math.max(0, (out - 1) * strides[i] + extent[i] - inputSize[i]);
        const before = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
        pads[i] = before;
        pads[i + 2] = total - before;
      }
    } else {
      throw nodeError(node, `unknown auto_pad '${autoPad}' (expected NOTSET, VALID, SAME_UPPER or SAME_LOWER)`);
    }
  }
  const outputSize = [0, 1].map((i) => {
    const padded = inputSize[i] + pads[i] + pads[i + 2];
    if (padded < extent[i]) {
      const dilated = dilations[i] === 1 ? '' : ` (dilated to ${extent[i]})`;
      throw nodeError(node, `kernel ${kernel[0]}×${kernel[1]} does not fit: size ${kernel[i]}${dilated} along ${i === 0 ? 'H' : 'W'} is larger than the padded input ${padded} (input [batch, ${shape}], pads [${pads}])`);
    }
    const steps = (padded - extent[i]) / strides[i];
    let out = (ceilMode ? Math.ceil(steps) : Math.floor(steps)) + 1;
    // PyTorch: the last window must start inside the input or the begin padding.
    if (ceilMode && (out - 1) * strides[i] >= inputSize[i] + pads[i]) out -= 1;
    return out;
  });
  return { kernel, strides, pads, dilations, outputSize };
}

/** A max (or average without count_include_pad) window that sees only padding has no value. */
function requireInputInEveryWindow(node, shape, { kernel, strides, pads, dilations, outputSize }) {
  for (let i = 0; i < 2; i++) {
    const size = shape[i + 1];
    for (let o = 0; o < outputSize[i]; o++) {
      const start = o * strides[i] - pads[i];
      const first = Math.max(0, Math.ceil(-start / dilations[i]));
      const last = Math.min(kernel[i] - 1, Math.floor((size - 1 - start) / dilations[i]));
      if (last < first) {
        throw nodeError(node, `output ${o} along ${i === 0 ? 'H' : 'W'} would be computed from padding only (input [batch, ${shape}], pads [${pads}]); the padding is too large for the kernel`);
      }
    }
  }
}

function addPads(a, b) {
  return a.map((p, i) => p + b[i]);
}

function checkLayerShape(node, shape) {
  checkShape(shape, () => `ONNX node '${node.displayName}' (${node.opType}) output`);
}

function sameDims(a, b) {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** A float constant with exactly one element (scalar or [1]). */
function scalarFloat(node, ctx, name, role) {
  const tensor = floatConstant(node, ctx, name, role);
  if (tensor.data.length !== 1) throw nodeError(node, `${role} '${name}' must be a scalar, got shape [${tensor.dims}]`);
  return tensor.data[0];
}

/**
 * `sign`·constant broadcast (ONNX multidirectional broadcasting) to [batch, ...shape] without changing
 * it, as a Float32Array of product(shape) values.
 */
function broadcastTo(node, tensor, name, shape, sign) {
  const full = [1, ...shape];
  const { dims } = tensor;
  const offset = full.length - dims.length;
  const fits = offset >= 0 && dims.every((dim, i) => dim === 1 || (i + offset > 0 && dim === full[i + offset]));
  if (!fits) throw nodeError(node, `constant '${name}' of shape [${dims}] does not broadcast to the tensor's shape [batch, ${shape}]`);
  // Stride of each output axis in the constant (0 where the constant is broadcast).
  const constantStrides = rowMajorStrides(dims);
  const strides = shape.map((dim, axis) => {
    const i = axis + 1 - offset;
    return i >= 0 && dims[i] !== 1 ? constantStrides[i] : 0;
  });
  const result = new Float32Array(product(shape));
  const index = new Array(shape.length).fill(0);
  for (let k = 0; k < result.length; k++) {
    let source = 0;
    for (let axis = 0; axis < shape.length; axis++) source += index[axis] * strides[axis];
    result[k] = sign * tensor.data[source];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return result;
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

function attrString(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.STRING);
  return attr ? new TextDecoder().decode(attr.s) : fallback;
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
