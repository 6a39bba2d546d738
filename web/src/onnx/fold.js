// Constant folding: an ONNX node whose inputs are all known at load time is evaluated here, in JS.
// PyTorch exports shape arithmetic (`x.view(x.size(0), -1)`, the pads of ZeroPad2d, `expand(N, -1, -1)`)
// as small sub-graphs of Shape, Gather, Concat, ConstantOfShape, Where, ...; they all end up as plain
// constants before any engine layer is built.
//
// A tensor is { dims, data, type }: `type` 'float' (data a Float32Array or Float64Array) or 'int'
// (a plain array of numbers; booleans are 0/1). Integer data may hold the symbol BATCH (the batch size
// read by a Shape): operators that select or move values keep it, arithmetic reads it as 1 (the graph
// is evaluated per sample, at batch size 1).

import {
  BATCH, DataType, attrInt, checkRank, attrInts, attrString, constantNodeValue, dataTypeName, nodeError,
  normalizeAxis, product, range, rowMajorStrides, sameDims, unsupportedOperator,
} from './decode.js';

/**
 * Evaluates `node` on constant `inputs` (tensors in input order; null for an omitted optional input).
 * Returns the tensors of its outputs, in order.
 * @throws {Error} naming the operator and node when it cannot be evaluated
 */
export function foldNode(node, inputs, opset) {
  if (!Object.hasOwn(EVALUATORS, node.opType)) {
    throw unsupportedOperator(node, 'all its inputs are constants, but it cannot be evaluated at load time');
  }
  const outputs = EVALUATORS[node.opType](node, inputs, opset);
  const list = Array.isArray(outputs) ? outputs : [outputs];
  // Every constant enters bounded (decode.js checks initializers and Constant values); a result bounded too keeps
  // every later evaluator's loops over axes short.
  for (const output of list) checkRank(output.dims.length, `ONNX node '${node.displayName}' (${node.opType}): its result`);
  return list;
}

/** The operators the folder can evaluate. */
export const foldableOperators = () => Object.keys(EVALUATORS);

// ---------------------------------------------------------------------------------------------
// Tensor helpers
// ---------------------------------------------------------------------------------------------

/** The value of a shape entry in arithmetic: the batch size counts as 1 (per sample). */
export function numeric(value) {
  return value === BATCH ? 1 : value;
}

function tensor(dims, data, type) {
  return { dims, data, type };
}

function intTensor(dims, values) {
  return tensor(dims, values, 'int');
}

/** A float array of the kind of the inputs: Float64Array if any is double, else Float32Array. */
function floatArrayFor(inputs, length) {
  const double = inputs.some((t) => t && t.data instanceof Float64Array);
  return double ? new Float64Array(length) : new Float32Array(length);
}

// The most values a tensor computed at load may hold: the folder works on JavaScript arrays, and a few bytes of
// ConstantOfShape → Mul → Equal → Where on 2^26 values kept a load busy for over 10 s. 2^24 still holds a causal
// mask of 4,096 × 4,096 positions.
export const MAX_FOLDED_ELEMENTS = 2 ** 24;

function checkCount(node, dims) {
  let count = 1;
  for (const dim of dims) {
    if (!(Number.isSafeInteger(dim) && dim >= 0)) throw nodeError(node, `invalid dimension ${String(dim)} in shape [${dims.map(String)}]`);
    count *= dim;
    if (count > MAX_FOLDED_ELEMENTS) {
      throw nodeError(node, `its result, computed at load, of shape [${dims}] exceeds the importer's limit of ` +
        `${MAX_FOLDED_ELEMENTS.toLocaleString('en-US')} values for constants it computes`);
    }
  }
  return count;
}

function required(node, inputs, index, role) {
  const input = inputs[index];
  if (!input) throw nodeError(node, `missing input ${role}`);
  return input;
}

function scalarOf(node, t, role) {
  if (t.data.length !== 1) throw nodeError(node, `${role} must be a scalar, got shape [${t.dims}]`);
  return numeric(t.data[0]);
}

/** Integer values of a 1-D (or scalar) int tensor, the batch size read as 1. */
function intValues(node, t, role) {
  if (t.type !== 'int') throw nodeError(node, `${role} must be an integer tensor`);
  return Array.from(t.data, numeric);
}

/** ONNX multidirectional (numpy) broadcasting of several shapes. */
export function broadcastShapes(node, shapes) {
  const rank = shapes.reduce((most, s) => Math.max(most, s.length), 0);
  const out = new Array(rank).fill(1);
  for (const shape of shapes) {
    const offset = rank - shape.length;
    shape.forEach((dim, i) => {
      const current = out[i + offset];
      if (dim === current || dim === 1) return;
      if (current === 1) out[i + offset] = dim;
      else throw nodeError(node, `shapes ${shapes.map((s) => `[${s}]`).join(' and ')} do not broadcast`);
    });
  }
  return out;
}

/** For each input, the flat source index of every flat output index (numpy broadcasting). */
export function broadcastIndices(dims, outDims) {
  const offset = outDims.length - dims.length;
  const strides = rowMajorStrides(dims);
  const outStrides = outDims.map((dim, axis) => {
    const i = axis - offset;
    return i >= 0 && dims[i] !== 1 ? strides[i] : 0;
  });
  const count = product(outDims);
  const indices = new Int32Array(count);
  const counter = new Array(outDims.length).fill(0);
  let source = 0;
  for (let k = 0; k < count; k++) {
    indices[k] = source;
    for (let axis = outDims.length - 1; axis >= 0; axis--) {
      source += outStrides[axis];
      if (++counter[axis] < outDims[axis]) break;
      source -= outStrides[axis] * outDims[axis];
      counter[axis] = 0;
    }
  }
  return indices;
}

/**
 * Values at the cartesian product of per-axis index lists, in row-major order. An odometer over the axes, not a
 * recursion: its depth would be the rank, which a hostile file sets (the rank is bounded, but loops cost nothing).
 */
export function selectAlongAxes(t, lists) {
  const strides = rowMajorStrides(t.dims);
  const count = product(lists.map((list) => list.length));
  const values = t.type === 'float' ? new t.data.constructor(count) : new Array(count);
  const rank = lists.length;
  const position = new Array(rank).fill(0);  // the index into each axis' list
  let offset = 0;
  for (let axis = 0; axis < rank; axis++) offset += (lists[axis][0] ?? 0) * strides[axis];
  for (let k = 0; k < count; k++) {
    values[k] = t.data[offset];
    for (let axis = rank - 1; axis >= 0; axis--) {
      const list = lists[axis];
      offset -= list[position[axis]] * strides[axis];
      if (++position[axis] < list.length) {
        offset += list[position[axis]] * strides[axis];
        break;
      }
      position[axis] = 0;
      offset += list[0] * strides[axis];
    }
  }
  return tensor(lists.map((list) => list.length), values, t.type);
}

/** The elements of `t` permuted by `perm` (output axis i is input axis perm[i]). */
export function transposeTensor(t, perm) {
  const dims = perm.map((p) => t.dims[p]);
  const strides = rowMajorStrides(t.dims);
  const count = product(dims);
  const values = t.type === 'float' ? new t.data.constructor(count) : new Array(count);
  const counter = new Array(dims.length).fill(0);
  let source = 0;
  for (let k = 0; k < count; k++) {
    values[k] = t.data[source];
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      const stride = strides[perm[axis]];
      source += stride;
      if (++counter[axis] < dims[axis]) break;
      source -= stride * dims[axis];
      counter[axis] = 0;
    }
  }
  return tensor(dims, values, t.type);
}

/** `t` broadcast (numpy) to `outDims`. */
export function expandTensor(t, outDims) {
  const indices = broadcastIndices(t.dims, outDims);
  const values = t.type === 'float' ? new t.data.constructor(indices.length) : new Array(indices.length);
  for (let k = 0; k < indices.length; k++) values[k] = t.data[indices[k]];
  return tensor(outDims, values, t.type);
}

/** Indices picked by ONNX Slice along one axis (starts/ends clamped as ONNX does). */
export function sliceRange(size, start, end, step) {
  let from = start < 0 ? start + size : start;
  let to = end < 0 ? end + size : end;
  if (step > 0) {
    from = Math.min(Math.max(from, 0), size);
    to = Math.min(Math.max(to, 0), size);
  } else {
    from = Math.min(Math.max(from, 0), size - 1);
    to = Math.min(Math.max(to, -1), size - 1);
  }
  const count = Math.max(0, Math.ceil((to - from) / step));
  return { start: from, end: to, step, count };
}

function sliceIndices(size, start, end, step) {
  const r = sliceRange(size, start, end, step);
  return Array.from({ length: r.count }, (_, i) => r.start + i * step);
}

// ---------------------------------------------------------------------------------------------
// Element-wise evaluators
// ---------------------------------------------------------------------------------------------

/** An n-ary element-wise operator with numpy broadcasting; `f` gets numbers (BATCH read as 1). */
function elementwise(f, { resultType = null, intDivision = false, variadic = false } = {}) {
  return (node, inputs) => {
    const operands = inputs.filter(Boolean);
    const outDims = broadcastShapes(node, operands.map((t) => t.dims));
    const count = checkCount(node, outDims);
    const allInt = operands.every((t) => t.type === 'int');
    const type = resultType ?? (allInt ? 'int' : 'float');
    const indexLists = operands.map((t) => (sameDims(t.dims, outDims) ? null : broadcastIndices(t.dims, outDims)));
    const values = type === 'float' ? floatArrayFor(operands, count) : new Array(count);
    const args = new Array(operands.length);
    for (let k = 0; k < count; k++) {
      for (let j = 0; j < operands.length; j++) args[j] = numeric(operands[j].data[indexLists[j] ? indexLists[j][k] : k]);
      // Variadic operators (Sum, Min, Max) take the array: a spread of a node's 100,000 inputs would overflow the stack.
      let value = variadic ? f(args) : f(args[0], args[1]);
      if (type === 'int') value = intDivision && allInt ? Math.trunc(value) : typeof value === 'boolean' ? Number(value) : value;
      values[k] = value;
    }
    return tensor(outDims, values, type);
  };
}

const unary = (f) => elementwise(f);
const comparison = (f) => elementwise((a, b) => (f(a, b) ? 1 : 0), { resultType: 'int' });

/** erf with a relative error below 1.2e-7 (the Chebyshev fit of erfc in Numerical Recipes): float32-exact. */
function erf(x) {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

/** Axes of a Reduce* node: an attribute before opset 18 (13 for ReduceSum), an input after. */
function reduceAxes(node, inputs, rank) {
  const axes = inputs[1] ? intValues(node, inputs[1], 'axes') : attrInts(node, 'axes');
  if (!axes || axes.length === 0) {
    return attrInt(node, 'noop_with_empty_axes', 0) === 1 ? [] : range(rank);
  }
  return [...new Set(axes.map((axis) => normalizeAxis(node, axis, rank)))];
}

function reduction(initial, step, finish = (acc) => acc) {
  return (node, inputs) => {
    const x = required(node, inputs, 0, 'data');
    const axes = new Set(reduceAxes(node, inputs, x.dims.length));
    const keepdims = attrInt(node, 'keepdims', 1) === 1;
    const outDims = x.dims.map((dim, i) => (axes.has(i) ? 1 : dim));
    const count = product(outDims);
    const acc = new Float64Array(count).fill(initial);
    const n = new Float64Array(count);
    const outStrides = rowMajorStrides(outDims);
    const counter = new Array(x.dims.length).fill(0);
    for (let k = 0; k < x.data.length; k++) {
      let target = 0;
      for (let axis = 0; axis < counter.length; axis++) if (!axes.has(axis)) target += counter[axis] * outStrides[axis];
      acc[target] = step(acc[target], numeric(x.data[k]));
      n[target] += 1;
      for (let axis = counter.length - 1; axis >= 0; axis--) {
        if (++counter[axis] < x.dims[axis]) break;
        counter[axis] = 0;
      }
    }
    const dims = keepdims ? outDims : x.dims.filter((_, i) => !axes.has(i));
    const values = x.type === 'float' ? floatArrayFor([x], count) : new Array(count);
    for (let k = 0; k < count; k++) values[k] = finish(acc[k], n[k]);
    return tensor(dims, values, x.type);
  };
}

// ---------------------------------------------------------------------------------------------
// Shape operators
// ---------------------------------------------------------------------------------------------

function foldShape(node, [x]) {
  return shapeTensor(node, x.dims);
}

/** Shape's output for full dims (which may hold BATCH), with opset 15's start/end. */
export function shapeTensor(node, dims) {
  const rank = dims.length;
  const clamp = (axis) => Math.min(Math.max(axis < 0 ? axis + rank : axis, 0), rank);
  const start = clamp(attrInt(node, 'start', 0));
  const end = clamp(attrInt(node, 'end', rank));
  const values = dims.slice(start, Math.max(start, end));
  return intTensor([values.length], values);
}

function foldGather(node, [data, indices]) {
  if (indices.type !== 'int') throw nodeError(node, 'indices must be an integer tensor');
  const axis = normalizeAxis(node, attrInt(node, 'axis', 0), data.dims.length);
  const size = data.dims[axis];
  const picked = indices.data.map((raw) => {
    const index = numeric(raw);
    const wrapped = index < 0 ? index + size : index;
    if (!(wrapped >= 0 && wrapped < size)) throw nodeError(node, `index ${index} is out of range for a dimension of size ${size}`);
    return wrapped;
  });
  const lists = data.dims.map((dim, i) => (i === axis ? picked : range(dim)));
  const selected = selectAlongAxes(data, lists);
  return { ...selected, dims: [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)] };
}

function foldConstantOfShape(node, [shape]) {
  const dims = shape ? intValues(node, shape, 'input') : [];
  const count = checkCount(node, dims);
  const valueAttr = node.attribute.find((a) => a.name === 'value');
  const value = valueAttr ? constantNodeValue({ ...node, attribute: [valueAttr] }) : tensor([1], Float32Array.of(0), 'float');
  if (value.data.length !== 1) throw nodeError(node, 'value must hold one element');
  const values = value.type === 'float' ? new value.data.constructor(count).fill(value.data[0]) : new Array(count).fill(value.data[0]);
  return tensor(dims, values, value.type);
}

function foldRange(node, [start, limit, delta]) {
  const [from, to, step] = [start, limit, delta].map((t, i) => scalarOf(node, t, ['start', 'limit', 'delta'][i]));
  if (step === 0) throw nodeError(node, 'delta must not be 0');
  const count = Math.max(Math.ceil((to - from) / step), 0);
  checkCount(node, [count]);
  const values = Array.from({ length: count }, (_, i) => from + i * step);
  return start.type === 'float' ? tensor([count], floatArrayFor([start], count).map((_, i) => values[i]), 'float') : intTensor([count], values);
}

/** Trilu: the upper (upper = 1, default) or lower triangle of the last two axes, shifted by k; zeros elsewhere. */
function foldTrilu(node, [x, k]) {
  if (x.dims.length < 2) throw nodeError(node, `input must have at least 2 dimensions, got [${x.dims}]`);
  const diagonal = k ? numeric(k.data[0]) : 0;
  const upper = attrInt(node, 'upper', 1) === 1;
  const [rows, cols] = x.dims.slice(-2);
  const values = x.type === 'float' ? new x.data.constructor(x.data.length) : new Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const col = i % cols;
    const row = Math.floor(i / cols) % rows;
    const kept = upper ? col - row >= diagonal : col - row <= diagonal;
    values[i] = kept ? x.data[i] : 0;
  }
  return tensor(x.dims, values, x.type);
}

function foldWhere(node, [condition, x, y]) {
  const outDims = broadcastShapes(node, [condition.dims, x.dims, y.dims]);
  const count = checkCount(node, outDims);
  const [ci, xi, yi] = [condition, x, y].map((t) => broadcastIndices(t.dims, outDims));
  const type = x.type === 'float' || y.type === 'float' ? 'float' : 'int';
  const values = type === 'float' ? floatArrayFor([x, y], count) : new Array(count);
  // The selected values keep the BATCH symbol (torch's expand(N, -1) picks the batch size this way).
  for (let k = 0; k < count; k++) {
    const pick = numeric(condition.data[ci[k]]) ? x.data[xi[k]] : y.data[yi[k]];
    values[k] = type === 'float' ? numeric(pick) : pick;
  }
  return tensor(outDims, values, type);
}

const FLOAT_CASTS = { [DataType.FLOAT]: Float32Array, [DataType.FLOAT16]: Float32Array, [DataType.DOUBLE]: Float64Array };
const INTEGER_CASTS = new Set([DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64,
  DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64]);

function foldCast(node, [x]) {
  const to = attrInt(node, 'to', null);
  const values = Array.from(x.data);
  if (Object.hasOwn(FLOAT_CASTS, to)) return tensor(x.dims, FLOAT_CASTS[to].from(values, numeric), 'float');
  if (to === DataType.BOOL) return intTensor(x.dims, values.map((v) => (numeric(v) === 0 ? 0 : 1)));
  if (INTEGER_CASTS.has(to)) return intTensor(x.dims, values.map((v) => (v === BATCH ? BATCH : Math.trunc(v))));
  throw unsupportedOperator(node, `cast to ${dataTypeName(to)} is not supported`);
}

function foldConcat(node, inputs) {
  const parts = inputs.filter(Boolean);
  if (parts.length === 0) throw nodeError(node, 'no inputs');
  const rank = parts[0].dims.length;
  const axis = normalizeAxis(node, attrInt(node, 'axis', null), rank);
  for (const part of parts) {
    const compatible = part.dims.length === rank && part.dims.every((dim, i) => i === axis || dim === parts[0].dims[i]);
    if (!compatible) throw nodeError(node, `cannot concatenate shapes [${parts[0].dims}] and [${part.dims}] along axis ${axis}`);
  }
  const type = parts.every((p) => p.type === 'int') ? 'int' : 'float';
  const outer = product(parts[0].dims.slice(0, axis));
  const values = [];
  for (let o = 0; o < outer; o++) {
    for (const part of parts) {
      const size = product(part.dims.slice(axis));
      for (let i = o * size; i < (o + 1) * size; i++) values.push(type === 'float' ? numeric(part.data[i]) : part.data[i]);
    }
  }
  const dims = parts[0].dims.map((dim, i) => (i === axis ? parts.reduce((sum, part) => sum + part.dims[axis], 0) : dim));
  return tensor(dims, type === 'float' ? floatArrayFor(parts, values.length).map((_, i) => values[i]) : values, type);
}

/** starts, ends, axes, steps of a Slice: attributes before opset 10, inputs after. */
export function sliceParameters(node, inputs, rank, intInput) {
  const fromInput = (i, what) => (inputs[i] ? intInput(inputs[i], what) : null);
  const starts = fromInput(1, 'starts') ?? attrInts(node, 'starts');
  const ends = fromInput(2, 'ends') ?? attrInts(node, 'ends');
  const axes = fromInput(3, 'axes') ?? attrInts(node, 'axes') ?? range(starts?.length ?? 0);
  const steps = fromInput(4, 'steps') ?? starts?.map(() => 1);
  if (!starts || !ends || starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw nodeError(node, 'starts, ends, axes and steps must be given and have the same length');
  }
  const normalizedAxes = axes.map((axis) => normalizeAxis(node, axis, rank));
  if (new Set(normalizedAxes).size !== axes.length) throw nodeError(node, `repeated axes [${axes}]`);
  steps.forEach((step) => { if (step === 0) throw nodeError(node, 'step 0 is invalid'); });
  return { starts, ends, axes: normalizedAxes, steps };
}

function foldSlice(node, inputs) {
  const data = required(node, inputs, 0, 'data');
  const { starts, ends, axes, steps } = sliceParameters(node, inputs, data.dims.length, (t, what) => intValues(node, t, what));
  const lists = data.dims.map(range);
  axes.forEach((axis, j) => { lists[axis] = sliceIndices(data.dims[axis], starts[j], ends[j], steps[j]); });
  return selectAlongAxes(data, lists);
}

/**
 * The output dims of Reshape: 0 copies the input's size (unless allowzero), -1 is inferred; the batch
 * size counts as 1.
 */
export function reshapeDims(node, inputDims, target, allowZero) {
  const count = product(inputDims);
  const fail = (why) => nodeError(node, `cannot reshape [${inputDims}] to [${target.map(String)}]: ${why}`);
  const dims = target.map((raw, i) => {
    const dim = numeric(raw);
    if (dim === 0 && !allowZero) {
      if (i >= inputDims.length) throw fail(`0 at position ${i} has no input dimension to copy`);
      return inputDims[i];
    }
    if (!(Number.isSafeInteger(dim) && dim >= -1)) throw fail(`invalid size ${dim}`);
    return dim;
  });
  const inferred = dims.filter((dim) => dim === -1).length;
  if (inferred > 1) throw fail('more than one -1');
  const known = product(dims.filter((dim) => dim !== -1));
  if (inferred === 1) {
    if (known === 0 || count % known !== 0) throw fail(`element count mismatch: ${count} elements do not divide into ${known}`);
    return dims.map((dim) => (dim === -1 ? count / known : dim));
  }
  if (known !== count) throw fail(`element count mismatch: ${count} elements vs ${known}`);
  return dims;
}

function foldReshape(node, [data, shape]) {
  const target = shape.data.map((v) => v);
  return { ...data, dims: reshapeDims(node, data.dims, target, attrInt(node, 'allowzero', 0) === 1) };
}

function foldFlatten(node, [data]) {
  const rank = data.dims.length;
  const raw = attrInt(node, 'axis', 1);
  const axis = raw < 0 ? raw + rank : raw;
  if (!(axis >= 0 && axis <= rank)) throw nodeError(node, `axis ${raw} is out of range for rank ${rank}`);
  return { ...data, dims: [product(data.dims.slice(0, axis)), product(data.dims.slice(axis))] };
}

function foldTranspose(node, [data]) {
  const perm = attrInts(node, 'perm') ?? range(data.dims.length).reverse();
  checkPermutation(node, perm, data.dims.length);
  return transposeTensor(data, perm);
}

export function checkPermutation(node, perm, rank) {
  const valid = perm.length === rank && new Set(perm).size === rank && perm.every((p) => Number.isInteger(p) && p >= 0 && p < rank);
  if (!valid) throw nodeError(node, `perm [${perm}] is not a permutation of ${rank} axes`);
}

/** Axes of Squeeze/Unsqueeze: an attribute before opset 13, an input after. */
function axesOf(node, inputs) {
  return inputs[1] ? intValues(node, inputs[1], 'axes') : attrInts(node, 'axes');
}

/** Dims after inserting size-1 axes at `axes` (positions in the output). */
export function unsqueezeDims(node, dims, axes) {
  if (!axes) throw nodeError(node, 'missing axes');
  const outRank = dims.length + axes.length;
  const inserted = new Set(axes.map((axis) => normalizeAxis(node, axis, outRank)));
  if (inserted.size !== axes.length) throw nodeError(node, `repeated axes [${axes}]`);
  const remaining = [...dims];
  return range(outRank).map((i) => (inserted.has(i) ? 1 : remaining.shift()));
}

/** The axes Squeeze removes: the given ones (each of size 1), or every size-1 axis. */
export function squeezedAxes(node, dims, axes) {
  const removed = axes
    ? new Set(axes.map((axis) => normalizeAxis(node, axis, dims.length)))
    : new Set(dims.flatMap((dim, i) => (dim === 1 ? [i] : [])));
  for (const axis of removed) {
    if (dims[axis] !== 1) throw nodeError(node, `cannot squeeze axis ${axis} of size ${dims[axis]}`);
  }
  return removed;
}

function foldUnsqueeze(node, inputs) {
  const data = required(node, inputs, 0, 'data');
  return { ...data, dims: unsqueezeDims(node, data.dims, axesOf(node, inputs)) };
}

function foldSqueeze(node, inputs) {
  const data = required(node, inputs, 0, 'data');
  const removed = squeezedAxes(node, data.dims, axesOf(node, inputs));
  return { ...data, dims: data.dims.filter((_, i) => !removed.has(i)) };
}

function foldExpand(node, [data, shape]) {
  const target = intValues(node, shape, 'shape');
  const outDims = broadcastShapes(node, [data.dims, target]);
  checkCount(node, outDims);
  return expandTensor(data, outDims);
}

function foldTile(node, [data, repeats]) {
  const times = intValues(node, repeats, 'repeats');
  if (times.length !== data.dims.length) throw nodeError(node, `repeats has ${times.length} values for rank ${data.dims.length}`);
  const dims = data.dims.map((dim, i) => dim * times[i]);
  checkCount(node, dims);
  const lists = dims.map((dim, i) => Array.from({ length: dim }, (_, k) => k % data.dims[i]));
  return selectAlongAxes(data, lists);
}

/**
 * ScatterND (reduction 'none'): a copy of `data` with the slices that `indices` address (its last axis: a
 * prefix of data's axes) replaced by `updates`. PyTorch exports slice assignments like this (Swin's
 * shifted-window mask: img_mask[:, h, w, :] = cnt).
 */
function foldScatterND(node, [data, indices, updates]) {
  const reduction = attrString(node, 'reduction', 'none');
  if (reduction !== 'none') throw unsupportedOperator(node, `reduction '${reduction}' (only 'none')`);
  const k = indices.dims[indices.dims.length - 1];
  if (!(k >= 1 && k <= data.dims.length)) throw nodeError(node, `indices address ${k} axes of a rank-${data.dims.length} tensor`);
  const slice = product(data.dims.slice(k));
  const strides = rowMajorStrides(data.dims).slice(0, k);
  const ids = intValues(node, indices, 'indices');
  const count = ids.length / k;
  if (updates.data.length !== count * slice) throw nodeError(node, `updates have ${updates.data.length} values, expected ${count * slice}`);
  const out = Array.isArray(data.data) ? [...data.data] : data.data.slice();
  for (let u = 0; u < count; u++) {
    let offset = 0;
    for (let a = 0; a < k; a++) {
      const i = ids[u * k + a] < 0 ? ids[u * k + a] + data.dims[a] : ids[u * k + a];
      if (!(i >= 0 && i < data.dims[a])) throw nodeError(node, `index ${ids[u * k + a]} is out of range for axis ${a} of size ${data.dims[a]}`);
      offset += i * strides[a];
    }
    for (let j = 0; j < slice; j++) out[offset + j] = updates.data[u * slice + j];
  }
  return tensor([...data.dims], out, data.type);
}

/** The sizes of Split's outputs along its axis (input/attribute `split`, equal parts, or num_outputs). */
export function splitSizes(node, size, splitValues, outputCount) {
  let sizes = splitValues;
  if (!sizes) {
    const parts = attrInt(node, 'num_outputs', outputCount);
    const chunk = Math.ceil(size / parts);
    sizes = range(parts).map((i) => Math.max(0, Math.min(chunk, size - i * chunk)));
  }
  if (sizes.length !== outputCount) throw nodeError(node, `split into ${sizes.length} parts, but the node has ${outputCount} outputs`);
  if (sizes.reduce((a, b) => a + b, 0) !== size || sizes.some((s) => !(Number.isSafeInteger(s) && s >= 0))) {
    throw nodeError(node, `split sizes [${sizes}] do not add up to the axis size ${size}`);
  }
  return sizes;
}

function foldSplit(node, inputs) {
  const data = required(node, inputs, 0, 'input');
  const axis = normalizeAxis(node, attrInt(node, 'axis', 0), data.dims.length);
  const splitValues = inputs[1] ? intValues(node, inputs[1], 'split') : attrInts(node, 'split');
  const sizes = splitSizes(node, data.dims[axis], splitValues, node.output.length);
  let offset = 0;
  return sizes.map((size) => {
    const lists = data.dims.map((dim, i) => (i === axis ? range(size).map((k) => k + offset) : range(dim)));
    offset += size;
    return selectAlongAxes(data, lists);
  });
}

/** numpy matmul of constants (rank ≥ 1 each). */
function foldMatMul(node, [a, b]) {
  const aDims = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const bDims = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const [m, k] = aDims.slice(-2);
  const [k2, n] = bDims.slice(-2);
  if (k !== k2) throw nodeError(node, `cannot multiply [${a.dims}] by [${b.dims}]`);
  const lead = broadcastShapes(node, [aDims.slice(0, -2), bDims.slice(0, -2)]);
  const count = checkCount(node, [...lead, m, n]);
  const aIndex = broadcastIndices(aDims.slice(0, -2), lead);
  const bIndex = broadcastIndices(bDims.slice(0, -2), lead);
  const values = floatArrayFor([a, b], count);
  for (let batch = 0; batch < product(lead); batch++) {
    const aBase = aIndex[batch] * m * k;
    const bBase = bIndex[batch] * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += numeric(a.data[aBase + i * k + p]) * numeric(b.data[bBase + p * n + j]);
        values[(batch * m + i) * n + j] = sum;
      }
    }
  }
  let dims = [...lead, m, n];
  if (a.dims.length === 1) dims = [...lead, n];
  if (b.dims.length === 1) dims = dims.slice(0, -1);
  return tensor(dims, values, a.type === 'int' && b.type === 'int' ? 'int' : 'float');
}

function identity(node, [x]) {
  return x;
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const EVALUATORS = {
  Identity: identity,
  Dropout: identity,
  Shape: foldShape,
  Size: (node, [x]) => intTensor([], [product(x.dims)]),
  Gather: foldGather,
  ConstantOfShape: foldConstantOfShape,
  Range: foldRange,
  Where: foldWhere,
  Trilu: foldTrilu,
  Cast: foldCast,
  Concat: foldConcat,
  Slice: foldSlice,
  Reshape: foldReshape,
  Flatten: foldFlatten,
  Transpose: foldTranspose,
  Unsqueeze: foldUnsqueeze,
  Squeeze: foldSqueeze,
  Expand: foldExpand,
  Tile: foldTile,
  ScatterND: foldScatterND,
  Split: foldSplit,
  MatMul: foldMatMul,
  Add: elementwise((a, b) => a + b),
  Sub: elementwise((a, b) => a - b),
  Mul: elementwise((a, b) => a * b),
  Div: elementwise((a, b) => a / b, { intDivision: true }),
  Mod: elementwise((a, b) => a - b * Math.floor(a / b)),
  Pow: elementwise((a, b) => a ** b),
  Min: elementwise((v) => v.reduce((a, b) => Math.min(a, b)), { variadic: true }),
  Max: elementwise((v) => v.reduce((a, b) => Math.max(a, b)), { variadic: true }),
  Sum: elementwise((v) => v.reduce((a, b) => a + b, 0), { variadic: true }),
  Neg: unary((a) => -a),
  Abs: unary(Math.abs),
  Sqrt: unary(Math.sqrt),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Erf: unary(erf),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Sign: unary(Math.sign),
  Reciprocal: unary((a) => 1 / a),
  Relu: unary((a) => Math.max(a, 0)),
  Sigmoid: unary((a) => 1 / (1 + Math.exp(-a))),
  Tanh: unary(Math.tanh),
  Not: elementwise((a) => (a ? 0 : 1), { resultType: 'int' }),
  And: comparison((a, b) => a && b),
  Or: comparison((a, b) => a || b),
  Xor: comparison((a, b) => Boolean(a) !== Boolean(b)),
  Equal: comparison((a, b) => a === b),
  Less: comparison((a, b) => a < b),
  LessOrEqual: comparison((a, b) => a <= b),
  Greater: comparison((a, b) => a > b),
  GreaterOrEqual: comparison((a, b) => a >= b),
  ReduceSum: reduction(0, (acc, v) => acc + v),
  ReduceMean: reduction(0, (acc, v) => acc + v, (acc, n) => acc / n),
  ReduceProd: reduction(1, (acc, v) => acc * v),
  ReduceMax: reduction(-Infinity, Math.max),
  ReduceMin: reduction(Infinity, Math.min),
};
