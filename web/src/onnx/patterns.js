// Fusions: several ONNX nodes that mean one engine layer.
//
// - Activations PyTorch decomposes: SiLU x·Sigmoid(x) → `silu`; x·HardSigmoid(x) (HardSwish before
//   opset 14) → `hard-swish`; GELU's Erf form x·(1 + erf(x/√2))·0.5 and tanh form
//   x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))·0.5, in any operand order → `gelu`.
// - LayerNorm decomposed: ReduceMean → Sub → Pow(2) → ReduceMean → Add(eps) → Sqrt → Div → Mul(w) →
//   Add(b) → `layernorm` (as LayerNormalization of opset 17).
// - Linear layers absorb what follows them: a constant Add becomes the bias of a dense layer, a
//   BatchNormalization is folded into the Conv/dense layer before it, a zero Pad into the Conv or
//   AveragePool after it; a trailing Softmax is stripped.
//
// Multi-node fusions are found before conversion, on the graph's structure (findFusions): their inner
// nodes are skipped and the fusion is built when the converter reaches its last node, where every
// constant it needs is known. If a constant turns out wrong (not √2, not 0.5, …) the nodes are
// converted one by one instead, and an Erf or Pow alone is then an unsupported operator.

import { attrFloat, attrInt, attrInts, nodeError, normalizeAxis, product, range, sameDims } from './decode.js';
import { broadcastShapes, expandTensor } from './fold.js';
import { describeShape, sampleAxis, symbolicShape } from './operators.js';

// ---------------------------------------------------------------------------------------------
// Single-node absorptions used by the operator handlers
// ---------------------------------------------------------------------------------------------

/**
 * A constant Add after a dense layer that nothing else reads becomes (part of) its bias, when the
 * constant varies along the last axis only (PyTorch's Linear as MatMul + Add). Returns whether it did.
 */
export function fuseBias(ctx, node, tensorName, constant, transform) {
  const layer = ctx.exclusiveLayer(tensorName);
  if (!layer || layer.kind !== 'dense') return false;
  const input = ctx.activation(node, tensorName);
  const out = layer.outputShape[layer.outputShape.length - 1];
  const { dims } = constant;
  const last = dims.length > 0 ? dims[dims.length - 1] : 1;
  const alongLastOnly = dims.slice(0, -1).every((d) => d === 1) && (last === 1 || last === out);
  if (!alongLastOnly || dims.length > symbolicShape(input).length) return false;
  const bias = layer.bias ?? new Float32Array(out);
  for (let o = 0; o < out; o++) bias[o] += transform(constant.data[last === 1 ? 0 : o]);
  layer.bias = bias;
  ctx.alias(node.output[0], input, tensorName);
  return true;
}

/**
 * Folds y = scale_c·x + shift_c into the Conv or dense layer computing x when nothing else reads it
 * (RULES.md): W' = W·s per output channel, b' = b·s + shift. A dense layer qualifies only when its
 * outputs are the channels (a 1-D per-sample output). Returns whether it did.
 */
export function fuseBatchNorm(ctx, node, xName, input, scale, shift) {
  const layer = ctx.exclusiveLayer(xName);
  if (!layer) return false;
  const isConv = layer.kind === 'conv';
  const isFeatureDense = layer.kind === 'dense' && layer.outputShape.length === 1;
  if (!isConv && !isFeatureDense) return false;
  const channels = scale.length;
  // Row o of either weight layout holds the weights into output channel o.
  const rowLength = layer.weight.length / channels;
  const bias = new Float32Array(channels);
  for (let o = 0; o < channels; o++) {
    for (let k = o * rowLength; k < (o + 1) * rowLength; k++) layer.weight[k] *= scale[o];
    bias[o] = (layer.bias ? layer.bias[o] : 0) * scale[o] + shift[o];  // (b − μ)·s + β
  }
  layer.bias = bias;
  ctx.alias(node.output[0], input, xName);
  return true;
}

/**
 * The input of a Conv/AveragePool and, when it is a pending zero Pad of the spatial axes that
 * `accept(source, extraPads)` allows, that Pad's spatial pads [begin..., end...] to add to the reader's own.
 */
export function padToAbsorb(ctx, node, name, accept) {
  const entry = ctx.lookup(node, name);
  const pending = entry.pendingPad;
  if (pending) {
    const rank = pending.pads.length / 2;
    const channelsPadded = pending.pads[0] !== 0 || pending.pads[rank] !== 0;
    const extraPads = [...pending.pads.slice(1, rank), ...pending.pads.slice(rank + 1)];
    if (!channelsPadded && pending.source.batchAxis === 0 && accept(pending.source, extraPads)) {
      return { input: pending.source, extraPads, absorbed: true };
    }
  }
  return { input: ctx.activation(node, name), extraPads: null, absorbed: false };
}

/** A node whose output is the graph output and read by nothing else. */
export function isTrailing(ctx, node) {
  return node.output[0] === ctx.output.name && ctx.consumerCount(node.output[0]) === 1;
}

/**
 * A `layernorm` node normalising `input` over the ONNX axes `fullAxes` (which must be the last ones),
 * with Scale and B broadcast to the normalised part (B may be null).
 */
export function layernormNode(node, input, fullAxes, epsilon, scale, bias) {
  const axes = [...new Set(fullAxes.map((a) => sampleAxis(node, input, a, 'normalization axis')))].sort((a, b) => a - b);
  const rank = input.shape.length;
  const axis = axes[0];
  if (!sameDims(axes, range(rank - axis).map((i) => axis + i))) {
    throw nodeError(node, `normalises over axes [${fullAxes}] of ${describeShape(input)}; only the last axes are supported`);
  }
  const normalized = input.shape.slice(axis);
  const spread = (tensor, role) => {
    if (!tensor) return null;
    const broadcast = tensor.dims.length <= normalized.length ? broadcastShapesSafe(normalized, tensor.dims) : null;
    const fits = broadcast !== null && sameDims(broadcast, normalized);
    if (!fits) throw nodeError(node, `${role} of shape [${tensor.dims}] does not broadcast to the normalised shape [${normalized}]`);
    return Float32Array.from(expandTensor(tensor, normalized).data);
  };
  const scaleData = scale ? spread(scale, 'scale') : new Float32Array(product(normalized)).fill(1);
  if (!(epsilon >= 0)) throw nodeError(node, `epsilon ${epsilon} must be ≥ 0`);
  return { kind: 'layernorm', inputs: [input.node], outputShape: input.shape, axis, epsilon, scale: scaleData, bias: spread(bias, 'bias') };
}

function broadcastShapesSafe(a, b) {
  try {
    return broadcastShapes({ displayName: '', opType: '' }, [a, b]);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Multi-node fusions
// ---------------------------------------------------------------------------------------------

/**
 * Finds the fusions of a graph. Returns a Map from node position to its fusion; every node of a fusion
 * maps to it, and `fusion.anchor` is the position of its last node, where it is built.
 */
export function findFusions(graph) {
  const g = graphIndex(graph);
  const fusions = new Map();
  const claim = (fusion) => {
    if (!fusion || fusion.nodes.some((i) => fusions.has(i))) return;
    fusion.nodes.sort((a, b) => a - b);
    fusion.anchor = fusion.nodes[fusion.nodes.length - 1];
    fusion.nodes.forEach((i) => fusions.set(i, fusion));
  };
  graph.node.forEach((node, i) => {
    if (node.domain && node.domain !== 'ai.onnx') return;
    if (node.opType === 'Erf') claim(matchGeluErf(g, i));
    else if (node.opType === 'Tanh') claim(matchGeluTanh(g, i));
    else if (node.opType === 'Sigmoid') claim(matchGated(g, i, 'silu'));
    else if (node.opType === 'HardSigmoid') claim(matchGated(g, i, 'hard-swish'));
    else if (node.opType === 'ReduceMean') claim(matchLayerNorm(g, i));
  });
  return fusions;
}

/** Producers and readers of every tensor name. */
function graphIndex(graph) {
  const producer = new Map();
  const readers = new Map();
  const outputs = new Set(graph.output.map((o) => o.name));
  graph.node.forEach((node, i) => {
    node.output.forEach((name) => { if (name) producer.set(name, i); });
    node.input.forEach((name) => {
      if (!name) return;
      if (!readers.has(name)) readers.set(name, []);
      readers.get(name).push(i);
    });
  });
  const nodes = graph.node;
  const isDefault = (node) => !node.domain || node.domain === 'ai.onnx';
  return {
    nodes,
    /** The position of the node producing `name` if it is an `op` node, else -1. */
    producedBy(name, op) {
      const i = producer.get(name);
      return i !== undefined && nodes[i].opType === op && isDefault(nodes[i]) ? i : -1;
    },
    /** The position of the only reader of `name` if it is an `op` node and `name` is internal, else -1. */
    onlyReader(name, op) {
      const list = readers.get(name) ?? [];
      if (list.length !== 1 || outputs.has(name)) return -1;
      const node = nodes[list[0]];
      return node.opType === op && isDefault(node) ? list[0] : -1;
    },
    readers: (name) => readers.get(name) ?? [],
    isOutput: (name) => outputs.has(name),
  };
}

/** The input of binary `node` other than `name` (null if `name` is not one of exactly two inputs). */
function other(node, name) {
  if (node.input.length !== 2) return null;
  if (node.input[0] === name) return node.input[1];
  if (node.input[1] === name) return node.input[0];
  return null;
}

/** x·gate(x) with the gate read only by that Mul: SiLU (Sigmoid), HardSwish (HardSigmoid(1/6, 1/2)). */
function matchGated(g, gateIndex, kind) {
  const gate = g.nodes[gateIndex];
  const x = gate.input[0];
  const mul = g.onlyReader(gate.output[0], 'Mul');
  if (mul < 0 || other(g.nodes[mul], gate.output[0]) !== x) return null;
  if (kind === 'hard-swish') {
    const near = (a, b) => Math.abs(a - b) <= 1e-6;
    if (!near(attrFloat(gate, 'alpha', 0.2), 1 / 6) || !near(attrFloat(gate, 'beta', 0.5), 0.5)) return null;
  }
  return {
    nodes: [gateIndex, mul], input: x,
    build: () => ({ kind, attributes: {} }),
  };
}

/**
 * The end of both GELU forms: t = 1 + f(·) (the Add `addIndex`) times x and 0.5, as
 * Mul(Mul(x, t), 0.5), Mul(Mul(t, 0.5), x) or Mul(Mul(x, 0.5), t) in any operand order.
 * `isX(name)` says whether a tensor can be x. Returns { nodes, x, half } or null.
 */
function matchGeluTail(g, addIndex, isX) {
  const t = g.nodes[addIndex].output[0];
  const q1 = g.onlyReader(t, 'Mul');
  if (q1 < 0) return null;
  const o1 = other(g.nodes[q1], t);
  const q2 = g.onlyReader(g.nodes[q1].output[0], 'Mul');
  if (q2 >= 0) {
    const o2 = other(g.nodes[q2], g.nodes[q1].output[0]);
    if (isX(o1) && o2) return { nodes: [q1, q2], x: o1, half: o2 };
    if (isX(o2)) return { nodes: [q1, q2], x: o2, half: o1 };
  }
  const h = g.producedBy(o1, 'Mul');
  if (h >= 0 && g.onlyReader(o1, 'Mul') === q1) {
    const [a, b] = g.nodes[h].input;
    if (isX(a)) return { nodes: [h, q1], x: a, half: b };
    if (isX(b)) return { nodes: [h, q1], x: b, half: a };
  }
  return null;
}

/** GELU, Erf form: Div(x, √2) (or Mul(x, 1/√2)) → Erf → Add(1) → the tail. */
function matchGeluErf(g, erfIndex) {
  const erf = g.nodes[erfIndex];
  const a = erf.input[0];
  const div = g.producedBy(a, 'Div');
  const scale = div >= 0 ? div : g.producedBy(a, 'Mul');
  if (scale < 0 || g.onlyReader(a, 'Erf') !== erfIndex) return null;
  const scaleNode = g.nodes[scale];
  const add = g.onlyReader(erf.output[0], 'Add');
  if (add < 0) return null;
  const one = other(g.nodes[add], erf.output[0]);
  // Div's x is its numerator; Mul's x is either operand.
  const isX = (name) => (div >= 0 ? scaleNode.input[0] === name : scaleNode.input.includes(name));
  const tail = matchGeluTail(g, add, isX);
  if (!tail || !one) return null;
  const factor = other(scaleNode, tail.x);
  const expected = div >= 0 ? Math.SQRT2 : Math.SQRT1_2;
  return {
    nodes: [scale, erfIndex, add, ...tail.nodes], input: tail.x,
    build: (ctx) => (ctx.constantNear(factor, expected) && ctx.constantNear(one, 1) && ctx.constantNear(tail.half, 0.5)
      ? { kind: 'gelu', attributes: { approximate: 'none' } } : null),
  };
}

/** GELU, tanh form: x + 0.044715·x³ → ·√(2/π) → Tanh → Add(1) → the tail (x³ as Pow(x, 3) or x·x·x). */
function matchGeluTanh(g, tanhIndex) {
  const tanh = g.nodes[tanhIndex];
  const inner = tanh.input[0];
  const mb = g.producedBy(inner, 'Mul');
  if (mb < 0 || g.onlyReader(inner, 'Tanh') !== tanhIndex) return null;
  for (const u of g.nodes[mb].input) {
    const au = g.producedBy(u, 'Add');
    if (au < 0 || g.onlyReader(u, 'Mul') !== mb) continue;
    for (const v of g.nodes[au].input) {
      const mk = g.producedBy(v, 'Mul');
      const x = other(g.nodes[au], v);
      if (mk < 0 || !x || g.onlyReader(v, 'Add') !== au) continue;
      const cube = matchCube(g, mk, x);
      if (!cube) continue;
      const add = g.onlyReader(tanh.output[0], 'Add');
      if (add < 0) return null;
      const one = other(g.nodes[add], tanh.output[0]);
      const tail = matchGeluTail(g, add, (name) => name === x);
      if (!tail || !one) return null;
      const beta = other(g.nodes[mb], u);
      const kappa = other(g.nodes[mk], cube.output);
      return {
        nodes: [...cube.nodes, mk, au, mb, tanhIndex, add, ...tail.nodes], input: x,
        build: (ctx) => (ctx.constantNear(beta, Math.sqrt(2 / Math.PI)) && ctx.constantNear(kappa, 0.044715)
          && (!cube.exponent || ctx.constantNear(cube.exponent, 3)) && ctx.constantNear(one, 1) && ctx.constantNear(tail.half, 0.5)
          ? { kind: 'gelu', attributes: { approximate: 'tanh' } } : null),
      };
    }
  }
  return null;
}

/** x³ read by the Mul `mk`: Pow(x, 3), or Mul(x, Mul(x, x)) in any order. */
function matchCube(g, mk, x) {
  for (const c of g.nodes[mk].input) {
    if (g.onlyReader(c, 'Mul') !== mk) continue;
    const pow = g.producedBy(c, 'Pow');
    if (pow >= 0 && g.nodes[pow].input[0] === x) return { nodes: [pow], output: c, exponent: g.nodes[pow].input[1] };
    const m1 = g.producedBy(c, 'Mul');
    if (m1 < 0) continue;
    const sq = other(g.nodes[m1], x);
    const m2 = sq ? g.producedBy(sq, 'Mul') : -1;
    if (m2 >= 0 && g.onlyReader(sq, 'Mul') === m1 && g.nodes[m2].input.every((name) => name === x)) {
      return { nodes: [m2, m1], output: c, exponent: null };
    }
  }
  return null;
}

/**
 * LayerNorm: m = ReduceMean(x); d = x − m; v = ReduceMean(d²); y = d / √(v + eps); then optionally
 * y·w and + b. The tail (w, b) is fused only where its operand is a constant of the normalised shape.
 */
function matchLayerNorm(g, meanIndex) {
  const mean = g.nodes[meanIndex];
  const x = mean.input[0];
  const sub = g.onlyReader(mean.output[0], 'Sub');
  if (sub < 0 || g.nodes[sub].input[0] !== x || g.nodes[sub].input[1] !== mean.output[0]) return null;
  const d = g.nodes[sub].output[0];
  const dReaders = g.readers(d);
  if (dReaders.length !== 2 || g.isOutput(d)) return null;
  const pow = dReaders.find((i) => g.nodes[i].opType === 'Pow' && g.nodes[i].input[0] === d);
  const div = dReaders.find((i) => g.nodes[i].opType === 'Div' && g.nodes[i].input[0] === d);
  if (pow === undefined || div === undefined) return null;
  const variance = g.onlyReader(g.nodes[pow].output[0], 'ReduceMean');
  const addEps = variance >= 0 ? g.onlyReader(g.nodes[variance].output[0], 'Add') : -1;
  const sqrt = addEps >= 0 ? g.onlyReader(g.nodes[addEps].output[0], 'Sqrt') : -1;
  if (sqrt < 0 || g.onlyReader(g.nodes[sqrt].output[0], 'Div') !== div || g.nodes[div].input[1] !== g.nodes[sqrt].output[0]) return null;
  const core = [meanIndex, sub, pow, variance, addEps, sqrt, div];
  let last = g.nodes[div].output[0];
  const mulW = g.onlyReader(last, 'Mul');
  const weightName = mulW >= 0 ? other(g.nodes[mulW], last) : null;
  const addB = mulW >= 0 ? g.onlyReader(g.nodes[mulW].output[0], 'Add') : -1;
  const biasName = addB >= 0 ? other(g.nodes[addB], g.nodes[mulW].output[0]) : null;
  const tail = [mulW, addB].filter((i) => i >= 0);
  return {
    nodes: [...core, ...tail], input: x,
    build: (ctx) => {
      const axesOf = (node) => (node.input[1] ? ctx.intValues(node.input[1]) : attrInts(node, 'axes'));
      const [a1, a2] = [mean, g.nodes[variance]].map(axesOf);
      const keep = [mean, g.nodes[variance]].every((node) => attrInt(node, 'keepdims', 1) === 1);
      const epsName = other(g.nodes[addEps], g.nodes[variance].output[0]);
      const epsilon = ctx.scalarValue(epsName);
      if (!a1 || !a2 || !keep || epsilon === null || !ctx.constantNear(g.nodes[pow].input[1], 2)) return null;
      const input = ctx.activationEntry(x);
      if (!input) return null;
      const rank = symbolicShape(input).length;
      const [n1, n2] = [a1, a2].map((axes) => [...new Set(axes.map((a) => normalizeAxis(g.nodes[meanIndex], a, rank)))].sort());
      if (!sameDims(n1, n2)) return null;
      const weight = weightName ? ctx.floatConstantOrNull(weightName) : null;
      const bias = weight && biasName ? ctx.floatConstantOrNull(biasName) : null;
      // The layer must produce what the last fused node produced; unfused tail nodes follow it.
      const fusedTail = weight ? (bias ? [mulW, addB] : [mulW]) : [];
      return {
        kind: 'layernorm', axes: n1, epsilon, weight, bias,
        output: g.nodes[fusedTail.length ? fusedTail[fusedTail.length - 1] : div].output[0],
        nodeIndex: fusedTail.length ? fusedTail[fusedTail.length - 1] : div,
        rest: tail.filter((i) => !fusedTail.includes(i)),
      };
    },
  };
}
