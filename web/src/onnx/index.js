// ONNX → engine graph description (docs/layers.md is the contract with the engine).
//
// parseOnnx(bytes) decodes an ONNX model (decode.js) and walks its nodes in order: constant
// sub-graphs are evaluated at load (fold.js), multi-node patterns are fused (patterns.js), and every
// other node becomes engine nodes (operators.js). Shapes are tracked per sample with the position of
// the batch axis; see operators.js.
//
// Plain ES modules without Node built-ins, so that they run in Node and, bundled by esbuild, in browsers.

import {
  BATCH, DataType, MAX_NODES, checkRank, checkShape, checkVersions, dataTypeName, decodeModel, defaultOpset, formatCount,
  invalidModel, nodeError, product, constantNodeValue, tensorFromProto, toSafeInteger, unsupportedOperator,
} from './decode.js';
import { foldNode, foldableOperators, numeric, shapeTensor } from './fold.js';
import { OPERATORS, convertedOperators, describeShape, fromSymbolic, symbolicShape } from './operators.js';
import { findFusions, layernormNode } from './patterns.js';
import { InputConstantProgram } from './input_constants.js';

/**
 * Convert an ONNX model into the engine's graph description: decodeOnnx then convertOnnx.
 *
 * @param {Uint8Array|ArrayBuffer} bytes the .onnx file
 * @param {{ sequenceLength?: number }} [options] see convertOnnx
 * @returns see convertOnnx
 * @throws {Error} naming the problem (operator and node, expected vs. got) for anything unsupported
 */
export function parseOnnx(bytes, options = {}) {
  return convertOnnx(decodeOnnx(bytes), options);
}

/** Decodes an ONNX file once; convertOnnx may then convert it for several sequence lengths. */
export function decodeOnnx(bytes) {
  const model = decodeModel(bytes);
  const graph = model.graph;
  if (!graph) throw invalidModel('the model has no graph');
  const domains = checkVersions(model);
  if (graph.node.length > MAX_NODES) {
    throw new Error(`unsupported ONNX model: the graph has ${formatCount(graph.node.length)} nodes, more than the importer's limit of ${formatCount(MAX_NODES)}`);
  }
  graph.node.forEach((node, position) => {
    // Error messages need a name even for unnamed nodes (the decoded message is ours to annotate).
    node.displayName = node.name || `${node.opType || 'node'}_${position}`;
    checkNodeStructure(node, domains);
  });
  return model;
}

// What every node needs before its operator is looked at: an imported domain, and outputs (ONNX requires one).
function checkNodeStructure(node, domains) {
  if (!node.opType) throw nodeError(node, 'the node has no operator type (its op_type is empty)');
  const domain = node.domain || 'ai.onnx';
  if (!domains.has(domain)) {
    throw unsupportedOperator(node, `the model does not import its domain '${domain}' (opset_import lists ${[...domains.keys()].join(', ')})`);
  }
  if (!node.output.some((name) => name)) throw nodeError(node, 'the node has no outputs');
}

/**
 * The engine's graph description of a decoded model.
 *
 * @param {object} model from decodeOnnx
 * @param {{ sequenceLength?: number }} [options] the length of the axes a token-id input declares dynamic
 *   (default 1): the graph is converted for that many tokens.
 * @returns {{
 *   inputName: string, inputShape: number[], inputType: 'float32'|'int64'|'int32', vocabularySize: number|null,
 *   dynamicAxes: number[], inputConstants: InputConstantProgram|null,
 *   outputName: string, outputSize: number,
 *   nodes: Array<{ name: string, kind: string, inputs: number[], outputShape: number[], ... }>,
 *   strippedSoftmax: false|'Softmax'|'LogSoftmax',
 * }}
 * Shapes are per sample (no batch axis). Nodes are in topological order; `inputs` holds indices of
 * earlier nodes, -1 being the graph input and -2 the per-input constants. Only nodes that feed the output
 * are kept, so the last node produces the output. Each node's other keys are the spec of its kind in
 * docs/layers.md. `vocabularySize` is the number of rows of the (smallest) embedding table of a token-id
 * model; `dynamicAxes` the per-sample axes of the input that the export declares dynamic; `inputConstants`
 * computes, per input, the values the `input-constant` nodes read (masks from the ids).
 */
export function convertOnnx(model, { sequenceLength = 1 } = {}) {
  const converter = new GraphConverter(model.graph, defaultOpset(model), sequenceLength);
  converter.convertAll();
  return converter.finish();
}

/** The ONNX operator types the importer converts on tensors computed from the input (Erf and Pow: inside GELU and LayerNorm). */
export { parameterCount } from './decode.js';

export const supportedOperators = Object.freeze([...new Set([...convertedOperators(), 'Erf', 'Pow'])].sort());

/** The operator types evaluated at load time when all their inputs are constants (shape arithmetic, …). */
export const foldedOperators = Object.freeze([...new Set(['Constant', ...foldableOperators()])].sort());

const FOLDABLE = new Set(foldableOperators());

const INPUT_TYPES = { [DataType.FLOAT]: 'float32', [DataType.INT64]: 'int64', [DataType.INT32]: 'int32' };

// ---------------------------------------------------------------------------------------------
// Tensor table entries
// ---------------------------------------------------------------------------------------------

/** A value computed from the graph input: engine node `node` (-1: the graph input). */
function activation(node, shape, batchAxis) {
  return { node, shape, batchAxis };
}

/** A value known at load time. */
function constant(tensor) {
  return { constant: tensor };
}

class GraphConverter {
  constructor(graph, opset, sequenceLength) {
    this.graph = graph;
    this.opset = opset;
    this.tensors = new Map();
    this.nodes = [];
    this.strippedSoftmax = false;
    this.vocabularySize = null;
    // Layer index → the one tensor name through which exactly one node reads the layer's output.
    // Only such a layer may absorb the node after it (bias Add, BatchNormalization).
    this.soleReader = new Map();

    // Cheap structural checks first, before any weight is decoded.
    const input = readGraphInput(graph, new Set(graph.initializer.map((tensor) => tensor.name)), sequenceLength);
    this.inputName = input.name;
    this.inputShape = input.shape;
    this.inputType = input.type;
    this.dynamicAxes = input.dynamicAxes;
    this.batchValue = input.batchValue;
    this.output = readGraphOutput(graph);
    this.consumers = countConsumers(graph);

    for (const initializer of graph.initializer) {
      this.tensors.set(initializer.name, constant(tensorFromProto(initializer, `initializer '${initializer.name}'`)));
    }
    const entry = activation(-1, input.shape, 0);
    // Token ids feed embedding lookups, and the program of tensors computed from them (masks).
    if (input.type !== 'float32') entry.fromIds = true;
    this.tensors.set(input.name, entry);
    this.program = input.type !== 'float32' ? new InputConstantProgram(input.name, input.shape, opset) : null;
    this.inputConstantNodes = new Map();  // computed tensor → its input-constant node's entry
  }

  convertAll() {
    const fusions = findFusions(this.graph);
    this.graph.node.forEach((node, position) => {
      const fusion = fusions.get(position);
      if (!fusion) withNode(node, () => this.convertNode(node));
      else if (fusion.anchor === position) withNode(node, () => this.convertFusion(fusion));
      // Other nodes of a fusion are built with it, at its last node.
    });
  }

  convertNode(node) {
    const isDefaultDomain = !node.domain || node.domain === 'ai.onnx';
    if (!isDefaultDomain) throw unsupportedOperator(node);
    if (node.opType === 'Constant') {
      this.setConstant(node.output[0], constantNodeValue(node));
      return;
    }
    const names = node.input.filter((name) => name);
    const known = FOLDABLE.has(node.opType) || Object.hasOwn(OPERATORS, node.opType);
    if (names.length === 0 && known) throw nodeError(node, 'the node has no inputs');
    if (known) checkRequiredInputs(node, this.opset);
    if (node.opType === 'Shape' || node.opType === 'Size') {
      this.foldShape(node);
      return;
    }
    if (names.length > 0 && names.every((name) => this.isConstant(node, name))) {
      const inputs = node.input.map((name) => (name ? this.tensors.get(name).constant : null));
      foldNode(node, inputs, this.opset).forEach((tensor, i) => { if (node.output[i]) this.setConstant(node.output[i], tensor); });
      return;
    }
    if (this.computesFromIds(node, names)) {
      this.addToProgram(node);
      return;
    }
    if (!Object.hasOwn(OPERATORS, node.opType)) throw unsupportedOperator(node);
    OPERATORS[node.opType](node, this);
  }

  /** Shape (and Size) of an activation: its ONNX shape with the batch size as the symbol BATCH. */
  foldShape(node) {
    const entry = this.lookup(node, node.input[0]);
    const dims = 'constant' in entry ? entry.constant.dims : symbolicShape(entry);
    const result = node.opType === 'Size'
      ? { dims: [], data: [product(dims.map(numeric))], type: 'int' }
      : shapeTensor(node, dims);
    this.setConstant(node.output[0], result);
  }

  /** A multi-node pattern (patterns.js): one layer, or its nodes one by one if a constant does not fit. */
  convertFusion(fusion) {
    const nodes = this.graph.node;
    const plan = this.activationEntry(fusion.input) ? fusion.build(this) : null;
    if (!plan) {
      fusion.nodes.forEach((i) => this.convertNode(nodes[i]));
      return;
    }
    const input = this.activationEntry(fusion.input);
    if (plan.kind === 'layernorm') {
      const node = nodes[plan.nodeIndex];
      this.addLayer(node, layernormNode(node, input, plan.axes, plan.epsilon, plan.weight, plan.bias), input.batchAxis, { output: plan.output });
      plan.rest.forEach((i) => this.convertNode(nodes[i]));
      return;
    }
    const node = nodes[fusion.anchor];
    this.addLayer(node, { kind: plan.kind, inputs: [input.node], outputShape: input.shape, ...plan.attributes }, input.batchAxis);
  }

  // --- lookups used by the operator handlers ---

  /** The table entry of `name`; a pending Pad becomes a layer now (its reader cannot absorb it). */
  entry(node, name) {
    const entry = this.lookup(node, name);
    return entry.pendingPad ? this.materializePad(entry) : entry;
  }

  /** The table entry of `name` as it is, possibly a pending Pad. */
  lookup(node, name) {
    if (!name) {
      const given = node.input.filter((input) => input).length;
      throw nodeError(node, `a required input is missing (the node has ${given} input${given === 1 ? '' : 's'}: [${node.input.map((input) => `'${input}'`).join(', ')}])`);
    }
    const entry = this.tensors.get(name);
    if (!entry) throw nodeError(node, `input '${name}' is not produced by any earlier node (missing tensor, or nodes not in topological order)`);
    return entry;
  }

  isConstant(node, name) {
    return 'constant' in this.lookup(node, name);
  }

  /**
   * A tensor computed from the graph input. One computed from the token ids alone (a mask) becomes a
   * per-input constant; the ids themselves only feed embedding lookups and such computations.
   */
  activation(node, name, role = 'input') {
    const entry = this.entry(node, name);
    if ('constant' in entry) throw nodeError(node, `${role} '${name}' must be computed from the graph input, but it is a constant`);
    if (entry.fromIds && entry.node === -1) {
      throw unsupportedOperator(node, `it reads the integer input '${name}' (token ids), which may only feed an embedding lookup Gather(table, ids) or a mask computed from them`);
    }
    if (entry.fromIds) return this.inputConstant(node, name);
    return entry;
  }

  /** Whether `name` is the token ids or a tensor computed from them alone. */
  isFromIds(name) {
    return Boolean(this.tensors.get(name)?.fromIds);
  }

  // A node all of whose inputs are constants or computed from the ids, with at least one of the latter,
  // joins the program of per-input constants; an embedding lookup Gather(float table, ids) does not.
  computesFromIds(node, names) {
    if (!this.program || !FOLDABLE.has(node.opType) || !names.some((name) => this.isFromIds(name))) return false;
    if (!names.every((name) => this.isFromIds(name) || this.isConstant(node, name))) return false;
    const isLookup = node.opType === 'Gather' && this.isConstant(node, node.input[0]) && this.tensors.get(node.input[0]).constant.type === 'float';
    return !isLookup;
  }

  addToProgram(node) {
    const inputs = node.input.map((name) => {
      if (!name) return null;
      const entry = this.lookup(node, name);
      return 'constant' in entry ? { tensor: entry.constant } : { name };
    });
    const outputs = this.program.add(node, inputs);
    node.output.forEach((name, k) => {
      if (!name) return;
      const { dims, batchAxis, type } = outputs[k];
      const shape = batchAxis === null ? [...dims] : dims.filter((_, i) => i !== batchAxis);
      this.tensors.set(name, { shape, batchAxis, dims, type, fromIds: true });
    });
  }

  /**
   * The `input-constant` node that holds tensor `name` (computed from the ids) for each input; with
   * `broadcastTo` (ONNX dims at batch size 1, whose batch axis is `batchAxis`) its values are broadcast to
   * them first, with `invert` a 0/1 mask is negated. Its entry has the per-sample shape and batch axis of the result.
   */
  inputConstant(node, name, { broadcastTo = null, batchAxis: targetBatchAxis = null, invert = false } = {}) {
    const entry = this.lookup(node, name);
    const key = `${name}|${broadcastTo ?? ''}|${targetBatchAxis}|${invert}`;
    if (this.inputConstantNodes.has(key)) return this.inputConstantNodes.get(key);
    const dims = broadcastTo ?? entry.dims;
    const batchAxis = broadcastTo ? targetBatchAxis : entry.batchAxis;
    const shape = batchAxis === null ? [...dims] : dims.filter((_, i) => i !== batchAxis);
    const { offset } = this.program.output(name, { dims: entry.dims, broadcastTo, invert });
    const index = this.addLayer(node, {
      kind: 'input-constant', inputs: [-2], outputShape: shape, offset, shape,
    }, batchAxis, { output: null, name: `${node.displayName}/mask` });
    const result = activation(index, shape, batchAxis);
    this.inputConstantNodes.set(key, result);
    return result;
  }

  /** A tensor known at load time (initializer, Constant node or folded sub-graph). */
  constant(node, name, role = 'input') {
    const entry = this.entry(node, name);
    if (!('constant' in entry)) {
      throw unsupportedOperator(node, `${role} '${name}' is computed from the graph input; only constant ${role}s are supported`);
    }
    return entry.constant;
  }

  floatConstant(node, name, role) {
    const tensor = this.constant(node, name, role);
    if (tensor.type !== 'float') throw nodeError(node, `${role} '${name}' must be a floating-point tensor`);
    return tensor;
  }

  intConstant(node, name, role, { allowBatch = false } = {}) {
    const tensor = this.constant(node, name, role);
    if (tensor.type !== 'int') throw nodeError(node, `${role} '${name}' must be an integer tensor`);
    if (!allowBatch && tensor.data.includes(BATCH)) throw nodeError(node, `${role} '${name}' depends on the batch size`);
    return tensor;
  }

  /** A float constant with exactly one element (scalar or [1]). */
  scalarFloat(node, name, role) {
    const tensor = this.floatConstant(node, name, role);
    if (tensor.data.length !== 1) throw nodeError(node, `${role} '${name}' must be a scalar, got shape [${tensor.dims}]`);
    return tensor.data[0];
  }

  // --- lookups used by the patterns: null instead of an error ---

  activationEntry(name) {
    const entry = this.tensors.get(name);
    if (!entry || 'constant' in entry || entry.fromIds) return null;
    return entry.pendingPad ? this.materializePad(entry) : entry;
  }

  floatConstantOrNull(name) {
    const entry = this.tensors.get(name);
    return entry && 'constant' in entry && entry.constant.type === 'float' ? entry.constant : null;
  }

  scalarValue(name) {
    const entry = this.tensors.get(name);
    if (!entry || !('constant' in entry) || entry.constant.data.length !== 1) return null;
    const value = numeric(entry.constant.data[0]);
    return Number.isFinite(value) ? value : null;
  }

  intValues(name) {
    const entry = this.tensors.get(name);
    return entry && 'constant' in entry && entry.constant.type === 'int' ? entry.constant.data.map(numeric) : null;
  }

  /** Whether `name` is a one-element constant within float32 rounding of `value`. */
  constantNear(name, value) {
    const actual = name ? this.scalarValue(name) : null;
    return actual !== null && Math.abs(actual - value) <= 1e-5 * Math.max(1, Math.abs(value));
  }

  consumerCount(name) {
    return this.consumers.get(name) ?? 0;
  }

  /** The layer computing `name` if the current node is the only reader of its output, else null. */
  exclusiveLayer(name) {
    const entry = this.tensors.get(name);
    if (!entry || !('node' in entry) || entry.node < 0) return null;
    return this.soleReader.get(entry.node) === name && this.consumerCount(name) === 1 ? this.nodes[entry.node] : null;
  }

  noteVocabulary(size) {
    this.vocabularySize = this.vocabularySize === null ? size : Math.min(this.vocabularySize, size);
  }

  checkLayerShape(node, shape) {
    checkShape(shape, () => `ONNX node '${node.displayName}' (${node.opType}) output`);
  }

  // --- results of the operator handlers ---

  /**
   * Adds an engine node for ONNX `node` and records its output (node.output[0], or `output`; null: an
   * internal node of a pair) with `batchAxis`. Returns the new node's index.
   */
  addLayer(node, layer, batchAxis, { output = node.output[0], name = node.displayName } = {}) {
    this.checkLayerShape(node, layer.outputShape);
    const index = this.nodes.length;
    this.nodes.push({ name, ...layer });
    if (output === null) return index;
    this.tensors.set(output, activation(index, layer.outputShape, batchAxis ?? null));
    if (this.consumerCount(output) === 1) this.soleReader.set(index, output);
    return index;
  }

  /** An `expand` node broadcasting `input` to symbolic ONNX dims; its entry (recorded as `output` if given). */
  expand(node, input, symbolic, output = null) {
    const { shape, batchAxis } = fromSymbolic(symbolic);
    const index = this.addLayer(node, { kind: 'expand', inputs: [input.node], outputShape: shape }, batchAxis, {
      output, name: output === null ? `${node.displayName}/expand` : node.displayName,
    });
    return activation(index, shape, batchAxis);
  }

  /** A zero Pad read by one node: a Conv or AveragePool may absorb it, any other reader materializes it. */
  pendingPad(padNode, source, shape, pads) {
    this.tensors.set(padNode.output[0], { shape, batchAxis: source.batchAxis, pendingPad: { padNode, source, pads } });
  }

  materializePad(entry) {
    const { padNode, source, pads } = entry.pendingPad;
    this.addLayer(padNode, { kind: 'pad', inputs: [source.node], outputShape: entry.shape, pads, value: 0 }, source.batchAxis);
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

  // --- final assembly ---

  /** Drops the per-input constants whose nodes were dropped, and renumbers the offsets of the rest. */
  keepInputConstants(nodes) {
    if (!this.program) return nodes;
    const kept = nodes.filter((node) => node.kind === 'input-constant');
    const offsets = this.program.retain(kept.map((node) => node.offset));
    return nodes.map((node) => (node.kind === 'input-constant' ? { ...node, offset: offsets.get(node.offset) } : node));
  }

  finish() {
    let outputEntry = this.tensors.get(this.output.name);
    if (!outputEntry) throw invalidModel(`no node produces the graph output '${this.output.name}'`);
    if (outputEntry.pendingPad) outputEntry = this.materializePad(outputEntry);
    if ('constant' in outputEntry) throw invalidModel(`the graph output '${this.output.name}' does not depend on the input`);
    if (outputEntry.fromIds && outputEntry.node !== -1) {
      throw invalidModel(`the graph output '${this.output.name}' is computed from the token ids without an embedding lookup; ids may only feed embedding lookups Gather(table, ids) and masks`);
    }
    if (this.output.name === this.inputName) throw invalidModel(`the graph output '${this.output.name}' is the input itself; the model has no layers`);
    if (outputEntry.node === -1) {
      // Every node was the identity per sample (e.g. a Transpose that only moves the batch axis).
      const index = this.nodes.length;
      this.nodes.push({ name: this.output.name, kind: 'identity', inputs: [-1], outputShape: outputEntry.shape });
      outputEntry = { ...outputEntry, node: index };
    }
    checkOutputBatch(this.output, outputEntry);
    checkDeclaredOutputShape(this.output, outputEntry);

    return {
      inputName: this.inputName,
      inputShape: this.inputShape,
      inputType: this.inputType,
      vocabularySize: this.vocabularySize,
      dynamicAxes: this.dynamicAxes,
      inputConstants: this.program && this.program.size > 0 ? this.program : null,
      outputName: this.output.name,
      outputSize: product(outputEntry.shape),
      nodes: this.keepInputConstants(keepNodesFeeding(this.nodes, outputEntry.node)),
      strippedSoftmax: this.strippedSoftmax,
    };
  }
}

/**
 * Runs the conversion of `node`; an error that does not name it (from a helper, or a JavaScript error on input no
 * check foresaw) is given its name and operator, so that every load error says where the problem is.
 */
// ONNX marks an omitted optional input with an empty name. How many leading inputs each operator requires (its
// schema's minimum arity at the model's opset; variadic operators: every input given); 1 for the rest.
const VARIADIC = new Set(['Concat', 'Sum', 'Min', 'Max']);
function requiredInputCount(opType, opset) {
  switch (opType) {
    case 'BatchNormalization': return 5;
    case 'Where': case 'Range': case 'ScatterND': return 3;
    case 'Slice': return opset >= 10 ? 3 : 1;
    case 'Pad': return opset >= 11 ? 2 : 1;
    case 'Unsqueeze': return opset >= 13 ? 2 : 1;
    case 'Gemm': case 'MatMul': case 'Conv': case 'PRelu': case 'Reshape': case 'Gather': case 'Expand': case 'Tile':
    case 'LayerNormalization': case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Mod': case 'And':
    case 'Or': case 'Xor': case 'Equal': case 'Less': case 'LessOrEqual': case 'Greater': case 'GreaterOrEqual':
      return 2;
    default: return 1;
  }
}

/** Refuses a node whose required input is omitted (an empty name) before any converter reads it as absent. */
function checkRequiredInputs(node, opset) {
  const required = VARIADIC.has(node.opType) ? node.input.length : requiredInputCount(node.opType, opset);
  for (let i = 0; i < required; i++) {
    if (node.input[i]) continue;
    const what = i < node.input.length ? `is omitted (an empty name)` : 'is missing';
    throw nodeError(node, `input ${i + 1} ${what}, but ${node.opType} requires ${VARIADIC.has(node.opType) ? 'every input' : `${required} input${required === 1 ? '' : 's'}`} ` +
      `(the node has [${node.input.map((input) => `'${input}'`).join(', ')}])`);
  }
}

function withNode(node, convert) {
  try {
    convert();
  } catch (error) {
    if (!(error instanceof Error) || error.message.includes(`'${node.displayName}'`)) throw error;
    const internal = error instanceof TypeError || error instanceof RangeError;
    const wrapped = nodeError(node, internal ? `the importer could not convert it (${error.message})` : error.message);
    wrapped.cause = error;
    throw wrapped;
  }
}

function readGraphInput(graph, initializerNames, sequenceLength) {
  // Old exporters (IR < 4) list the initializers among the inputs too.
  const inputs = graph.input.filter((info) => !initializerNames.has(info.name));
  if (inputs.length === 0) throw invalidModel('the graph has no input');
  if (inputs.length > 1) {
    throw invalidModel(`the graph has ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}); exactly one is supported`);
  }
  const info = inputs[0];
  const tensorType = info.type?.tensorType;
  if (!tensorType) throw invalidModel(`the input '${info.name}' is not a tensor`);
  if (!Object.hasOwn(INPUT_TYPES, tensorType.elemType)) {
    throw new Error(`unsupported ONNX model: the input '${info.name}' has element type ${dataTypeName(tensorType.elemType)}; only float32 inputs and int64/int32 token ids are supported`);
  }
  const dims = tensorType.shape?.dim;
  if (!dims) throw invalidModel(`the input '${info.name}' has no shape`);
  checkRank(dims.length, `the input '${info.name}'`);
  if (dims.length < 2) {
    throw invalidModel(`the input '${info.name}' must have a batch dimension followed by at least one more dimension, got rank ${dims.length}`);
  }
  const type = INPUT_TYPES[tensorType.elemType];
  const dynamicAxes = [];
  const shape = dims.slice(1).map((dim, i) => {
    const size = dim.value === 'dimValue' ? toSafeInteger(dim.dimValue) : null;
    if (size !== null) return size;
    // A token model's sequence may be dynamic: the graph is converted for the length at hand.
    if (type !== 'float32') {
      dynamicAxes.push(i);
      return sequenceLength;
    }
    throw invalidModel(`the input '${info.name}' has an unknown size in dimension ${i + 1} ('${dim.dimParam || '?'}'); only the batch dimension (and the sequence of token ids) may be dynamic`);
  });
  checkShape(shape, () => `the input '${info.name}'`);
  const batch = dims[0];
  return {
    name: info.name, shape, type, dynamicAxes,
    batchValue: batch.value === 'dimValue' ? toSafeInteger(batch.dimValue) : null,
  };
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

/**
 * The output must be [batch, ...] (or have its batch axis behind size-1 axes), or, once the batch was
 * merged, start with the size-1 axis it became: per sample it is then the outputs alone.
 */
function checkOutputBatch(output, entry) {
  const full = symbolicShape(entry);
  const before = entry.batchAxis === null ? [] : full.slice(0, entry.batchAxis);
  const fine = entry.batchAxis === null ? full[0] === 1 : before.every((dim) => dim === 1);
  if (!fine) {
    throw invalidModel(`the graph output '${output.name}' of shape ${describeShape(entry)} does not keep the batch as its first axis`);
  }
}

/** A declared output shape that disagrees with the inferred one means we misread the graph. */
function checkDeclaredOutputShape(output, entry) {
  const dims = output.type?.tensorType?.shape?.dim;
  const full = symbolicShape(entry);
  if (!dims || dims.length !== full.length) return;
  const declared = dims.map((dim) => (dim.value === 'dimValue' ? toSafeInteger(dim.dimValue) : null));
  const mismatch = declared.some((size, i) => size !== null && full[i] !== BATCH && size !== full[i]);
  if (mismatch) {
    const shown = entry.batchAxis === 0 ? declared.slice(1) : declared;
    const computed = entry.batchAxis === 0 ? entry.shape : full.map(numeric);
    throw invalidModel(`the graph output '${output.name}' is declared with shape [${shown.map((d) => d ?? '?')}] but computes [${computed}]`);
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
  const newIndex = new Map([[-1, -1], [-2, -2]]);
  const kept = [];
  nodes.forEach((node, i) => {
    if (!needed[i]) return;
    newIndex.set(i, kept.length);
    kept.push({ ...node, inputs: node.inputs.map((input) => newIndex.get(input)) });
  });
  return kept;
}
