// ONNX decoding: the protobuf, tensors, attributes and int64 values, plus the error constructors
// every part of the importer shares. Nothing here knows about the engine.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;
const EXTERNAL_DATA = onnx.TensorProto.DataLocation.EXTERNAL;

/** Largest element count accepted for any tensor or shape: hostile files must not make us allocate. */
export const MAX_ELEMENTS = 2 ** 28;

/**
 * The batch size inside a folded shape tensor: known to exist, value unknown. Operators that select
 * or move shape values keep it; arithmetic treats it as 1 (the importer runs the graph per sample).
 */
export const BATCH = Symbol('batch');

/**
 * Most axes of any tensor the importer handles (constant or computed). The engine's layers take per-sample
 * shapes of rank ≤ 6 (docs/layers.md); folded shape arithmetic may hold more, but no export needs 32.
 */
export const MAX_RANK = 32;

/**
 * Most nodes in a graph: a bound on the work a small file can ask of the importer. Loading is linear in the nodes
 * (a chain of 100,000 Relu loads in about 3.6 s on a 2-core machine); real exports stay far below (vit_b_16 about
 * 1,500 nodes, the test fixtures at most 353).
 */
export const MAX_NODES = 100000;

/** The ai.onnx operator sets the importer handles (README, "Supported ONNX operators"). */
export const OPSET_RANGE = Object.freeze({ min: 1, max: 20 });
/** The ONNX IR versions the importer reads: 3 (ONNX 1.0, the first with operator sets) to 10 (ONNX 1.16 and 1.17). */
export const IR_VERSION_RANGE = Object.freeze({ min: 3, max: 10 });

/** 10000 → '10,000' (messages quote sizes as people read them). */
export function formatCount(n) {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : String(n);
}

/** A rank above MAX_RANK refused with `label` (the node and operator, or the initializer). */
export function checkRank(rank, label) {
  if (rank > MAX_RANK) throw new Error(`${label} has rank ${formatCount(rank)}, which exceeds the engine's limit of ${MAX_RANK}`);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export function invalidModel(message) {
  return new Error(`invalid ONNX model: ${message}`);
}

export function nodeError(node, message) {
  return new Error(`ONNX node '${node.displayName}' (${node.opType}): ${message}`);
}

export function unsupportedOperator(node, reason) {
  const domain = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.` : '';
  const suffix = reason ? `: ${reason}` : '';
  return new Error(`unsupported ONNX operator '${domain}${node.opType}' (node '${node.displayName}')${suffix}`);
}

export function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

export function decodeModel(bytes) {
  const view = asUint8Array(bytes);
  if (view.length === 0) throw invalidModel('the file is empty');
  try {
    return onnx.ModelProto.decode(view);
  } catch (error) {
    // protobufjs recurses once per nested message: a file nesting subgraphs (or types) thousands deep exhausts
    // the stack. The importer supports no subgraph, so such a file has nothing it could load.
    // (protobufjs's truncation error, "index out of range", is a RangeError too: only a stack overflow is this.)
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw invalidModel('its messages are nested deeper than the protobuf decoder can follow (subgraphs inside ' +
        'subgraphs, or types inside types, thousands deep); the importer supports no subgraphs');
    }
    throw invalidModel(`could not decode the protobuf (${error.message}); the file is truncated or not an ONNX model`);
  }
}

function asUint8Array(bytes) {
  // A subclass (Node's Buffer) becomes a plain view: protobufjs makes empty fields with `new buf.constructor(0)`,
  // which for a Buffer is the deprecated `new Buffer()` (DEP0005 warning).
  if (bytes instanceof Uint8Array) return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new Error(`invalid ONNX model: expected a Uint8Array or ArrayBuffer, got ${describeValue(bytes)}`);
}

/** The version of the default operator set (ai.onnx); operators changed meaning between versions. */
export function defaultOpset(model) {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toSafeInteger(entry.version) : 1;
}

/**
 * The model's IR version and ai.onnx operator set within the ranges the importer handles (IR_VERSION_RANGE,
 * OPSET_RANGE), each domain imported once, and every node's domain imported: operators change meaning between
 * operator sets, so a version outside the range cannot be read safely.
 */
export function checkVersions(model) {
  const ir = toSafeInteger(model.irVersion ?? 0);
  if (!(Number.isSafeInteger(ir) && ir >= IR_VERSION_RANGE.min && ir <= IR_VERSION_RANGE.max)) {
    throw new Error(`unsupported ONNX model: IR version ${formatCount(ir)}; the importer reads IR versions ` +
      `${IR_VERSION_RANGE.min} to ${IR_VERSION_RANGE.max} (ONNX 1.0 to 1.17)${ir > IR_VERSION_RANGE.max ? '; export with an older onnx package' : ''}`);
  }
  const versions = new Map();
  for (const entry of model.opsetImport) {
    const domain = entry.domain || 'ai.onnx';
    const version = toSafeInteger(entry.version ?? 0);
    if (versions.has(domain)) throw invalidModel(`the operator set of domain '${domain}' is imported twice (versions ${versions.get(domain)} and ${version})`);
    versions.set(domain, version);
  }
  const opset = versions.get('ai.onnx');
  if (opset === undefined) throw invalidModel('the model imports no ai.onnx operator set (opset_import has no entry for the default domain)');
  if (!(Number.isSafeInteger(opset) && opset >= OPSET_RANGE.min && opset <= OPSET_RANGE.max)) {
    const advice = opset > OPSET_RANGE.max ? `; export with opset_version=${OPSET_RANGE.max} or lower` : '';
    throw new Error(`unsupported ONNX model: ai.onnx opset ${formatCount(opset)}; the importer handles opsets ` +
      `${OPSET_RANGE.min} to ${OPSET_RANGE.max}${advice}`);
  }
  return versions;
}

export function dataTypeName(type) {
  return DataType[type] ?? `#${type}`;
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

export function attrInt(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.INT);
  return attr ? toSafeInteger(attr.i) : fallback;
}

export function attrFloat(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.FLOAT);
  return attr ? attr.f : fallback;
}

export function attrInts(node, name) {
  const attr = findAttribute(node, name, AttributeType.INTS);
  return attr ? attr.ints.map(toSafeInteger) : null;
}

export function attrString(node, name, fallback) {
  const attr = findAttribute(node, name, AttributeType.STRING);
  return attr ? new TextDecoder().decode(attr.s) : fallback;
}

/** The value of a Constant node's single attribute, as a tensor. */
export function constantNodeValue(node) {
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
  return fromAttribute[attr.name]();
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

export function tensorFromProto(proto, label) {
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

/**
 * The learned parameters of a decoded graph: the values of its initializers of the element types the importer
 * reads as floats (FLOAT, DOUBLE); integer initializers (shapes, indices) are not parameters.
 */
export function parameterCount(graph) {
  let count = 0;
  for (const tensor of graph.initializer ?? [])
    if (ELEMENT_FORMATS[tensor.dataType]?.type === 'float') count += product(tensor.dims.map(toSafeInteger));
  return count;
}

/** Element count of constant dims, checked before anything is allocated (0 is legal: empty tensor). */
export function elementCount(dims, label) {
  checkRank(dims.length, label);
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

/**
 * int64 fields arrive as Long objects (protobufjs with the `long` package), numbers (bundled without
 * it) or BigInt (raw data). Values beyond 2^53 become ±Infinity: ONNX uses them only as "to the end"
 * markers (Slice), and any use as a size fails validation.
 */
export function toSafeInteger(value) {
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

// ---------------------------------------------------------------------------------------------
// Small shape helpers shared by the folder and the operators
// ---------------------------------------------------------------------------------------------

export function product(dims) {
  return dims.reduce((acc, dim) => acc * dim, 1);
}

export function range(n) {
  return Array.from({ length: n }, (_, i) => i);
}

export function sameDims(a, b) {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

export function rowMajorStrides(dims) {
  const strides = new Array(dims.length);
  let stride = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= dims[i];
  }
  return strides;
}

export function formatDim(dim) {
  return dim === BATCH ? 'batch' : String(dim);
}

/** Every dimension a positive integer and the total within MAX_ELEMENTS. */
export function checkShape(shape, describe) {
  if (shape.length > MAX_RANK) checkRank(shape.length, describe());
  let count = 1;
  for (const dim of shape) {
    if (!(Number.isSafeInteger(dim) && dim > 0)) throw new Error(`${describe()} has an invalid dimension ${formatDim(dim)} in shape [${shape.map(formatDim)}]`);
    count *= dim;
    if (count > MAX_ELEMENTS) throw new Error(`${describe()} is too large: shape [${shape}] exceeds ${MAX_ELEMENTS} elements`);
  }
}

/** A normalized axis in [0, rank); `axis` may be negative (counted from the end). */
export function normalizeAxis(node, axis, rank) {
  if (axis === null || axis === undefined) throw nodeError(node, 'missing axis attribute');
  const normalized = axis < 0 ? axis + rank : axis;
  if (!(Number.isInteger(normalized) && normalized >= 0 && normalized < rank)) throw nodeError(node, `axis ${axis} is out of range for rank ${rank}`);
  return normalized;
}
