// A plain-JS forward pass over a parsed spec (see web/src/onnx.js), in float64.
// It is the oracle that says whether parseOnnx kept the model's meaning; the engine is not involved.

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
  relu: (node, [x]) => x.map((v) => Math.max(v, 0)),
  reshape: (node, [x]) => x.slice(),
  identity: (node, [x]) => x.slice(),
};

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
    values.push(forward(node, inputs));
  }
  return values[values.length - 1];
}
