// Per-input constants: tensors a token model computes from its ids alone, such as an attention mask
// (`Equal(ids, pad) → Cast → Mul(−10000) → Unsqueeze`, or the condition of `Where(mask, −inf, scores)`).
// They are constants of each input (ATTNLRP rule 13: computed in the forward pass, then a constant), so
// the engine does not compute them: this program does, per input, with the same evaluators that fold
// constant sub-graphs at load (fold.js), and the values travel after the ids in each engine column
// (docs/layers.md, `input-constant`).

import { BATCH, nodeError, product } from './decode.js';
import { expandTensor, foldNode } from './fold.js';

export class InputConstantProgram {
  /**
   * @param {string} inputName the graph input (the token ids)
   * @param {number[]} inputShape its per-sample shape
   * @param {number} opset
   */
  constructor(inputName, inputShape, opset) {
    this.inputName = inputName;
    this.inputShape = [...inputShape];
    this.opset = opset;
    this.steps = [];    // { node, inputs: Array<{ name } | { tensor } | null> }
    this.outputs = [];  // { name, dims (at batch 1), invert, size }
    this.size = 0;
    // The program run on zero ids at batch sizes 1 and 2 while loading: every tensor's shape, and the axis
    // that grows with the batch is its batch axis. `atTwo` is null once a step fails at batch size 2.
    this.atOne = new Map([[inputName, zeroIds(1, inputShape)]]);
    this.atTwo = new Map([[inputName, zeroIds(2, inputShape)]]);
  }

  /**
   * Appends ONNX `node`, whose inputs are `inputs`: { name } of a computed tensor (or the ids), { tensor } of
   * a constant, or null (an omitted optional input). Returns, per output, its ONNX dims at batch size 1 and
   * its batch axis (null when the batch is merged into another axis or absent).
   */
  add(node, inputs) {
    this.steps.push({ node, inputs });
    run(node, inputs, this.atOne, 1, this.opset);
    // Shape arithmetic folded at load may have merged the batch into a number (N·heads at N = 1): such a
    // program only runs at batch size 1 (which is how it runs per input), and its batch axes are unknown.
    if (this.atTwo) {
      try {
        run(node, inputs, this.atTwo, 2, this.opset);
      } catch {
        this.atTwo = null;
      }
    }
    return node.output.map((name) => {
      const one = this.atOne.get(name);
      const two = this.atTwo?.get(name);
      return { dims: one.dims, batchAxis: two ? batchAxisOf(one.dims, two.dims) : null, type: one.type };
    });
  }

  /**
   * Makes the computed tensor `name` a per-input constant: its values at batch size 1 (broadcast to
   * `broadcastTo`, negated as a 0/1 mask with `invert`) follow the ids. Returns its offset and size.
   */
  output(name, { dims, broadcastTo = null, invert = false }) {
    const outDims = broadcastTo ?? dims;
    const entry = { name, broadcastTo, invert, offset: this.size, size: product(outDims) };
    this.outputs.push(entry);
    this.size += entry.size;
    return entry;
  }

  /**
   * Keeps only the outputs at `offsets` (in that order, which is the order of their nodes) and packs them;
   * returns old offset → new offset.
   */
  retain(offsets) {
    const byOffset = new Map(this.outputs.map((entry) => [entry.offset, entry]));
    const moved = new Map();
    this.outputs = [];
    this.size = 0;
    for (const offset of offsets) {
      const entry = byOffset.get(offset);
      moved.set(offset, this.size);
      this.outputs.push({ ...entry, offset: this.size });
      this.size += entry.size;
    }
    return moved;
  }

  /** The per-input constants of one input (its ids as numbers), all outputs one after another. */
  evaluate(ids) {
    const env = new Map([[this.inputName, { dims: [1, ...this.inputShape], data: Array.from(ids), type: 'int' }]]);
    for (const step of this.steps) run(step.node, step.inputs, env, 1, this.opset);
    const values = new Float32Array(this.size);
    for (const { name, broadcastTo, invert, offset } of this.outputs) {
      const tensor = broadcastTo ? expandTensor(env.get(name), broadcastTo) : env.get(name);
      for (let i = 0; i < tensor.data.length; i++) {
        const value = Number(tensor.data[i]);
        values[offset + i] = invert ? Number(value === 0) : value;
      }
    }
    return values;
  }
}

function zeroIds(batch, shape) {
  return { dims: [batch, ...shape], data: new Array(batch * product(shape)).fill(0), type: 'int' };
}

// Evaluates one node into `env`, its constants taken at batch size `batch` (the symbol BATCH in shape
// tensors folded at load becomes that size).
function run(node, inputs, env, batch, opset) {
  const values = inputs.map((input) => {
    if (input === null) return null;
    if ('tensor' in input) return atBatch(input.tensor, batch);
    const value = env.get(input.name);
    if (!value) throw nodeError(node, `input '${input.name}' was not computed from the ids`);
    return value;
  });
  const outputs = foldNode(node, values, opset);
  node.output.forEach((name, k) => { if (name) env.set(name, outputs[k]); });
  return outputs;
}

function atBatch(tensor, batch) {
  if (tensor.type !== 'int' || !tensor.data.includes(BATCH)) return tensor;
  return { ...tensor, data: tensor.data.map((v) => (v === BATCH ? batch : v)) };
}

// The axis whose size doubles with the batch; null if none does or the batch is merged with another axis.
function batchAxisOf(one, two) {
  if (one.length !== two.length) return null;
  const grown = one.map((dim, i) => (two[i] !== dim ? i : -1)).filter((i) => i >= 0);
  return grown.length === 1 && one[grown[0]] === 1 && two[grown[0]] === 2 ? grown[0] : null;
}
