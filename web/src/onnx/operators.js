// ONNX operators → engine nodes (docs/layers.md): one handler per operator, (node, converter) → void.
//
// Every activation entry carries its per-sample `shape` and `batchAxis`: where the size-1 batch axis
// sits in the ONNX shape, or null once a Reshape merged it away. The graph is run per sample (at
// batch size 1): a handler maps each ONNX axis to a per-sample axis and refuses to work along the
// batch axis itself. Constant inputs are folded before a handler runs (fold.js), so a handler sees at
// least one activation.

import {
  BATCH, MAX_ELEMENTS, rowMajorStrides, attrFloat, attrInt, attrInts, attrString, formatDim, nodeError, normalizeAxis,
  product, range, sameDims, unsupportedOperator,
} from './decode.js';
import {
  broadcastShapes, checkPermutation, expandTensor, numeric, reshapeDims, sliceParameters, sliceRange, splitSizes,
  squeezedAxes, unsqueezeDims,
} from './fold.js';
import { fuseBatchNorm, fuseBias, isTrailing, layernormNode, padToAbsorb } from './patterns.js';

/** Largest float32: stands for an infinite Clip bound. */
const FLT_MAX = 3.4028234663852886e38;

// ---------------------------------------------------------------------------------------------
// Shapes with the batch axis
// ---------------------------------------------------------------------------------------------

/** The ONNX shape with the batch as the symbol BATCH (at batch size 1 where it is null: merged). */
export function symbolicShape(entry) {
  if (entry.batchAxis === null || entry.batchAxis === undefined) return [...entry.shape];
  return [...entry.shape.slice(0, entry.batchAxis), BATCH, ...entry.shape.slice(entry.batchAxis)];
}

/** The ONNX shape at batch size 1. */
export function fullShape(entry) {
  return symbolicShape(entry).map(numeric);
}

/** Per-sample shape and batch axis of symbolic ONNX dims (BATCH marks the batch axis). */
export function fromSymbolic(dims) {
  const batchAxis = dims.indexOf(BATCH);
  return { shape: dims.filter((dim) => dim !== BATCH), batchAxis: batchAxis < 0 ? null : batchAxis };
}

/** The shape as error messages show it: [batch, 2,3] (batch first), or [2,batch,3]. */
export function describeShape(entry) {
  if (entry.batchAxis === 0) return `[batch, ${entry.shape}]`;
  return `[${symbolicShape(entry).map(formatDim)}]`;
}

/** The per-sample axis of ONNX axis `axis` of `entry`; operating along the batch axis is refused. */
export function sampleAxis(node, entry, axis, what = 'axis') {
  const full = symbolicShape(entry);
  const normalized = normalizeAxis(node, axis, full.length);
  if (full[normalized] === BATCH) {
    throw nodeError(node, `${what} ${axis} is the batch axis of the input ${describeShape(entry)}; operations along the batch are not supported`);
  }
  return entry.batchAxis !== null && normalized > entry.batchAxis ? normalized - 1 : normalized;
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

export const OPERATORS = {
  Gemm: convertGemm,
  MatMul: convertMatMul,
  Conv: convertConv,
  MaxPool: convertMaxPool,
  AveragePool: convertAveragePool,
  GlobalAveragePool: globalPool('global-avgpool'),
  GlobalMaxPool: globalPool('global-maxpool'),
  BatchNormalization: convertBatchNormalization,
  LayerNormalization: convertLayerNormalization,
  Add: convertBinary,
  Sub: convertBinary,
  Mul: convertBinary,
  Div: convertBinary,
  Where: convertWhere,
  Pad: convertPad,
  Relu: elementwise('relu'),
  Sigmoid: elementwise('sigmoid'),
  Tanh: elementwise('tanh'),
  HardSwish: elementwise('hard-swish'),
  Softplus: elementwise('softplus'),
  LeakyRelu: elementwise('leaky-relu', (node) => ({ alpha: attrFloat(node, 'alpha', 0.01) })),
  Elu: elementwise('elu', (node) => ({ alpha: attrFloat(node, 'alpha', 1) })),
  HardSigmoid: elementwise('hard-sigmoid', (node) => ({ alpha: attrFloat(node, 'alpha', 0.2), beta: attrFloat(node, 'beta', 0.5) })),
  Gelu: elementwise('gelu', geluAttributes),
  // What ONNX's function expansions of Softmax/LayerNormalization leave when nothing fuses them.
  Exp: elementwise('exp'),
  Log: elementwise('log'),
  Sqrt: elementwise('sqrt'),
  Reciprocal: elementwise('reciprocal'),
  Neg: convertNeg,
  Cast: convertCast,
  Clip: convertClip,
  PRelu: convertPRelu,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Transpose: convertTranspose,
  Squeeze: convertSqueeze,
  Unsqueeze: convertUnsqueeze,
  Slice: convertSlice,
  Split: convertSplit,
  Concat: convertConcat,
  Gather: convertGather,
  Expand: convertExpand,
  ReduceMean: reduce('reduce-mean'),
  ReduceSum: reduce('reduce-sum'),
  ReduceMax: reduce('reduce-max'),
  Softmax: convertSoftmax,
  LogSoftmax: convertSoftmax,
  Identity: convertIdentity,
  Dropout: convertDropout,
};

// ---------------------------------------------------------------------------------------------
// Linear maps with constant weights
// ---------------------------------------------------------------------------------------------

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
  // Gemm is 2-D by definition: [batch, features] (or a merged [1, features]).
  if (fullShape(input).length !== 2) {
    throw nodeError(node, `expects a 2-D input [batch, features], got ${describeShape(input)}; add a Flatten before it`);
  }
  const features = lastFeatures(node, input);
  const b = ctx.floatConstant(node, bName, 'weight B');
  if (b.dims.length !== 2) throw nodeError(node, `weight B must be 2-D, got shape [${b.dims}]`);
  const [rows, cols] = b.dims;
  // With transB the rows of B already are the output neurons, as the engine wants.
  const [inFeatures, outFeatures] = transB ? [cols, rows] : [rows, cols];
  if (inFeatures !== features) {
    throw nodeError(node, `weight B of shape [${b.dims}]${transB ? ' (transB=1)' : ''} expects ${inFeatures} input features, but the input has ${features}`);
  }
  const weight = transB ? scaled(b.data, alpha) : transposed(b.data, rows, cols, alpha);
  const bias = cName ? gemmBias(node, ctx.floatConstant(node, cName, 'bias C'), outFeatures, beta) : null;
  ctx.addLayer(node, { kind: 'dense', inputs: [input.node], outputShape: [...input.shape.slice(0, -1), outFeatures], weight, bias }, input.batchAxis);
}

/**
 * MatMul: x·W with a constant W [K, N] is a dense layer along the last axis (a following bias Add is
 * fused into it, see convertBinary); the product of two activations is a `matmul` node.
 */
function convertMatMul(node, ctx) {
  const [aName, bName] = node.input;
  if (ctx.isConstant(node, aName)) {
    throw unsupportedOperator(node, `the left operand '${aName}' is a constant; only x·W with a constant right operand, or the product of two computed tensors, is supported`);
  }
  if (!ctx.isConstant(node, bName)) {
    matmulOfActivations(node, ctx, ctx.activation(node, aName, 'left operand'), ctx.activation(node, bName, 'right operand'));
    return;
  }
  const input = ctx.activation(node, aName, 'left operand');
  const features = lastFeatures(node, input);
  const b = ctx.floatConstant(node, bName, 'right operand');
  if (b.dims.length > 2) {
    batchedConstantMatMul(node, ctx, input, b);
    return;
  }
  if (b.dims.length !== 2) throw nodeError(node, `the constant right operand must be [K, N] or batched [..., K, N], got shape [${b.dims}]`);
  const [inFeatures, outFeatures] = b.dims;
  if (inFeatures !== features) {
    throw nodeError(node, `the right operand of shape [${b.dims}] expects ${inFeatures} input features, but the input has ${features}`);
  }
  ctx.addLayer(node, {
    kind: 'dense', inputs: [input.node], outputShape: [...input.shape.slice(0, -1), outFeatures],
    weight: transposed(b.data, inFeatures, outFeatures, 1), bias: null,
  }, input.batchAxis);
}

/**
 * x·C with a constant C of rank > 2 ([..., K, N]: one matrix per index of the leading axes, numpy
 * broadcasting): a block-diagonal linear map. It becomes one `dense` layer per block — x's block g
 * selected by a `gather`, multiplied by C's block — and a `concat`, so every LRP rule applies to each
 * block as to any dense layer. x's leading axes must already have the broadcast shape.
 */
function batchedConstantMatMul(node, ctx, input, c) {
  const full = symbolicShape(input);
  const [k, n] = c.dims.slice(-2);
  const m = full[full.length - 2];
  if (full.length < 3 || full.slice(-2).includes(BATCH) || full[full.length - 1] !== k || c.dims.length > full.length) {
    throw nodeError(node, `cannot multiply ${describeShape(input)} by a constant of shape [${c.dims}]`);
  }
  // Leading axes of C aligned right against x's; C must not vary along the batch axis.
  const lead = full.slice(0, -2);
  const cLead = [...new Array(lead.length - (c.dims.length - 2)).fill(1), ...c.dims.slice(0, -2)];
  lead.forEach((dim, i) => {
    const ok = dim === BATCH ? cLead[i] === 1 : cLead[i] === 1 || cLead[i] === dim;
    if (!ok) throw nodeError(node, `the constant right operand [${c.dims}] does not broadcast against ${describeShape(input)} (x would have to be expanded, or the constant varies along the batch)`);
  });
  const sampleLead = lead.filter((dim) => dim !== BATCH);
  const cLeadOfSample = cLead.filter((_, i) => lead[i] !== BATCH);
  const blocks = product(sampleLead);
  const cStrides = rowMajorStrides(cLeadOfSample);
  const name = node.displayName;
  const grouped = ctx.addLayer(node, { kind: 'reshape', inputs: [input.node], outputShape: [blocks, m, k] }, null,
    { output: null, name: `${name}/blocks` });
  const products = range(blocks).map((g) => {
    // The block of C for x's block g: its multi-index over the leading axes, 0 where C broadcasts.
    let offset = 0;
    let rest = g;
    for (let axis = sampleLead.length - 1; axis >= 0; axis--) {
      const index = rest % sampleLead[axis];
      rest = Math.floor(rest / sampleLead[axis]);
      if (cLeadOfSample[axis] !== 1) offset += index * cStrides[axis];
    }
    const weight = transposed(c.data.subarray(offset * k * n, (offset + 1) * k * n), k, n, 1);
    const block = ctx.addLayer(node, { kind: 'gather', inputs: [grouped], outputShape: [m, k], axis: 0, indices: [g], indicesShape: [] },
      null, { output: null, name: `${name}/block${g}` });
    return ctx.addLayer(node, { kind: 'dense', inputs: [block], outputShape: [m, n], weight, bias: null }, null,
      { output: null, name: `${name}/dense${g}` });
  });
  const joined = ctx.addLayer(node, { kind: 'concat', inputs: products, outputShape: [blocks * m, n], axis: 0 }, null,
    { output: null, name: `${name}/concat` });
  ctx.addLayer(node, { kind: 'reshape', inputs: [joined], outputShape: [...sampleLead, m, n] }, input.batchAxis);
}

/** The size of the last (feature) axis, which must not be the batch axis. */
function lastFeatures(node, input) {
  const full = symbolicShape(input);
  if (full.length < 2 || full[full.length - 1] === BATCH) {
    throw nodeError(node, `expects features along the last axis, but the last axis of the input ${describeShape(input)} is the batch`);
  }
  return full[full.length - 1];
}

/** numpy matmul of two activations [..., M, K] × [..., K, N]; the batch axes must line up in front. */
function matmulOfActivations(node, ctx, a, b) {
  const [fa, fb] = [symbolicShape(a), symbolicShape(b)];
  if (fa.length < 2 || fb.length < 2) throw nodeError(node, `both operands must have at least 2 dimensions, got ${describeShape(a)} and ${describeShape(b)}`);
  if (fa.slice(-2).includes(BATCH) || fb.slice(-2).includes(BATCH)) {
    throw nodeError(node, `the batch axis must not be one of the two multiplied axes (got ${describeShape(a)} × ${describeShape(b)})`);
  }
  const [m, k] = fa.slice(-2);
  const [k2, n] = fb.slice(-2);
  if (k !== k2) throw nodeError(node, `cannot multiply ${describeShape(a)} by ${describeShape(b)}: ${k} ≠ ${k2}`);
  const lead = broadcastWithBatch(node, [a, b].map((e) => ({ ...e, shape: e.shape.slice(0, -2) })), [fa.slice(0, -2), fb.slice(0, -2)]);
  ctx.addLayer(node, { kind: 'matmul', inputs: [a.node, b.node], outputShape: [...lead.shape, m, n] }, lead.batchAxis);
}

function scaled(data, scale) {
  const out = new Float32Array(data);  // a plain typed copy is ~50× faster than Float32Array.from(data, fn)
  if (scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

/** Weights in engine order (row o = weights into output o) from B stored as [in, out]. */
function transposed(data, rows, cols, scale) {
  const weight = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) weight[c * rows + r] = scale * data[r * cols + c];
  }
  return weight;
}

/** Bias of a Gemm from a tensor broadcastable to [batch, n]: scalar, [n], [1, n] or [1, 1]. */
function gemmBias(node, tensor, n, scale) {
  const { dims } = tensor;
  const last = dims.length > 0 ? dims[dims.length - 1] : 1;
  const broadcastable = dims.length <= 2 && (dims.length < 2 || dims[0] === 1) && (last === 1 || last === n);
  if (!broadcastable) throw nodeError(node, `bias of shape [${dims}] does not broadcast to ${n} outputs`);
  return Float32Array.from({ length: n }, (_, i) => scale * tensor.data[last === 1 ? 0 : i]);
}

// ---------------------------------------------------------------------------------------------
// Convolution and pooling (1-D and 2-D)
// ---------------------------------------------------------------------------------------------

const AXIS_NAMES = { 1: ['L'], 2: ['H', 'W'] };

/** A [batch, C, L] or [batch, C, H, W] input; returns the number of spatial axes. */
function spatialRank(node, input, what) {
  const rank = input.shape.length - 1;
  if (input.batchAxis !== 0 || !(rank === 1 || rank === 2)) {
    throw nodeError(node, `only 1-D and 2-D ${what} are supported: expects a 3-D input [batch, C, L] or a 4-D input [batch, C, H, W], got ${describeShape(input)}`);
  }
  return rank;
}

function convertConv(node, ctx) {
  const [xName, wName, bName] = node.input;
  // A zero Pad in front is always absorbed: padded cells of a convolution are zeros.
  const { input, extraPads } = padToAbsorb(ctx, node, xName, () => true);
  const rank = spatialRank(node, input, 'convolutions');
  const w = ctx.floatConstant(node, wName, 'weight W');
  if (w.dims.length !== rank + 2) {
    const expected = rank === 2 ? '[O, C/group, kH, kW]' : '[O, C/group, k]';
    throw nodeError(node, `weight W must be ${rank + 2}-D ${expected} for a ${rank}-D convolution, got shape [${w.dims}]`);
  }
  const [outChannels, groupChannels, ...kernel] = w.dims;
  if (w.data.length === 0) throw nodeError(node, `weight W of shape [${w.dims}] is empty`);
  const kernelShape = attrInts(node, 'kernel_shape');
  if (kernelShape && !sameDims(kernelShape, kernel)) {
    throw nodeError(node, `kernel_shape [${kernelShape}] does not match weight W of shape [${w.dims}]`);
  }
  const group = attrInt(node, 'group', 1);
  const channels = input.shape[0];
  if (!(Number.isSafeInteger(group) && group >= 1)) throw nodeError(node, `group must be a positive integer, got ${group}`);
  if (channels % group !== 0) throw nodeError(node, `group ${group} does not divide the ${channels} input channels`);
  if (outChannels % group !== 0) throw nodeError(node, `group ${group} does not divide the ${outChannels} output channels of weight W [${w.dims}]`);
  if (groupChannels * group !== channels) {
    throw nodeError(node, `weight W of shape [${w.dims}] with group ${group} expects ${groupChannels * group} input channels, but the input has ${channels} (shape ${describeShape(input)})`);
  }
  const geometry = windowGeometry(node, input.shape, kernel, { extraPads });
  const outputShape = [outChannels, ...geometry.outputSize];
  ctx.checkLayerShape(node, outputShape);

  let bias = null;
  if (bName) {
    const b = ctx.floatConstant(node, bName, 'bias B');
    if (b.data.length !== outChannels || b.dims.length !== 1) throw nodeError(node, `bias B must have shape [${outChannels}], got [${b.dims}]`);
    bias = Float32Array.from(b.data);
  }
  ctx.addLayer(node, {
    kind: 'conv', inputs: [input.node], outputShape, weight: Float32Array.from(w.data), bias,
    kernel, strides: geometry.strides, pads: geometry.pads, dilations: geometry.dilations, group,
  }, 0);
}

function convertMaxPool(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const rank = spatialRank(node, input, 'max pooling');
  const indices = node.output[1];
  if (indices && ctx.consumerCount(indices) > 0) {
    throw unsupportedOperator(node, `its indices output '${indices}' is used; only the first output may be used`);
  }
  // storage_order only changes how the indices output is numbered; that output is unused (checked above).
  const ceilMode = ceilModeAttribute(node);
  const geometry = windowGeometry(node, input.shape, kernelShapeAttribute(node, rank), { ceilMode });
  const outputShape = [input.shape[0], ...geometry.outputSize];
  ctx.checkLayerShape(node, outputShape);
  requireInputInEveryWindow(node, input, geometry);
  ctx.addLayer(node, {
    kind: 'maxpool', inputs: [input.node], outputShape,
    kernel: geometry.kernel, strides: geometry.strides, pads: geometry.pads, dilations: geometry.dilations, ceilMode,
  }, 0);
}

/**
 * AveragePool. A zero Pad in front (PyTorch's AvgPool with padding and count_include_pad) is absorbed
 * into the pool's pads; the output size is then computed as PyTorch does, on the ORIGINAL input with
 * the combined pads: in ceil mode the last window must start inside the input or its begin padding.
 */
function convertAveragePool(node, ctx) {
  const name = node.input[0];
  const seen = ctx.lookup(node, name);
  if ('constant' in seen) ctx.activation(node, name);  // throws the usual message
  const rank = spatialRank(node, seen, 'average pooling');
  const dilations = attrInts(node, 'dilations');
  if (dilations && dilations.some((d) => d !== 1)) throw nodeError(node, `dilations [${dilations}] are not supported (only 1)`);
  const ceilMode = ceilModeAttribute(node);
  const countIncludePadAttr = attrInt(node, 'count_include_pad', 0);
  if (countIncludePadAttr !== 0 && countIncludePadAttr !== 1) throw nodeError(node, `count_include_pad must be 0 or 1, got ${countIncludePadAttr}`);
  const kernel = kernelShapeAttribute(node, rank);
  // The pool's own pads decide whether the Pad's cells may count like them (count_include_pad).
  const own = windowGeometry(node, seen.shape, kernel, { ceilMode, allowDilations: false });
  const ownPadding = own.pads.some((p) => p > 0);
  // (PyTorch exports AvgPool2d, whose count_include_pad defaults to True, as Pad + AveragePool even
  // for padding=0.)
  // With padding of its own the pool follows ONNX, computed on the padded input: the Pad is absorbed
  // only where PyTorch's rule (on the original input) gives the same size.
  const absorbedGeometry = (source, extraPads) => windowGeometry(node, source.shape, kernel, { ceilMode, allowDilations: false, extraPads });
  const accept = (source, extraPads) => (countIncludePadAttr === 1 || !ownPadding)
    && (!ownPadding || sameDims(absorbedGeometry(source, extraPads).outputSize, own.outputSize));
  const { input, extraPads, absorbed } = padToAbsorb(ctx, node, name, accept);
  const geometry = absorbed ? absorbedGeometry(input, extraPads) : own;
  const outputShape = [input.shape[0], ...geometry.outputSize];
  ctx.checkLayerShape(node, outputShape);
  const countIncludePad = countIncludePadAttr === 1 || absorbed;
  if (!countIncludePad) requireInputInEveryWindow(node, input, geometry);
  ctx.addLayer(node, {
    kind: 'avgpool', inputs: [input.node], outputShape,
    kernel: geometry.kernel, strides: geometry.strides, pads: geometry.pads, ceilMode, countIncludePad,
  }, 0);
}

function globalPool(kind) {
  return (node, ctx) => {
    const input = ctx.activation(node, node.input[0]);
    if (input.batchAxis !== 0 || input.shape.length < 1) {
      throw nodeError(node, `expects an input [batch, C, ...], got ${describeShape(input)}`);
    }
    ctx.addLayer(node, { kind, inputs: [input.node], outputShape: [input.shape[0], ...input.shape.slice(1).map(() => 1)] }, 0);
  };
}

function kernelShapeAttribute(node, rank) {
  const kernel = attrInts(node, 'kernel_shape');
  if (!kernel) throw nodeError(node, 'missing kernel_shape');
  if (kernel.length !== rank) throw nodeError(node, `kernel_shape [${kernel}] must have ${rank} values for a ${rank}-D window`);
  return kernel;
}

function ceilModeAttribute(node) {
  const ceilMode = attrInt(node, 'ceil_mode', 0);
  if (ceilMode !== 0 && ceilMode !== 1) throw nodeError(node, `ceil_mode must be 0 or 1, got ${ceilMode}`);
  return ceilMode === 1;
}

/**
 * Kernel, strides, dilations and explicit pads [begin..., end...] of a window over a [C, ...spatial]
 * input (auto_pad resolved against the input the node sees: `shape` plus `extraPads`, an absorbed
 * Pad), and the output size. The output size is PyTorch's: floor (or ceil) of
 * (in + pads − extent)/stride + 1 on the ORIGINAL input `shape` with the total pads; in ceil mode a
 * last window that would start beyond the input and its begin padding is dropped.
 */
export function windowGeometry(node, shape, kernel, { ceilMode = false, allowDilations = true, extraPads = null } = {}) {
  const rank = kernel.length;
  const inputSize = shape.slice(1);
  const extra = extraPads ?? new Array(2 * rank).fill(0);
  const seenSize = inputSize.map((size, i) => size + extra[i] + extra[i + rank]);
  const names = AXIS_NAMES[rank];
  const check = (values, name, min) => {
    if (values.length !== rank) throw nodeError(node, `${name} must have ${rank} values for a ${rank}-D window, got [${values}]`);
    if (values.some((v) => !(Number.isSafeInteger(v) && v >= min && v <= MAX_ELEMENTS))) {
      throw nodeError(node, `${name} [${values}] must be integers ${min === 0 ? '≥ 0' : '≥ 1'}`);
    }
    return values;
  };
  check(kernel, 'kernel_shape', 1);
  const strides = check(attrInts(node, 'strides') ?? new Array(rank).fill(1), 'strides', 1);
  const dilations = allowDilations ? check(attrInts(node, 'dilations') ?? new Array(rank).fill(1), 'dilations', 1) : new Array(rank).fill(1);
  const extent = range(rank).map((i) => dilations[i] * (kernel[i] - 1) + 1);
  const ownPads = resolvePads(node, { rank, seenSize, strides, extent, ceilMode });
  const pads = ownPads.map((p, i) => p + extra[i]);
  const outputSize = range(rank).map((i) => {
    const padded = inputSize[i] + pads[i] + pads[i + rank];
    if (padded < extent[i]) {
      const dilated = dilations[i] === 1 ? '' : ` (dilated to ${extent[i]})`;
      throw nodeError(node, `kernel ${kernel.join('×')} does not fit: size ${kernel[i]}${dilated} along ${names[i]} is larger than the padded input ${padded} (input [batch, ${shape}], pads [${pads}])`);
    }
    const steps = (padded - extent[i]) / strides[i];
    let out = (ceilMode ? Math.ceil(steps) : Math.floor(steps)) + 1;
    if (ceilMode && (out - 1) * strides[i] >= inputSize[i] + pads[i]) out -= 1;
    return out;
  });
  return { kernel, strides, pads, dilations, outputSize };
}

/** The node's own pads [begin..., end...]: explicit, or from auto_pad against the size it sees. */
function resolvePads(node, { rank, seenSize, strides, extent, ceilMode }) {
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const explicitPads = attrInts(node, 'pads');
  if (explicitPads) {
    if (explicitPads.length !== 2 * rank) {
      const order = rank === 2 ? ' [top, left, bottom, right]' : ' [begin, end]';
      throw nodeError(node, `pads must have ${2 * rank} values${order} for a ${rank}-D window, got [${explicitPads}]`);
    }
    if (explicitPads.some((p) => !(Number.isSafeInteger(p) && p >= 0 && p <= MAX_ELEMENTS))) throw nodeError(node, `pads [${explicitPads}] must be non-negative integers`);
  }
  if (autoPad === 'NOTSET') return explicitPads ?? new Array(2 * rank).fill(0);
  if (explicitPads && explicitPads.some((p) => p !== 0)) throw nodeError(node, `auto_pad ${autoPad} cannot be combined with explicit pads [${explicitPads}]`);
  if (ceilMode) throw nodeError(node, `ceil_mode=1 cannot be combined with auto_pad ${autoPad}`);
  if (autoPad === 'VALID') return new Array(2 * rank).fill(0);
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
    throw nodeError(node, `unknown auto_pad '${autoPad}' (expected NOTSET, VALID, SAME_UPPER or SAME_LOWER)`);
  }
  // Output ceil(in / stride); the odd pad cell goes to the end (UPPER) or the beginning (LOWER).
  const pads = new Array(2 * rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const out = Math.ceil(seenSize[i] / strides[i]);
    const total = Math.max(0, (out - 1) * strides[i] + extent[i] - seenSize[i]);
    const before = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    pads[i] = before;
    pads[i + rank] = total - before;
  }
  return pads;
}

/** A max (or average without count_include_pad) window that sees only padding has no value. */
function requireInputInEveryWindow(node, input, { kernel, strides, pads, dilations, outputSize }) {
  const rank = kernel.length;
  for (let i = 0; i < rank; i++) {
    const size = input.shape[i + 1];
    for (let o = 0; o < outputSize[i]; o++) {
      const start = o * strides[i] - pads[i];
      const first = Math.max(0, Math.ceil(-start / dilations[i]));
      const last = Math.min(kernel[i] - 1, Math.floor((size - 1 - start) / dilations[i]));
      if (last < first) {
        throw nodeError(node, `output ${o} along ${AXIS_NAMES[rank][i]} would be computed from padding only (input ${describeShape(input)}, pads [${pads}]); the padding is too large for the kernel`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Normalizations
// ---------------------------------------------------------------------------------------------

/**
 * Inference batch-norm y = s·(x − μ) + β with s = γ/√(σ²+ε) per channel (ONNX axis 1, per-sample
 * axis 0). Merged into the Conv or dense layer it follows when nothing else reads that layer's output
 * (patterns.js); otherwise a 'batchnorm' node.
 */
function convertBatchNormalization(node, ctx) {
  const [xName, ...paramNames] = node.input;
  if (attrInt(node, 'training_mode', 0) !== 0) throw nodeError(node, 'training_mode=1 is not supported; export the model in eval mode');
  if (attrInt(node, 'spatial', 1) !== 1) throw nodeError(node, 'spatial=0 is not supported');
  const used = node.output.slice(1).filter((name) => name && ctx.consumerCount(name) > 0);
  if (used.length > 0) throw unsupportedOperator(node, `its training output '${used[0]}' is used; only the first output may be used`);
  const input = ctx.activation(node, xName);
  if (input.batchAxis !== 0) throw nodeError(node, `expects an input [batch, C, ...], got ${describeShape(input)}`);
  const channels = input.shape[0];
  if (paramNames.length !== 4 || paramNames.some((name) => !name)) throw nodeError(node, 'expects the inputs X, scale, B, input_mean and input_var');
  const [gamma, beta, mean, variance] = ['scale', 'B', 'input_mean', 'input_var'].map((role, i) => {
    const tensor = ctx.floatConstant(node, paramNames[i], role);
    if (tensor.data.length !== channels || tensor.dims.length !== 1) {
      throw nodeError(node, `${role} '${paramNames[i]}' must have shape [${channels}] (the channels of input ${describeShape(input)}), got [${tensor.dims}]`);
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
  if (fuseBatchNorm(ctx, node, xName, input, scale, shift)) return;
  ctx.addLayer(node, {
    kind: 'batchnorm', inputs: [input.node], outputShape: input.shape,
    scale: Float32Array.from(scale), shift: Float32Array.from(shift),
  }, 0);
}

/** LayerNormalization (opset 17): normalise over axis..last, then scale and bias. */
function convertLayerNormalization(node, ctx) {
  const [xName, scaleName, biasName] = node.input;
  const used = node.output.slice(1).filter((name) => name && ctx.consumerCount(name) > 0);
  if (used.length > 0) throw unsupportedOperator(node, `its output '${used[0]}' (mean or inverse deviation) is used; only the first output may be used`);
  const input = ctx.activation(node, xName);
  const rank = symbolicShape(input).length;
  const axis = normalizeAxis(node, attrInt(node, 'axis', -1), rank);
  const axes = range(rank - axis).map((i) => axis + i);
  const scale = ctx.floatConstant(node, scaleName, 'Scale');
  const bias = biasName ? ctx.floatConstant(node, biasName, 'B') : null;
  ctx.addLayer(node, layernormNode(node, input, axes, attrFloat(node, 'epsilon', 1e-5), scale, bias), input.batchAxis);
}

// ---------------------------------------------------------------------------------------------
// Element-wise operators with two operands
// ---------------------------------------------------------------------------------------------

/**
 * Add, Sub, Mul, Div. With a constant operand: a linear map of the activation (`add` or `mul` with a
 * pre-broadcast constant; Sub c → add −c, Div c → mul 1/c; a constant Add after a dense layer becomes
 * its bias). Between two activations: `add`, `sub`, `mul`, `div` with numpy broadcasting.
 */
function convertBinary(node, ctx) {
  const [left, right] = node.input;
  const leftConstant = ctx.isConstant(node, left);
  const rightConstant = ctx.isConstant(node, right);
  if (!leftConstant && !rightConstant) {
    twoActivations(node, ctx, node.opType.toLowerCase());
    return;
  }
  const [tensorName, constantName] = leftConstant ? [right, left] : [left, right];
  const constant = ctx.floatConstant(node, constantName, 'constant operand');
  switch (node.opType) {
    case 'Add': return addConstant(node, ctx, tensorName, constantName, constant, (v) => v);
    case 'Mul': return mulConstant(node, ctx, tensorName, constantName, constant, (v) => v);
    case 'Sub':
      if (!leftConstant) return addConstant(node, ctx, tensorName, constantName, constant, (v) => -v);
      return constantMinus(node, ctx, tensorName, constantName, constant);
    case 'Div':
      if (leftConstant) throw unsupportedOperator(node, `dividing the constant '${left}' by a computed tensor is not supported`);
      return mulConstant(node, ctx, tensorName, constantName, constant, (v) => 1 / v);
    default: throw unsupportedOperator(node);
  }
}

function addConstant(node, ctx, tensorName, constantName, constant, transform) {
  if (fuseBias(ctx, node, tensorName, constant, transform)) return;
  const { input, data } = broadcastConstant(node, ctx, tensorName, constantName, constant, transform);
  ctx.addLayer(node, { kind: 'add', inputs: [input.node], outputShape: input.shape, constant: data }, input.batchAxis);
}

function mulConstant(node, ctx, tensorName, constantName, constant, transform) {
  const { input, data } = broadcastConstant(node, ctx, tensorName, constantName, constant, transform);
  ctx.addLayer(node, { kind: 'mul', inputs: [input.node], outputShape: input.shape, constant: data }, input.batchAxis);
}

/** c − x = (−1)·x + c: a `mul` by −1, then an `add` of c. */
function constantMinus(node, ctx, tensorName, constantName, constant) {
  const { input, data } = broadcastConstant(node, ctx, tensorName, constantName, constant, (v) => v);
  const negated = ctx.addLayer(node, {
    kind: 'mul', inputs: [input.node], outputShape: input.shape, constant: new Float32Array(data.length).fill(-1),
  }, input.batchAxis, { name: `${node.displayName}/negate`, output: null });
  ctx.addLayer(node, { kind: 'add', inputs: [negated], outputShape: input.shape, constant: data }, input.batchAxis);
}

/**
 * `transform`(constant) broadcast (numpy) to the activation's per-sample shape, as a Float32Array.
 * A constant that would grow the activation (numpy broadcasting both ways) first expands the
 * activation with an `expand` node; one that would broadcast along the batch axis is refused.
 */
function broadcastConstant(node, ctx, tensorName, constantName, constant, transform) {
  let input = ctx.activation(node, tensorName);
  const symbolic = symbolicShape(input);
  const full = symbolic.map(numeric);
  const fail = (why) => nodeError(node, `constant '${constantName}' of shape [${constant.dims}] does not broadcast to the tensor's shape ${describeShape(input)}${why}`);
  let outFull;
  try {
    outFull = broadcastShapes(node, [full, constant.dims]);
  } catch {
    throw fail('');
  }
  const offset = outFull.length - full.length;
  const symbolicOut = outFull.map((dim, i) => (i >= offset && symbolic[i - offset] === BATCH ? BATCH : dim));
  const batchAt = symbolicOut.indexOf(BATCH);
  if (batchAt >= 0) {
    const c = batchAt - (outFull.length - constant.dims.length);
    if (c >= 0 && constant.dims[c] !== 1) throw fail(': it would broadcast along the batch axis');
  }
  if (!sameDims(outFull, full)) input = ctx.expand(node, input, symbolicOut);
  const expanded = expandTensor(constant, outFull);
  const data = new Float32Array(expanded.data.length);
  for (let i = 0; i < data.length; i++) data[i] = transform(expanded.data[i]);
  return { input, data };
}

/**
 * Where(condition, X, Y) with one of X, Y an activation x and the other a constant c (masked_fill: c may be
 * −inf), and a condition that is a constant (a causal mask) or computed from the token ids (a padding
 * mask): a `where` node keeping x where x is chosen, c elsewhere (ATTNLRP rule 13: relevance only where x
 * is kept). The condition and c are broadcast to x's shape (x is expanded if it is the smaller one).
 */
function convertWhere(node, ctx) {
  const [conditionName, trueName, falseName] = node.input;
  const isActivation = (name) => !ctx.isConstant(node, name) && !ctx.isFromIds(name);
  if (isActivation(conditionName)) {
    throw unsupportedOperator(node, `its condition '${conditionName}' is computed from the activations; only a constant condition or one computed from the token ids is supported`);
  }
  const [xName, cName] = isActivation(trueName) ? [trueName, falseName] : [falseName, trueName];
  if (!isActivation(xName) || isActivation(cName) || !ctx.isConstant(node, cName)) {
    throw unsupportedOperator(node, 'exactly one of its values must be computed from the input and the other a constant');
  }
  const invert = xName === falseName;  // x is kept where the condition is false
  const c = ctx.floatConstant(node, cName, 'value');
  let x = ctx.activation(node, xName);
  const conditionEntry = ctx.lookup(node, conditionName);
  const conditionDims = 'constant' in conditionEntry ? conditionEntry.constant.dims : conditionEntry.dims;
  const symbolic = symbolicShape(x);
  const full = symbolic.map(numeric);
  let outFull;
  try {
    outFull = broadcastShapes(node, [full, c.dims, conditionDims]);
  } catch {
    throw nodeError(node, `the condition [${conditionDims}], the value [${c.dims}] and ${describeShape(x)} do not broadcast`);
  }
  if (!sameDims(outFull, full)) {
    const offset = outFull.length - full.length;
    x = ctx.expand(node, x, outFull.map((dim, i) => (i >= offset && symbolic[i - offset] === BATCH ? BATCH : dim)));
  }
  const layer = { kind: 'where', inputs: [x.node], outputShape: x.shape, constant: Float32Array.from(expandTensor(c, outFull).data) };
  if ('constant' in conditionEntry) {
    const kept = expandTensor(conditionEntry.constant, outFull).data;
    layer.keep = Float32Array.from(kept, (v) => Number((numeric(v) !== 0) !== invert));
  } else {
    layer.inputs.push(ctx.inputConstant(node, conditionName, { broadcastTo: outFull, batchAxis: x.batchAxis, invert }).node);
  }
  ctx.addLayer(node, layer, x.batchAxis);
}

function twoActivations(node, ctx, kind) {
  let a = ctx.activation(node, node.input[0]);
  let b = ctx.activation(node, node.input[1]);
  [a, b] = [adoptBatchAxis(node, ctx, a, b), adoptBatchAxis(node, ctx, b, a)];
  const out = broadcastWithBatch(node, [a, b], [symbolicShape(a), symbolicShape(b)]);
  const layer = { kind, inputs: [a.node, b.node], outputShape: out.shape };
  if (kind === 'add' || kind === 'mul') layer.constant = null;
  ctx.addLayer(node, layer, out.batchAxis);
}

/**
 * A model exported with a static batch of 1 bakes that 1 into its Reshape targets, so a tensor can lose
 * track of its batch axis (`[1, T, E]` after a merge and split) and then meet one that kept it. At batch
 * size 1 per sample, a size-1 axis where the other operand has its batch axis IS the batch axis: relabel
 * it (a `reshape` that drops it from the per-sample shape; the data do not change).
 */
function adoptBatchAxis(node, ctx, entry, other) {
  if (entry.batchAxis !== null || other.batchAxis === null) return entry;
  const mine = symbolicShape(entry);
  const theirs = symbolicShape(other);
  const axis = other.batchAxis - (theirs.length - mine.length);
  if (axis < 0 || mine[axis] !== 1) return entry;
  const shape = entry.shape.filter((_, i) => i !== axis);
  const index = ctx.addLayer(node, { kind: 'reshape', inputs: [entry.node], outputShape: shape }, null,
    { output: null, name: `${node.displayName}/batch` });
  return { ...entry, node: index, shape, batchAxis: axis };
}

/**
 * numpy broadcasting of symbolic ONNX shapes whose batch axes (where they have one) line up; returns
 * the per-sample output shape and its batch axis. The engine broadcasts the per-sample shapes, which
 * stay right-aligned when the batch axis is removed from both at the same place.
 */
function broadcastWithBatch(node, entries, shapes) {
  const rank = shapes.reduce((most, s) => Math.max(most, s.length), 0);
  const positions = shapes.map((s) => (s.includes(BATCH) ? s.indexOf(BATCH) + rank - s.length : null));
  const known = positions.filter((p) => p !== null);
  if (new Set(known).size > 1) {
    throw nodeError(node, `the batch axes of ${entries.map(describeShape).join(' and ')} do not line up`);
  }
  const batchAt = known.length > 0 ? known[0] : null;
  shapes.forEach((s, i) => {
    if (batchAt !== null && positions[i] === null && batchAt - (rank - s.length) >= 0) {
      throw nodeError(node, `cannot broadcast ${describeShape(entries[i])}, which has lost its batch axis, against ${entries.map(describeShape).join(' and ')}`);
    }
  });
  let out;
  try {
    out = broadcastShapes(node, shapes.map((s) => s.map(numeric)));
  } catch {
    throw nodeError(node, `the shapes ${entries.map(describeShape).join(' and ')} do not broadcast`);
  }
  return batchAt === null ? { shape: out, batchAxis: null } : { shape: out.filter((_, i) => i !== batchAt), batchAxis: batchAt };
}

// ---------------------------------------------------------------------------------------------
// Padding
// ---------------------------------------------------------------------------------------------

/**
 * Constant Pad on any axes but the batch. Opset ≥ 11 gives pads (and constant_value, opset 18 also
 * axes) as inputs, older opsets as attributes. A zero Pad read by one node only stays pending: a Conv
 * or AveragePool absorbs it into its pads, any other reader makes it a `pad` node.
 */
function convertPad(node, ctx) {
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant') throw unsupportedOperator(node, `mode '${mode}' is not supported (only 'constant')`);
  const input = ctx.activation(node, node.input[0], 'data');
  const full = symbolicShape(input);
  const rank = full.length;
  let pads;
  let value;
  let axes = range(rank);
  if (node.input[1]) {
    pads = ctx.intConstant(node, node.input[1], 'pads').data;
    value = node.input[2] ? ctx.scalarFloat(node, node.input[2], 'constant_value') : 0;
    if (node.input[3]) axes = ctx.intConstant(node, node.input[3], 'axes').data.map((axis) => normalizeAxis(node, axis, rank));
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
  const all = [...begin, ...end];
  if (all.some((p) => !(Number.isSafeInteger(p) && p >= 0))) throw nodeError(node, `pads [${all}] must be non-negative integers (cropping is not supported)`);
  const batchAt = full.indexOf(BATCH);
  if (batchAt >= 0 && (begin[batchAt] || end[batchAt])) throw nodeError(node, `cannot pad the batch axis: pads [${all}] for input ${describeShape(input)}`);
  if (Number.isNaN(value)) throw nodeError(node, 'constant_value is NaN');
  const keep = range(rank).filter((i) => i !== batchAt);
  const samplePads = [...keep.map((i) => begin[i]), ...keep.map((i) => end[i])];
  const outputShape = input.shape.map((dim, i) => dim + samplePads[i] + samplePads[i + input.shape.length]);
  ctx.checkLayerShape(node, outputShape);
  if (value === 0 && ctx.consumerCount(node.output[0]) === 1) {
    ctx.pendingPad(node, input, outputShape, samplePads);
    return;
  }
  ctx.addLayer(node, { kind: 'pad', inputs: [input.node], outputShape, pads: samplePads, value }, input.batchAxis);
}

// ---------------------------------------------------------------------------------------------
// Element-wise activations
// ---------------------------------------------------------------------------------------------

function elementwise(kind, attributes = () => ({})) {
  return (node, ctx) => {
    const input = ctx.activation(node, node.input[0]);
    ctx.addLayer(node, { kind, inputs: [input.node], outputShape: input.shape, ...attributes(node) }, input.batchAxis);
  };
}

/** −x: a scale by the constant −1. */
function convertNeg(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const constant = new Float32Array(product(input.shape)).fill(-1);
  ctx.addLayer(node, { kind: 'mul', inputs: [input.node], outputShape: input.shape, constant }, input.batchAxis);
}

/** A Cast of a computed tensor to a floating-point type changes nothing here (the engine is float32). */
function convertCast(node, ctx) {
  const FLOAT_TYPES = [1, 10, 11, 16];  // FLOAT, FLOAT16, DOUBLE, BFLOAT16
  const to = attrInt(node, 'to', null);
  if (!FLOAT_TYPES.includes(to)) throw unsupportedOperator(node, `a cast of a computed tensor to element type ${to} (only to floating point)`);
  convertIdentity(node, ctx);
}

function geluAttributes(node) {
  const approximate = attrString(node, 'approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') throw nodeError(node, `approximate '${approximate}' is not supported (none or tanh)`);
  return { approximate };
}

/** Clip: bounds are inputs from opset 11, attributes before; a missing bound is ±FLT_MAX. */
function convertClip(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const bound = (index, name, fallback) => {
    const value = node.input[index] ? ctx.scalarFloat(node, node.input[index], name) : attrFloat(node, name, fallback);
    if (Number.isNaN(value)) throw nodeError(node, `${name} is NaN`);
    return Math.min(Math.max(value, -FLT_MAX), FLT_MAX);
  };
  const min = bound(1, 'min', -FLT_MAX);
  const max = bound(2, 'max', FLT_MAX);
  ctx.addLayer(node, { kind: 'clip', inputs: [input.node], outputShape: input.shape, min, max }, input.batchAxis);
}

/** PRelu: the slope broadcast to the input's per-sample shape (it must not grow the input). */
function convertPRelu(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const slope = ctx.floatConstant(node, node.input[1], 'slope');
  const { input: same, data } = broadcastConstant(node, ctx, node.input[0], node.input[1], slope, (v) => v);
  if (same !== input) throw nodeError(node, `slope of shape [${slope.dims}] would enlarge the input ${describeShape(input)}`);
  ctx.addLayer(node, { kind: 'prelu', inputs: [input.node], outputShape: input.shape, slope: data }, input.batchAxis);
}

// ---------------------------------------------------------------------------------------------
// Re-indexing operators
// ---------------------------------------------------------------------------------------------

/** A `reshape` node to symbolic ONNX dims (BATCH marks where the batch axis went, if anywhere). */
function reshapeTo(node, ctx, input, symbolic) {
  const { shape, batchAxis } = fromSymbolic(symbolic);
  ctx.addLayer(node, { kind: 'reshape', inputs: [input.node], outputShape: shape }, batchAxis);
}

/** Flatten to [d0·…·d(axis−1), d(axis)·…]; the batch stays an axis of its own only if alone in its group. */
function convertFlatten(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const symbolic = symbolicShape(input);
  const rank = symbolic.length;
  const rawAxis = attrInt(node, 'axis', 1);
  // Unlike most operators, Flatten accepts axis = rank (everything goes to the outer dimension).
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (!(axis >= 0 && axis <= rank)) throw nodeError(node, `axis ${rawAxis} is out of range for rank ${rank}`);
  const group = (dims) => (dims.includes(BATCH) && product(dims.map(numeric)) === 1 ? BATCH : product(dims.map(numeric)));
  reshapeTo(node, ctx, input, [group(symbolic.slice(0, axis)), group(symbolic.slice(axis))]);
}

/**
 * Reshape to a constant target. The batch axis is where the target holds the batch size (folded from
 * a Shape); or, without it, where it was if the dims up to and including it are unchanged; otherwise
 * the batch is merged into another axis (batchAxis null) and the graph runs per sample.
 */
function convertReshape(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  const target = ctx.intConstant(node, node.input[1], 'shape', { allowBatch: true });
  if (target.dims.length !== 1) throw nodeError(node, `the target shape must be 1-D, got shape [${target.dims}]`);
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const values = [...target.data];
  const b = input.batchAxis;
  // A model exported with a fixed batch size writes it as a number.
  if (b !== null && ctx.batchValue !== null && ctx.batchValue !== 1 && values[b] === ctx.batchValue) values[b] = BATCH;
  const batchPositions = values.flatMap((v, i) => (v === BATCH ? [i] : []));
  if (batchPositions.length > 1) throw nodeError(node, `the target [${values.map(formatDim)}] holds the batch size more than once`);
  const full = fullShape(input);
  let dims;
  try {
    dims = reshapeDims(node, full, values, allowZero);
  } catch (error) {
    const why = error.message.replace(/^.*?: cannot reshape \[[^\]]*\] to \[[^\]]*\]: /, '');
    throw nodeError(node, `cannot reshape ${describeShape(input)} to [${values.map(formatDim)}]: ${why}`);
  }
  let batchAt = batchPositions.length === 1 ? batchPositions[0] : null;
  if (batchAt === null && b !== null && dims.length > b && dims[b] === 1 && range(b).every((i) => dims[i] === full[i])) batchAt = b;
  ctx.checkLayerShape(node, dims.filter((_, i) => i !== batchAt));
  reshapeTo(node, ctx, input, dims.map((dim, i) => (i === batchAt ? BATCH : dim)));
}

/** Transpose: moves the batch axis with the others; per sample it may be the identity (no node). */
function convertTranspose(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  const symbolic = symbolicShape(input);
  const perm = attrInts(node, 'perm') ?? range(symbolic.length).reverse();
  checkPermutation(node, perm, symbolic.length);
  const b = input.batchAxis;
  const batchAxis = b === null ? null : perm.indexOf(b);
  const samplePerm = perm.filter((p) => p !== b).map((p) => (b !== null && p > b ? p - 1 : p));
  const outputShape = samplePerm.map((p) => input.shape[p]);
  if (samplePerm.every((p, i) => p === i)) {
    ctx.alias(node.output[0], { ...input, batchAxis }, node.input[0]);
    return;
  }
  ctx.addLayer(node, { kind: 'transpose', inputs: [input.node], outputShape, perm: samplePerm }, batchAxis);
}

/** Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after. */
function squeezeAxes(node, ctx) {
  return node.input[1] ? ctx.intConstant(node, node.input[1], 'axes').data : attrInts(node, 'axes');
}

function convertUnsqueeze(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  reshapeTo(node, ctx, input, unsqueezeDims(node, symbolicShape(input), squeezeAxes(node, ctx)));
}

/** Squeeze: the batch axis is never squeezed (its size is unknown; without axes it stays). */
function convertSqueeze(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  const symbolic = symbolicShape(input);
  const removed = squeezedAxes(node, symbolic, squeezeAxes(node, ctx));
  reshapeTo(node, ctx, input, symbolic.filter((_, i) => !removed.has(i)));
}

/**
 * Slice with constant starts/ends/axes/steps (negative indices, clamping, negative steps). Slicing the
 * batch axis is allowed only when it keeps it whole.
 */
function convertSlice(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'data');
  const symbolic = symbolicShape(input);
  const inputs = node.input.map((name) => (name ? name : null));
  const { starts, ends, axes, steps } = sliceParameters(node, inputs, symbolic.length, (name, what) => ctx.intConstant(node, name, what).data.map(numeric));
  const spec = input.shape.map((dim) => ({ start: 0, end: dim, step: 1, count: dim }));
  axes.forEach((axis, j) => {
    if (symbolic[axis] === BATCH) {
      const r = sliceRange(1, starts[j], ends[j], steps[j]);
      if (r.count !== 1) throw nodeError(node, `slicing the batch axis ${axis} of ${describeShape(input)} is not supported`);
      return;
    }
    const sample = input.batchAxis !== null && axis > input.batchAxis ? axis - 1 : axis;
    spec[sample] = sliceRange(input.shape[sample], starts[j], ends[j], steps[j]);
  });
  emitSlice(node, ctx, input, spec, node.output[0]);
}

/** A `slice` node (or nothing, when it keeps everything) producing `output`. */
function emitSlice(node, ctx, input, spec, output, name) {
  const outputShape = spec.map((s) => s.count);
  if (outputShape.some((n) => n === 0)) throw nodeError(node, `the slice of ${describeShape(input)} is empty (output [${outputShape}])`);
  if (spec.every((s, i) => s.step === 1 && s.count === input.shape[i])) {
    ctx.alias(output, input, node.input[0]);
    return;
  }
  ctx.addLayer(node, {
    kind: 'slice', inputs: [input.node], outputShape,
    starts: spec.map((s) => s.start), ends: spec.map((s) => s.end), steps: spec.map((s) => s.step),
  }, input.batchAxis, { output, name });
}

/** Split: one `slice` node per output that is read. */
function convertSplit(node, ctx) {
  const input = ctx.activation(node, node.input[0], 'input');
  const axis = sampleAxis(node, input, attrInt(node, 'axis', 0));
  const splitValues = node.input[1] ? ctx.intConstant(node, node.input[1], 'split').data : attrInts(node, 'split');
  const sizes = splitSizes(node, input.shape[axis], splitValues, node.output.length);
  let offset = 0;
  sizes.forEach((size, k) => {
    const output = node.output[k];
    const spec = input.shape.map((dim) => ({ start: 0, end: dim, step: 1, count: dim }));
    spec[axis] = { start: offset, end: offset + size, step: 1, count: size };
    offset += size;
    if (output && ctx.consumerCount(output) > 0) emitSlice(node, ctx, input, spec, output, `${node.displayName}:${k}`);
  });
}

/** Concat of activations on any axis but the batch; one input is the identity. */
function convertConcat(node, ctx) {
  const names = node.input.filter((name) => name);
  const activations = names.filter((name) => !ctx.isConstant(node, name)).map((name) => ctx.activation(node, name));
  const [first] = activations;
  const rawAxis = attrInt(node, 'axis', null);
  const axis = sampleAxis(node, first, rawAxis);
  // Every part per sample: an activation, or a constant (a ViT's CLS token, expanded over the batch at
  // batch size 1) that becomes a constant part of the engine's concat and absorbs its share (rule 6).
  const parts = names.map((name) => (ctx.isConstant(node, name) ? constantPart(node, ctx, name, first) : ctx.activation(node, name)));
  for (const part of parts) {
    const compatible = (part.constant !== undefined || part.batchAxis === first.batchAxis) && part.shape.length === first.shape.length
      && part.shape.every((dim, i) => i === axis || dim === first.shape[i]);
    if (!compatible) {
      throw nodeError(node, `cannot concatenate shapes ${describeShape(first)} and ${part.constant !== undefined ? `[${part.shape}] (a constant)` : describeShape(part)} along axis ${rawAxis}: the other dimensions differ`);
    }
  }
  if (parts.length === 1) {
    ctx.alias(node.output[0], first, names[0]);
    return;
  }
  const outputShape = first.shape.map((dim, i) => (i === axis ? parts.reduce((sum, part) => sum + part.shape[axis], 0) : dim));
  const layer = { kind: 'concat', inputs: activations.map((part) => part.node), outputShape, axis };
  if (parts.some((part) => part.constant !== undefined)) {
    layer.slots = parts.map((part) => (part.constant !== undefined ? part.shape[axis] : -1));
    const values = parts.filter((part) => part.constant !== undefined).map((part) => part.constant);
    layer.constant = new Float32Array(values.reduce((n, v) => n + v.length, 0));
    values.reduce((at, v) => (layer.constant.set(v, at), at + v.length), 0);
  }
  ctx.addLayer(node, layer, first.batchAxis);
}

/** A constant concatenated with activations, per sample: its size-1 axis at the batch position dropped. */
function constantPart(node, ctx, name, like) {
  const tensor = ctx.floatConstant(node, name, 'input');
  let dims = [...tensor.dims];
  if (like.batchAxis !== null) {
    if (dims.length !== like.shape.length + 1 || dims[like.batchAxis] !== 1) {
      throw nodeError(node, `the constant input '${name}' of shape [${dims}] does not line up with ${describeShape(like)} (it must have size 1 on the batch axis)`);
    }
    dims = dims.filter((_, i) => i !== like.batchAxis);
  }
  return { shape: dims, constant: Float32Array.from(tensor.data) };
}

/**
 * Gather. Constant indices into an activation: a `gather` node. Indices that are the integer graph
 * input (token ids) into a constant table [V, D]: an `embedding` node.
 */
function convertGather(node, ctx) {
  const [dataName, indicesName] = node.input;
  if (ctx.isConstant(node, dataName)) {
    embedding(node, ctx, dataName, indicesName);
    return;
  }
  const input = ctx.activation(node, dataName, 'data');
  if (!ctx.isConstant(node, indicesName)) {
    throw unsupportedOperator(node, `its indices '${indicesName}' are computed from the graph input; only constant indices, or token ids into a constant embedding table, are supported`);
  }
  const indices = ctx.intConstant(node, indicesName, 'indices');
  const rawAxis = attrInt(node, 'axis', 0);
  const axis = sampleAxis(node, input, rawAxis);
  const size = input.shape[axis];
  const picked = indices.data.map((index) => {
    const wrapped = index < 0 ? index + size : index;
    if (!(wrapped >= 0 && wrapped < size)) throw nodeError(node, `index ${index} is out of range for axis ${rawAxis} of size ${size}`);
    return wrapped;
  });
  const symbolic = symbolicShape(input);
  const full = normalizeAxis(node, rawAxis, symbolic.length);
  const out = [...symbolic.slice(0, full), ...indices.dims, ...symbolic.slice(full + 1)];
  const { shape, batchAxis } = fromSymbolic(out);
  ctx.addLayer(node, { kind: 'gather', inputs: [input.node], outputShape: shape, axis, indices: picked, indicesShape: [...indices.dims] }, batchAxis);
}

function embedding(node, ctx, tableName, idsName) {
  const ids = ctx.lookup(node, idsName);
  if (!ids.fromIds || ids.node !== -1) {
    throw unsupportedOperator(node, `indices '${idsName}' into the constant '${tableName}' must be the integer graph input (token ids); indices computed from the input (e.g. position ids derived from the ids) are not supported`);
  }
  if (attrInt(node, 'axis', 0) !== 0) throw nodeError(node, 'an embedding lookup must gather along axis 0 of the table');
  const table = ctx.floatConstant(node, tableName, 'embedding table');
  if (table.dims.length !== 2) throw nodeError(node, `the embedding table '${tableName}' must be 2-D [vocabulary, dimension], got shape [${table.dims}]`);
  const [vocabulary, dimension] = table.dims;
  if (vocabulary > 2 ** 24) throw nodeError(node, `the vocabulary of ${vocabulary} tokens exceeds 2^24 (token ids travel as float32)`);
  ctx.addLayer(node, {
    kind: 'embedding', inputs: [ids.node], outputShape: [...ids.shape, dimension], table: Float32Array.from(table.data),
  }, ids.batchAxis);
  ctx.noteVocabulary(vocabulary);
}

/** Expand (numpy broadcasting to a constant shape); not along the batch axis. */
function convertExpand(node, ctx) {
  const input = ctx.activation(node, node.input[0]);
  const target = ctx.intConstant(node, node.input[1], 'shape', { allowBatch: true });
  const symbolic = symbolicShape(input);
  const rank = Math.max(symbolic.length, target.data.length);
  const padded = [...new Array(rank - symbolic.length).fill(1), ...symbolic];
  const wanted = [...new Array(rank - target.data.length).fill(1), ...target.data];
  const out = padded.map((dim, i) => {
    const want = numeric(wanted[i]);
    if (dim === BATCH) {
      // 1 keeps it; so does the batch size itself (symbolic, or the model's declared static batch).
      if (want !== 1 && wanted[i] !== BATCH && want !== ctx.batchValue) {
        throw nodeError(node, `cannot expand the batch axis of ${describeShape(input)} to ${want}`);
      }
      return BATCH;
    }
    if (want === dim || want === 1) return dim;
    if (dim === 1 && Number.isSafeInteger(want) && want > 0) return want;
    throw nodeError(node, `cannot expand ${describeShape(input)} to [${target.data.map(formatDim)}]`);
  });
  if (sameDims(out, symbolic)) {
    ctx.alias(node.output[0], input, node.input[0]);
    return;
  }
  ctx.expand(node, input, out, node.output[0]);
}

/** ReduceMean/Sum/Max over constant axes (attribute or input), keepdims, noop_with_empty_axes. */
function reduce(kind) {
  return (node, ctx) => {
    const input = ctx.activation(node, node.input[0], 'data');
    const symbolic = symbolicShape(input);
    const given = node.input[1] ? ctx.intConstant(node, node.input[1], 'axes').data : attrInts(node, 'axes');
    if ((!given || given.length === 0) && attrInt(node, 'noop_with_empty_axes', 0) === 1) {
      ctx.alias(node.output[0], input, node.input[0]);
      return;
    }
    const fullAxes = given && given.length > 0 ? given.map((a) => normalizeAxis(node, a, symbolic.length)) : range(symbolic.length);
    const axes = [...new Set(fullAxes.map((a) => sampleAxis(node, input, a, 'reduction axis')))].sort((x, y) => x - y);
    const keepdims = attrInt(node, 'keepdims', 1) === 1;
    const reduced = new Set(fullAxes);
    const out = keepdims ? symbolic.map((dim, i) => (reduced.has(i) ? 1 : dim)) : symbolic.filter((_, i) => !reduced.has(i));
    const { shape, batchAxis } = fromSymbolic(out);
    ctx.addLayer(node, { kind, inputs: [input.node], outputShape: shape, axes, keepdims }, batchAxis);
  };
}

/**
 * Softmax: a trailing (Log)Softmax that produces the graph output is stripped so that the logits get
 * explained; an inner Softmax is a `softmax` node. Before opset 13, Softmax normalised the input
 * flattened from `axis` on: that is one axis only when every later axis has size 1 (or axis is last).
 */
function convertSoftmax(node, ctx) {
  if (isTrailing(ctx, node)) {
    ctx.alias(node.output[0], ctx.activation(node, node.input[0]), node.input[0]);
    ctx.strippedSoftmax = node.opType;
    return;
  }
  if (node.opType === 'LogSoftmax') {
    throw unsupportedOperator(node, 'only a trailing LogSoftmax that produces the graph output is supported (it is stripped)');
  }
  const input = ctx.activation(node, node.input[0]);
  const symbolic = symbolicShape(input);
  const rank = symbolic.length;
  let axis = normalizeAxis(node, attrInt(node, 'axis', ctx.opset >= 13 ? -1 : 1), rank);
  if (ctx.opset < 13) {
    const spread = range(rank).filter((i) => i >= axis && symbolic[i] !== 1);
    if (spread.length > 1) {
      throw nodeError(node, `softmax over the flattened axes ${axis}..${rank - 1} of ${describeShape(input)} (opset ${ctx.opset}) is not supported; export with opset ≥ 13`);
    }
    axis = spread.length === 1 ? spread[0] : rank - 1;
  }
  ctx.addLayer(node, { kind: 'softmax', inputs: [input.node], outputShape: input.shape, axis: sampleAxis(node, input, axis) }, input.batchAxis);
}

function convertIdentity(node, ctx) {
  const entry = ctx.activation(node, node.input[0]);
  ctx.addLayer(node, { kind: 'identity', inputs: [entry.node], outputShape: entry.shape }, entry.batchAxis);
}

/** Inference-mode Dropout is the identity; its mask output has no meaning here. */
function convertDropout(node, ctx) {
  const mask = node.output[1];
  if (mask && ctx.consumerCount(mask) > 0) throw unsupportedOperator(node, `its mask output '${mask}' is used; only the first output may be used`);
  convertIdentity(node, ctx);
}

/** The ONNX operator types the importer converts (foldable-only ones aside). */
export const convertedOperators = () => Object.keys(OPERATORS);
