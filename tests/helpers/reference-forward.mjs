// A plain-JS forward pass over a parsed spec (see web/src/onnx.js), in float64, with naive loops.
// It is the oracle that says whether parseOnnx kept the model's meaning; the engine is not involved.
// Each function gets the node, its input values (flat Float64Arrays, no batch dim) and their shapes.

const FORWARD = {
  dense(node, [x]) {
    const { inFeatures, outFeatures, weight, bias } = node;
    const y = new Float64Array(outFeatures);
    for (let o = 0; o < outFeatures; o++) {
      let sum = bias ? bias[o] : 0;
      for (let k = 0; k < inFeatures; k++) sum += weight[o * inFeatures + k] * x[k];
      y[o] = sum;
    }
    return y;
  },

  conv(node, [x], [[channels, height, width]]) {
    const [outChannels, outHeight, outWidth] = node.outputShape;
    const { weight, bias, kernel: [kH, kW], strides: [sH, sW], pads: [top, left], dilations: [dH, dW], group } = node;
    const inPerGroup = channels / group;
    const outPerGroup = outChannels / group;
    const y = new Float64Array(outChannels * outHeight * outWidth);
    for (let o = 0; o < outChannels; o++) {
      const firstChannel = Math.floor(o / outPerGroup) * inPerGroup;
      for (let oy = 0; oy < outHeight; oy++) {
        for (let ox = 0; ox < outWidth; ox++) {
          let sum = bias ? bias[o] : 0;
          for (let c = 0; c < inPerGroup; c++) {
            for (let ky = 0; ky < kH; ky++) {
              const iy = oy * sH - top + ky * dH;
              if (iy < 0 || iy >= height) continue;
              for (let kx = 0; kx < kW; kx++) {
                const ix = ox * sW - left + kx * dW;
                if (ix < 0 || ix >= width) continue;
                sum += weight[((o * inPerGroup + c) * kH + ky) * kW + kx] * x[((firstChannel + c) * height + iy) * width + ix];
              }
            }
          }
          y[(o * outHeight + oy) * outWidth + ox] = sum;
        }
      }
    }
    return y;
  },

  maxpool(node, [x], [shape]) {
    return pool(node, x, shape, (cells) => Math.max(...cells.map(([value]) => value)), { needsInput: true });
  },

  avgpool(node, [x], [shape]) {
    const [, height, width] = shape;
    const [top, left, bottom, right] = node.pads;
    return pool(node, x, shape, (cells, window) => {
      const sum = cells.reduce((acc, [value]) => acc + value, 0);
      if (!node.countIncludePad) return sum / cells.length;
      // Padded cells count; cells of a ceil-mode window beyond the padded input do not.
      const inPadded = window.filter(([iy, ix]) => iy >= -top && iy < height + bottom && ix >= -left && ix < width + right);
      return sum / inPadded.length;
    }, { needsInput: !node.countIncludePad });
  },

  globalavgpool(node, [x], [[channels, height, width]]) {
    const y = new Float64Array(channels);
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let i = 0; i < height * width; i++) sum += x[c * height * width + i];
      y[c] = sum / (height * width);
    }
    return y;
  },

  batchnorm(node, [x], [shape]) {
    const perChannel = x.length / shape[0];
    return x.map((v, i) => node.scale[Math.floor(i / perChannel)] * v + node.shift[Math.floor(i / perChannel)]);
  },

  add(node, [a, b], shapes) {
    if (node.inputs.length === 2) {
      assertSameShape(shapes[0], shapes[1]);
      return a.map((v, i) => v + b[i]);
    }
    if (node.constant.length !== a.length) throw new Error(`reference forward: add constant has ${node.constant.length} values for ${a.length}`);
    return a.map((v, i) => v + node.constant[i]);
  },

  // Channels are the outermost axis, so concatenating along them concatenates the flat arrays.
  concat(node, inputs, shapes) {
    shapes.forEach((shape) => assertSameShape(shape.slice(1), shapes[0].slice(1)));
    const y = new Float64Array(inputs.reduce((n, x) => n + x.length, 0));
    let offset = 0;
    for (const x of inputs) {
      y.set(x, offset);
      offset += x.length;
    }
    return y;
  },

  pad(node, [x], [[channels, height, width]]) {
    const [top, left, bottom, right] = node.pads;
    const outHeight = height + top + bottom;
    const outWidth = width + left + right;
    const y = new Float64Array(channels * outHeight * outWidth).fill(node.value);
    for (let c = 0; c < channels; c++) {
      for (let iy = 0; iy < height; iy++) {
        for (let ix = 0; ix < width; ix++) y[(c * outHeight + iy + top) * outWidth + ix + left] = x[(c * height + iy) * width + ix];
      }
    }
    return y;
  },

  relu: (node, [x]) => x.map((v) => Math.max(v, 0)),
  leakyrelu: (node, [x]) => x.map((v) => (v >= 0 ? v : node.alpha * v)),
  clip: (node, [x]) => x.map((v) => Math.min(Math.max(v, node.min), node.max)),
  sigmoid: (node, [x]) => x.map((v) => 1 / (1 + Math.exp(-v))),
  tanh: (node, [x]) => x.map((v) => Math.tanh(v)),
  reshape: (node, [x]) => x.slice(),
  identity: (node, [x]) => x.slice(),
};

/**
 * A 2-D pooling window loop: `reduce(cells, window)` gets the [value, iy, ix] of the window's cells
 * inside the input and the [iy, ix] of all its cells. `needsInput`: a window over padding only is an
 * error (max, and average without count_include_pad, have no value there).
 */
function pool(node, x, [channels, height, width], reduce, { needsInput }) {
  const [, outHeight, outWidth] = node.outputShape;
  const { kernel: [kH, kW], strides: [sH, sW], pads: [top, left], dilations: [dH, dW] } = node;
  const y = new Float64Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const window = [];
        const cells = [];
        for (let ky = 0; ky < kH; ky++) {
          for (let kx = 0; kx < kW; kx++) {
            const iy = oy * sH - top + ky * dH;
            const ix = ox * sW - left + kx * dW;
            window.push([iy, ix]);
            if (iy >= 0 && iy < height && ix >= 0 && ix < width) cells.push([x[(c * height + iy) * width + ix], iy, ix]);
          }
        }
        if (needsInput && cells.length === 0) throw new Error(`reference forward: '${node.name}' window (${oy}, ${ox}) holds padding only`);
        y[(c * outHeight + oy) * outWidth + ox] = reduce(cells, window);
      }
    }
  }
  return y;
}

function assertSameShape(a, b) {
  if (a.length !== b.length || a.some((dim, i) => dim !== b[i])) throw new Error(`reference forward: shapes [${a}] and [${b}] differ`);
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
