// A plain-JS forward pass over a parsed spec (see web/src/onnx/ and docs/layers.md), in float64, with
// naive loops over per-sample N-D tensors. It is the oracle that says whether parseOnnx kept the model's
// meaning; the engine is not involved. Each function gets the node, its input values (flat
// Float64Arrays, row-major, no batch axis) and their shapes.

const product = (dims) => dims.reduce((a, b) => a * b, 1);

function strides(dims) {
  const s = new Array(dims.length);
  let stride = 1;
  for (let i = dims.length - 1; i >= 0; i--) { s[i] = stride; stride *= dims[i]; }
  return s;
}

/** Calls f(index[], flat) for every element of `dims` in row-major order. */
function forEachIndex(dims, f) {
  const count = product(dims);
  const index = new Array(dims.length).fill(0);
  for (let k = 0; k < count; k++) {
    f(index, k);
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      if (++index[axis] < dims[axis]) break;
      index[axis] = 0;
    }
  }
}

/** Value of `x` (shape `dims`) at output index `index` of `outDims` under numpy broadcasting. */
function broadcastReader(x, dims, outDims) {
  const offset = outDims.length - dims.length;
  const s = strides(dims);
  return (index) => {
    let flat = 0;
    for (let i = 0; i < dims.length; i++) if (dims[i] !== 1) flat += index[i + offset] * s[i];
    return x[flat];
  };
}

function binary(f) {
  return (node, inputs, shapes) => {
    if (inputs.length === 1) {
      if (node.constant.length !== inputs[0].length) throw new Error(`reference forward: '${node.name}' constant has ${node.constant.length} values for ${inputs[0].length}`);
      return inputs[0].map((v, i) => f(v, node.constant[i]));
    }
    const [a, b] = inputs.map((x, i) => broadcastReader(x, shapes[i], node.outputShape));
    const y = new Float64Array(product(node.outputShape));
    forEachIndex(node.outputShape, (index, k) => { y[k] = f(a(index), b(index)); });
    return y;
  };
}

function erf(x) {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = 1 - t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : -y;
}

/** Reduces `x` (shape `dims`) over `axes` (keepdims layout), then `finish` per output. */
function reduceOver(x, dims, axes, init, step, finish = (acc) => acc) {
  const outDims = dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = strides(outDims);
  const acc = new Float64Array(product(outDims)).fill(init);
  const n = new Float64Array(acc.length);
  forEachIndex(dims, (index, k) => {
    let o = 0;
    for (let i = 0; i < dims.length; i++) if (!axes.includes(i)) o += index[i] * s[i];
    acc[o] = step(acc[o], x[k]);
    n[o]++;
  });
  return acc.map((v, i) => finish(v, n[i]));
}

const FORWARD = {
  dense(node, [x], [shape]) {
    const inFeatures = shape[shape.length - 1];
    const outFeatures = node.outputShape[node.outputShape.length - 1];
    const rows = x.length / inFeatures;
    const y = new Float64Array(rows * outFeatures);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outFeatures; o++) {
        let sum = node.bias ? node.bias[o] : 0;
        for (let k = 0; k < inFeatures; k++) sum += node.weight[o * inFeatures + k] * x[r * inFeatures + k];
        y[r * outFeatures + o] = sum;
      }
    }
    return y;
  },

  conv(node, [x], [[channels, ...spatial]]) {
    const [outChannels, ...outSpatial] = node.outputShape;
    const { weight, bias, kernel, strides: st, pads, dilations, group } = node;
    const rank = spatial.length;
    const inPerGroup = channels / group;
    const outPerGroup = outChannels / group;
    const y = new Float64Array(product(node.outputShape));
    const kernelSize = product(kernel);
    forEachIndex(node.outputShape, ([o, ...out], k) => {
      const firstChannel = Math.floor(o / outPerGroup) * inPerGroup;
      let sum = bias ? bias[o] : 0;
      for (let c = 0; c < inPerGroup; c++) {
        forEachIndex(kernel, (kk, kFlat) => {
          let flat = firstChannel + c;
          for (let i = 0; i < rank; i++) {
            const at = out[i] * st[i] - pads[i] + kk[i] * dilations[i];
            if (at < 0 || at >= spatial[i]) return;
            flat = flat * spatial[i] + at;
          }
          sum += weight[(o * inPerGroup + c) * kernelSize + kFlat] * x[flat];
        });
      }
      y[k] = sum;
    });
    return y;
  },

  maxpool(node, [x], [shape]) {
    return pool(node, x, shape, (cells) => Math.max(...cells), { needsInput: true });
  },

  avgpool(node, [x], [shape]) {
    const rank = shape.length - 1;
    return pool(node, x, shape, (cells, window) => {
      const sum = cells.reduce((acc, v) => acc + v, 0);
      if (!node.countIncludePad) return sum / cells.length;
      // Padded cells count; cells of a ceil-mode window beyond the padded input do not.
      const inPadded = window.filter((at) => at.every((p, i) => p >= -node.pads[i] && p < shape[i + 1] + node.pads[i + rank]));
      return sum / inPadded.length;
    }, { needsInput: !node.countIncludePad });
  },

  'global-avgpool': (node, [x], [[channels]]) => reduceOver(x, [channels, x.length / channels], [1], 0, (a, v) => a + v, (a, n) => a / n),
  'global-maxpool': (node, [x], [[channels]]) => reduceOver(x, [channels, x.length / channels], [1], -Infinity, Math.max),

  batchnorm(node, [x], [shape]) {
    const perChannel = x.length / shape[0];
    return x.map((v, i) => node.scale[Math.floor(i / perChannel)] * v + node.shift[Math.floor(i / perChannel)]);
  },

  add: binary((a, b) => a + b),
  sub: binary((a, b) => a - b),
  mul: binary((a, b) => a * b),
  div: binary((a, b) => a / b),

  matmul(node, [a, b], [sa, sb]) {
    const [m, k] = sa.slice(-2);
    const n = sb[sb.length - 1];
    const lead = node.outputShape.slice(0, -2);
    const ra = broadcastReader(range(product(sa.slice(0, -2))), sa.slice(0, -2), lead);
    const rb = broadcastReader(range(product(sb.slice(0, -2))), sb.slice(0, -2), lead);
    const y = new Float64Array(product(node.outputShape));
    forEachIndex(lead, (index, batch) => {
      const [ba, bb] = [ra(index), rb(index)];
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += a[(ba * m + i) * k + p] * b[(bb * k + p) * n + j];
          y[(batch * m + i) * n + j] = sum;
        }
      }
    });
    return y;
  },

  concat(node, inputs, shapes) {
    const { axis } = node;
    const outer = product(node.outputShape.slice(0, axis));
    const y = [];
    for (let o = 0; o < outer; o++) {
      inputs.forEach((x, j) => {
        const chunk = product(shapes[j].slice(axis));
        for (let i = o * chunk; i < (o + 1) * chunk; i++) y.push(x[i]);
      });
    }
    return Float64Array.from(y);
  },

  pad(node, [x], [shape]) {
    const rank = shape.length;
    const y = new Float64Array(product(node.outputShape)).fill(node.value);
    const s = strides(node.outputShape);
    forEachIndex(shape, (index, k) => {
      let flat = 0;
      for (let i = 0; i < rank; i++) flat += (index[i] + node.pads[i]) * s[i];
      y[flat] = x[k];
    });
    return y;
  },

  transpose(node, [x], [shape]) {
    const s = strides(shape);
    const y = new Float64Array(x.length);
    forEachIndex(node.outputShape, (index, k) => {
      let flat = 0;
      node.perm.forEach((p, i) => { flat += index[i] * s[p]; });
      y[k] = x[flat];
    });
    return y;
  },

  slice(node, [x], [shape]) {
    const s = strides(shape);
    const y = new Float64Array(product(node.outputShape));
    forEachIndex(node.outputShape, (index, k) => {
      let flat = 0;
      index.forEach((i, axis) => { flat += (node.starts[axis] + i * node.steps[axis]) * s[axis]; });
      y[k] = x[flat];
    });
    return y;
  },

  gather(node, [x], [shape]) {
    const { axis, indices, indicesShape } = node;
    const outer = product(shape.slice(0, axis));
    const inner = product(shape.slice(axis + 1));
    const y = [];
    for (let o = 0; o < outer; o++) {
      for (const index of indices) for (let i = 0; i < inner; i++) y.push(x[(o * shape[axis] + index) * inner + i]);
    }
    void indicesShape;
    return Float64Array.from(y);
  },

  expand(node, [x], [shape]) {
    const read = broadcastReader(x, shape, node.outputShape);
    const y = new Float64Array(product(node.outputShape));
    forEachIndex(node.outputShape, (index, k) => { y[k] = read(index); });
    return y;
  },

  embedding(node, [ids]) {
    const dimension = node.outputShape[node.outputShape.length - 1];
    const y = new Float64Array(ids.length * dimension);
    ids.forEach((id, t) => { for (let d = 0; d < dimension; d++) y[t * dimension + d] = node.table[id * dimension + d]; });
    return y;
  },

  'reduce-mean': (node, [x], [shape]) => reduceOver(x, shape, node.axes, 0, (a, v) => a + v, (a, n) => a / n),
  'reduce-sum': (node, [x], [shape]) => reduceOver(x, shape, node.axes, 0, (a, v) => a + v),
  'reduce-max': (node, [x], [shape]) => reduceOver(x, shape, node.axes, -Infinity, Math.max),

  softmax(node, [x], [shape]) {
    const max = reduceOver(x, shape, [node.axis], -Infinity, Math.max);
    const e = new Float64Array(x.length);
    const ks = strides(shape.map((d, i) => (i === node.axis ? 1 : d)));
    const at = (index) => index.reduce((flat, v, i) => flat + (i === node.axis ? 0 : v * ks[i]), 0);
    forEachIndex(shape, (index, k) => { e[k] = Math.exp(x[k] - max[at(index)]); });
    const sum = reduceOver(e, shape, [node.axis], 0, (a, v) => a + v);
    forEachIndex(shape, (index, k) => { e[k] /= sum[at(index)]; });
    return e;
  },

  layernorm(node, [x], [shape]) {
    const size = product(shape.slice(node.axis));
    const y = new Float64Array(x.length);
    for (let r = 0; r < x.length / size; r++) {
      const row = x.subarray(r * size, (r + 1) * size);
      const mean = row.reduce((a, v) => a + v, 0) / size;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / size;
      const sigma = Math.sqrt(variance + node.epsilon);
      for (let i = 0; i < size; i++) y[r * size + i] = ((row[i] - mean) / sigma) * node.scale[i] + (node.bias ? node.bias[i] : 0);
    }
    return y;
  },

  prelu: (node, [x]) => x.map((v, i) => (v >= 0 ? v : node.slope[i] * v)),
  relu: (node, [x]) => x.map((v) => Math.max(v, 0)),
  'leaky-relu': (node, [x]) => x.map((v) => (v >= 0 ? v : node.alpha * v)),
  elu: (node, [x]) => x.map((v) => (v >= 0 ? v : node.alpha * (Math.exp(v) - 1))),
  clip: (node, [x]) => x.map((v) => Math.min(Math.max(v, node.min), node.max)),
  sigmoid: (node, [x]) => x.map((v) => 1 / (1 + Math.exp(-v))),
  'hard-sigmoid': (node, [x]) => x.map((v) => Math.max(0, Math.min(1, node.alpha * v + node.beta))),
  'hard-swish': (node, [x]) => x.map((v) => v * Math.max(0, Math.min(1, v / 6 + 0.5))),
  silu: (node, [x]) => x.map((v) => v / (1 + Math.exp(-v))),
  softplus: (node, [x]) => x.map((v) => Math.log1p(Math.exp(v))),
  gelu: (node, [x]) => x.map((v) => (node.approximate === 'tanh'
    ? 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
    : 0.5 * v * (1 + erf(v / Math.SQRT2)))),
  tanh: (node, [x]) => x.map((v) => Math.tanh(v)),
  reshape: (node, [x]) => x.slice(),
  identity: (node, [x]) => x.slice(),
};

function range(n) {
  return Float64Array.from({ length: n }, (_, i) => i);
}

/**
 * A pooling window loop over [C, ...spatial]: `reduce(cells, window)` gets the values of the window's
 * cells inside the input and the positions of all its cells. `needsInput`: a window over padding only
 * is an error (max, and average without count_include_pad, have no value there).
 */
function pool(node, x, [channels, ...spatial], reduce, { needsInput }) {
  const rank = spatial.length;
  const y = new Float64Array(product(node.outputShape));
  const { kernel, strides: st, pads } = node;
  const dilations = node.dilations ?? kernel.map(() => 1);
  forEachIndex(node.outputShape, ([c, ...out], k) => {
    const window = [];
    const cells = [];
    forEachIndex(kernel, (kk) => {
      const at = kk.map((v, i) => out[i] * st[i] - pads[i] + v * dilations[i]);
      window.push(at);
      if (at.every((p, i) => p >= 0 && p < spatial[i])) cells.push(x[at.reduce((flat, p, i) => flat * spatial[i] + p, c)]);
    });
    if (needsInput && cells.length === 0) throw new Error(`reference forward: '${node.name}' window holds padding only`);
    y[k] = reduce(cells, window);
  });
  void rank;
  return y;
}

/** Output of the spec's last node (the model output) for one example `input` (no batch dim). */
export function referenceForward(spec, input) {
  const inputSize = spec.inputShape.reduce((a, b) => a * b, 1);
  if (input.length !== inputSize) throw new Error(`input has ${input.length} values, expected ${inputSize}`);
  const graphInput = Float64Array.from(input);
  const values = [];
  for (const node of spec.nodes) {
    const forward = FORWARD[node.kind];
    if (!forward) throw new Error(`reference forward: no '${node.kind}'`);
    const inputs = node.inputs.map((i) => (i === -1 ? graphInput : values[i]));
    const shapes = node.inputs.map((i) => (i === -1 ? spec.inputShape : spec.nodes[i].outputShape));
    const output = forward(node, inputs, shapes);
    const size = node.outputShape.reduce((a, b) => a * b, 1);
    if (output.length !== size) throw new Error(`reference forward: '${node.name}' (${node.kind}) computed ${output.length} values for shape [${node.outputShape}]`);
    values.push(output);
  }
  return values[values.length - 1];
}
