// Builds small ONNX models in JS (with onnx-proto) for the import tests, including broken ones.
//
//   buildModel({
//     input: { name: 'input', shape: [null, 16] },        // null or a string: symbolic (dim_param)
//     output: { name: 'logits', shape: [null, 10] },
//     nodes: [{ op: 'Gemm', name: 'fc', inputs: ['input', 'w', 'b'], outputs: ['logits'], attrs: { transB: 1 } }],
//     initializers: { w: { dims: [10, 16], data: Float32Array }, b: { dims: [10], data } },
//     opset: 13,
//   }) → Uint8Array
//
// Attribute values: integer number → INT, other number → FLOAT, { float: x } → FLOAT (for integral
// floats such as alpha: 2), number arrays → INTS (all integers) or FLOATS, { floats: [...] } → FLOATS,
// { tensor: { dims, data } } → TENSOR, string → STRING.
// Initializer data: Float32Array, Float64Array, Int32Array or BigInt64Array; `raw: true` stores it
// in raw_data (little-endian), otherwise in the typed field. `dataType` overrides the inferred type.
// `inputs`/`outputs` (arrays) replace `input`/`output` for models with several or none.

import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export { onnx };

const DATA_TYPES = new Map([
  [Float32Array, DataType.FLOAT],
  [Float64Array, DataType.DOUBLE],
  [Int32Array, DataType.INT32],
  [BigInt64Array, DataType.INT64],
]);

export function buildModel(options) {
  return encodeModel(modelProto(options));
}

/** The ModelProto as a plain object, for tests that want to break it before encoding. */
export function modelProto({ input, output, inputs, outputs, nodes = [], initializers = {}, opset = 13, graph = true }) {
  const model = {
    irVersion: 7,
    producerName: 'lrp-wasm tests',
    opsetImport: [{ domain: '', version: opset }],
  };
  if (!graph) return model;
  model.graph = {
    name: 'test',
    node: nodes.map(nodeProto),
    initializer: Object.entries(initializers).map(([name, spec]) => tensorProto(name, spec)),
    input: (inputs ?? (input ? [input] : [])).map(valueInfo),
    output: (outputs ?? (output ? [output] : [])).map(valueInfo),
  };
  return model;
}

export function encodeModel(model) {
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

export function valueInfo({ name, shape, elemType = DataType.FLOAT }) {
  const tensorType = { elemType };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((size) => {
        if (size === null) return { dimParam: 'batch' };
        if (size === undefined) return {};
        if (typeof size === 'string') return { dimParam: size };
        return { dimValue: size };
      }),
    };
  }
  return { name, type: { tensorType } };
}

export function nodeProto({ op, name = '', inputs = [], outputs = [], attrs = {}, domain }) {
  const node = {
    opType: op,
    name,
    input: inputs,
    output: outputs,
    attribute: Object.entries(attrs).map(([attrName, value]) => attributeProto(attrName, value)),
  };
  if (domain) node.domain = domain;
  return node;
}

function attributeProto(name, value) {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    return value.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: value }
      : { name, type: AttributeType.FLOATS, floats: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if ('tensor' in value) return { name, type: AttributeType.TENSOR, t: tensorProto('', value.tensor) };
  throw new Error(`onnx-builder: cannot encode attribute '${name}'`);
}

export function tensorProto(name, { dims, data, raw = false, dataType, external = false }) {
  const type = dataType ?? DATA_TYPES.get(data.constructor);
  if (type === undefined) throw new Error(`onnx-builder: unsupported data ${data.constructor.name} for '${name}'`);
  const tensor = { name, dims, dataType: type };
  if (external) {
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [{ key: 'location', value: 'weights.bin' }];
    return tensor;
  }
  if (raw) {
    tensor.rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    return tensor;
  }
  if (type === DataType.FLOAT) tensor.floatData = Array.from(data);
  else if (type === DataType.DOUBLE) tensor.doubleData = Array.from(data);
  else if (type === DataType.INT32) tensor.int32Data = Array.from(data);
  // protobufjs 6 cannot encode BigInt; decimal strings are exact for every int64.
  else if (type === DataType.INT64) tensor.int64Data = Array.from(data, (v) => v.toString());
  return tensor;
}

// --- small conveniences for test data ---

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32). */
export function randomFloats(count, seed = 1) {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2) - 1;
  });
}

export function int64s(...values) {
  return BigInt64Array.from(values.map(BigInt));
}

/** An initializer { dims, data } of deterministic pseudo-random floats in [min, max). */
export function randomTensor(dims, seed = 1, { min = -1, max = 1 } = {}) {
  const data = randomFloats(dims.reduce((a, b) => a * b, 1), seed);
  for (let i = 0; i < data.length; i++) data[i] = min + ((data[i] + 1) / 2) * (max - min);
  return { dims, data };
}
