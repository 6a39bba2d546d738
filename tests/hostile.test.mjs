// The hostile files of issue 12 (copied from ../shared/hostile into tests/fixtures/hostile) as regression tests.
// Each call (loadModel, predict, explain) runs in a child process under a 10 s watchdog (a guard against
// hangs, not a speed test) and must return, or be refused with a message that names the problem. The
// premises (which node has no inputs, the constant's rank, the Pad's output size, where the 1e38 weights
// overflow, what the MaxPool computes) are read from the files themselves with the importer's decoder, and
// the expected values computed here in float64: nothing is copied from a run of the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeOnnx } from '../web/src/onnx/index.js';
import { tensorFromProto, attrInts, attrInt } from '../web/src/onnx/decode.js';
import { runWatched } from './helpers/watchdog.mjs';
import { errorProblems } from './helpers/fuzz-checks.mjs';

const CHILD = fileURLToPath(new URL('./helpers/hostile-child.mjs', import.meta.url));
const hostilePath = (name) => fileURLToPath(new URL(`./fixtures/hostile/${name}`, import.meta.url));
const decoded = (name) => decodeOnnx(readFileSync(hostilePath(name)));
const initializer = (model, name) => {
  const proto = model.graph.initializer.find((t) => t.name === name);
  return tensorFromProto(proto, name);
};
const FLT_MAX = 3.4028234663852886e38;

/** Runs the child on `name` and returns its reports by call label; fails if a call exceeded the limit. */
async function hostileRun(name, fill = 1) {
  const run = await runWatched(CHILD, [hostilePath(name), '--fill', String(fill)], { limitMs: 10_000 });
  assert.equal(run.hung, null, `${name}: ${run.hung} took more than 10 s`);
  assert.ok(run.messages.some((m) => m.type === 'finished'), `${name}: the child exited with ${run.exitCode}: ${run.stderr.slice(-500)}`);
  return new Map(run.messages.filter((m) => m.type === 'end').map((m) => [m.label, m]));
}

// A refusal: an Error (not a bare throw), with no internal word, and a message matching every pattern.
function assertRefused(report, what, patterns) {
  assert.ok(report, `${what} was not called`);
  assert.equal(report.outcome, 'refused', `${what} returned [${report.values?.slice(0, 4)}] instead of an Error`);
  assert.ok(report.isError, `${what} threw a non-Error: ${report.message}`);
  assert.deepEqual(errorProblems(Object.assign(new Error(report.message), { name: report.name })), [], what);
  for (const pattern of patterns) {
    const found = typeof pattern === 'string' ? report.message.includes(pattern) : pattern.test(report.message);
    assert.ok(found, `${what}: the message does not contain ${pattern}: ${report.message}`);
  }
}

function assertFinite(report, what, length) {
  assert.ok(report, `${what} was not called`);
  assert.equal(report.outcome, 'returned', `${what} threw ${report.name}: ${report.message}`);
  assert.equal(report.values.length, length, `${what}: ${report.values.length} values, expected ${length}`);
  assert.ok(report.values.every(Number.isFinite), `${what}: not finite: [${report.values.slice(0, 8)}]`);
}

test('node-no-input.onnx: refused at load naming the node, its operator and "has no inputs"', async () => {
  const model = decoded('node-no-input.onnx');
  const culprit = model.graph.node.find((node) => node.input.length === 0);
  assert.deepEqual([culprit.name, culprit.opType], ['/1/Relu', 'Relu']);  // the file's premise
  const reports = await hostileRun('node-no-input.onnx');
  assertRefused(reports.get('loadModel'), 'loadModel', ["'/1/Relu'", 'Relu', 'has no inputs']);
});

test('constant-rank-10000-slice.onnx: refused at load naming the node, the operator and the rank limit', async () => {
  const model = decoded('constant-rank-10000-slice.onnx');
  const constant = model.graph.node.find((node) => node.opType === 'Constant' && node.attribute[0]?.t?.dims.length === 10000);
  assert.equal(constant.name, 'c');  // the file's premise: Constant 'c' of rank 10,000 feeds Slice 'deep_slice'
  const reports = await hostileRun('constant-rank-10000-slice.onnx');
  const report = reports.get('loadModel');
  // The limit can be enforced where the constant is made or where the Slice reads it: either node, by name
  // and operator.
  assertRefused(report, 'loadModel', [/rank 10,000,? (which )?exceeds the engine's limit of 32/]);
  assert.ok(/'c'.*Constant|Constant.*'c'|'deep_slice'.*Slice|Slice.*'deep_slice'/.test(report.message),
    `the message names neither Constant 'c' nor Slice 'deep_slice': ${report.message}`);
});

test('resource-pad-to-2p28-relu8.onnx: refused at load with how much memory it needs', async () => {
  // The Pad's output per sample from ONNX's definition: each axis grows by its begin and end pads.
  const model = decoded('resource-pad-to-2p28-relu8.onnx');
  const pads = initializer(model, 'p').data;
  const inputDims = model.graph.input[0].type.tensorType.shape.dim.map((d) => (d.dimParam ? 1 : Number(d.dimValue)));
  const rank = inputDims.length;
  const padded = inputDims.map((dim, axis) => dim + pads[axis] + pads[axis + rank]);
  const activationBytes = 4 * padded.reduce((a, b) => a * b, 1);
  assert.equal(activationBytes, 2 ** 30);  // the premise: one 16384 × 16384 float map, 1 GiB

  const reports = await hostileRun('resource-pad-to-2p28-relu8.onnx');
  const report = reports.get('loadModel');
  assertRefused(report, 'loadModel', ["'amplify'", /needs [\d.]+ ?[KMGT]i?B/]);
  const [, amount, unit] = report.message.match(/needs ([\d.]+) ?([KMGT])i?B/);
  const needed = Number(amount) * 1024 ** ' KMGT'.indexOf(unit);
  assert.ok(needed >= activationBytes * 0.95, `it says it needs ${amount} ${unit}B, less than one ${activationBytes}-byte activation`);
});

// The first node whose float32 output is not finite, from a float64 forward of the file's Gemm/Relu chain
// on an all-ones input (each layer's output rounded to float32, as the engine stores it).
function firstNonFiniteLayer(model, x) {
  let values = Float64Array.from(x);
  for (const node of model.graph.node) {
    if (node.opType === 'Relu') values = values.map((v) => Math.max(v, 0));
    else {
      assert.equal(node.opType, 'Gemm');
      assert.equal(attrInt(node, 'transB', 0), 1);
      const w = initializer(model, node.input[1]);
      const b = initializer(model, node.input[2]).data;
      const [rows, cols] = w.dims;
      values = Float64Array.from({ length: rows }, (_, r) => {
        let sum = b[r];
        for (let c = 0; c < cols; c++) sum += w.data[r * cols + c] * values[c];
        return sum;
      });
    }
    values = values.map((v) => (Math.abs(v) > FLT_MAX ? v * Infinity : Math.fround(v)));
    if (!values.every(Number.isFinite)) return node.name;
  }
  return null;
}

test('weight-all-1e38.onnx: predict and explain throw an Error naming the first layer where Inf/NaN appeared', async () => {
  const model = decoded('weight-all-1e38.onnx');
  const layer = firstNonFiniteLayer(model, new Float32Array(16).fill(1));
  assert.equal(layer, '/0/Gemm');  // 16 × 1e38 overflows float32 in the first layer
  const reports = await hostileRun('weight-all-1e38.onnx', 1);
  assert.equal(reports.get('loadModel').outcome, 'returned', `the weights are finite: the model loads (${reports.get('loadModel').message})`);
  for (const call of ['predict', 'explain(epsilon-plus)', 'explain(epsilon-alpha2-beta1)'])
    assertRefused(reports.get(call), call, [`'${layer}'`, /Inf|NaN|not finite|non-finite/i]);
});

// MaxPool without padding over a map that is zero except the input pixel: the output at a window is the
// pixel's value (if positive) when the window covers it, else 0; GlobalAveragePool averages the windows.
function maxPoolOfOnePixel(model, x) {
  const pads = initializer(model, 'p').data;
  const [top, left] = [pads[2], pads[3]];
  const [height, width] = [1 + top + pads[6], 1 + left + pads[7]];
  const pool = model.graph.node.find((node) => node.opType === 'MaxPool');
  const [kh, kw] = attrInts(pool, 'kernel_shape');
  const [sh, sw] = attrInts(pool, 'strides') ?? [1, 1];
  const outH = Math.floor((height - kh) / sh) + 1;
  const outW = Math.floor((width - kw) / sw) + 1;
  let covering = 0;
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      if (i * sh <= top && top < i * sh + kh && j * sw <= left && left < j * sw + kw) covering++;
    }
  }
  return (covering * Math.max(x, 0)) / (outH * outW);
}

test('compute-maxpool-512-k256.onnx: predict and explain return finite values within the limit', async () => {
  const model = decoded('compute-maxpool-512-k256.onnx');
  const x = 0.5;
  const expected = maxPoolOfOnePixel(model, x);
  const reports = await hostileRun('compute-maxpool-512-k256.onnx', x);
  assert.equal(reports.get('loadModel').outcome, 'returned', reports.get('loadModel').message);
  assertFinite(reports.get('predict'), 'predict', 1);
  const [logit] = reports.get('predict').values;
  assert.ok(Math.abs(logit - expected) <= 1e-5 * Math.abs(expected), `predict gave ${logit}, the float64 formula ${expected}`);
  assertFinite(reports.get('explain(epsilon-plus)'), 'explain(epsilon-plus)', 1);
  assertFinite(reports.get('explain(epsilon-alpha2-beta1)'), 'explain(epsilon-alpha2-beta1)', 1);
});
