#!/usr/bin/env node
// Times the "work bombs" of issue 12: single-layer models whose cost comes from a huge window, not from
// their size. One predict and one explain (rule epsilon on every layer) per model, one thread.
//
//   node scripts/window-bombs.mjs                                # the package of this checkout (dist/)
//   node scripts/window-bombs.mjs --package /work/main/dist/lrp-wasm.node.js   # another build (before/after)
//   node scripts/window-bombs.mjs --model conv-1to1-k64-1024     # one model by name (repeatable)
//   node scripts/window-bombs.mjs --no-explain                   # predict only
//
// Prints one line per (model, call) with the wall time (the median of repeats for calls under 0.2 s), and the multiply-adds or comparisons the layer does
// per sample as the kernels now compute them (see the comments in cpp/src/pooling.cpp and conv.cpp).

import { parseArgs } from 'node:util';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildModel, randomFloats } from '../tests/helpers/onnx-builder.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOSTILE = path.join(ROOT, 'tests/fixtures/hostile/compute-maxpool-512-k256.onnx');  // a copy of ../shared/hostile's

const { values } = parseArgs({
  options: {
    package: { type: 'string', default: path.join(ROOT, 'dist/lrp-wasm.node.js') },
    model: { type: 'string', multiple: true },
    'no-explain': { type: 'boolean', default: false },
  },
});

function oneLayer({ op, channels, size, outChannels, kernel, group = 1, attrs = {} }) {
  const initializers = {};
  const inputs = ['x'];
  if (op === 'Conv') {
    const count = outChannels * (channels / group) * kernel * kernel;
    initializers.w = { dims: [outChannels, channels / group, kernel, kernel], data: randomFloats(count, 3).map((v) => v / kernel) };
    if (group > 1) attrs = { ...attrs, group };
    inputs.push('w');
  }
  return buildModel({
    input: { name: 'x', shape: [1, channels, size, size] },
    output: { name: 'y', shape: undefined },
    nodes: [
      { op, name: `${op.toLowerCase()}_k${kernel}`, inputs, outputs: ['z'], attrs: { kernel_shape: [kernel, kernel], ...attrs } },
      { op: 'GlobalAveragePool', name: 'gap', inputs: ['z'], outputs: ['g'] },
      { op: 'Flatten', name: 'flatten', inputs: ['g'], outputs: ['y'] },
    ],
    initializers,
  });
}

// name → [bytes, input shape, operations per sample as the kernels now count them]
const MODELS = {
  'maxpool-512-k256 (hostile file)': () => [readFileSync(HOSTILE), null, 512 * 257 * 256 + 257 * 257 * 256],
  'avgpool-512-k256': () => [oneLayer({ op: 'AveragePool', channels: 1, size: 512, kernel: 256 }), [1, 512, 512],
    512 * 257 * 256 + 257 * 257 * 256],
  'conv-1to1-k64-1024': () => [oneLayer({ op: 'Conv', channels: 1, outChannels: 1, size: 1024, kernel: 64 }), [1, 1024, 1024],
    961 * 961 * 64 * 64],
  'conv-3to8-k31-512': () => [oneLayer({ op: 'Conv', channels: 3, outChannels: 8, size: 512, kernel: 31 }), [3, 512, 512],
    482 * 482 * 3 * 31 * 31 * 8],
  // Not a bomb: MobileNetV2's costliest depthwise conv shape, to check the direct loops did not slow down.
  'depthwise-96-k3-112': () => [oneLayer({ op: 'Conv', channels: 96, outChannels: 96, group: 96, size: 112, kernel: 3,
    attrs: { pads: [1, 1, 1, 1] } }), [96, 112, 112], 112 * 112 * 9 * 96],
};

// Wall time of one call; calls under 0.2 s are repeated (up to 2 s in all) and their median is reported.
function seconds(call) {
  const times = [];
  let total = 0;
  do {
    const t = performance.now();
    call();
    times.push((performance.now() - t) / 1000);
    total += times.at(-1);
  } while (times.at(-1) < 0.2 && total < 2 && times.length < 50);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const { loadModel } = await import(pathToFileURL(path.resolve(values.package)).href);
const names = values.model ?? Object.keys(MODELS);
for (const name of names) {
  const key = Object.keys(MODELS).find((k) => k === name || k.startsWith(`${name} `));
  if (!key) throw new Error(`unknown model ${name}; known: ${Object.keys(MODELS).join(', ')}`);
  if (key.includes('hostile') && !existsSync(HOSTILE)) { console.log(`${key}: ${HOSTILE} missing, skipped`); continue; }
  const [bytes, , operations] = MODELS[key]();
  const model = await loadModel(bytes);
  const size = model.inputShape ? model.inputShape.reduce((a, b) => a * b, 1) : undefined;
  const x = randomFloats(size ?? 512 * 512, 11);
  const predict = seconds(() => model.predict(x));
  console.log(`${key.padEnd(34)} predict ${predict.toFixed(3).padStart(8)} s   (${operations.toExponential(2)} ops/sample)`);
  if (!values['no-explain']) {
    const explain = seconds(() => model.explain(x, { rules: { first: { rule: 'epsilon' }, conv: { rule: 'epsilon' } } }));
    console.log(`${key.padEnd(34)} explain ${explain.toFixed(3).padStart(8)} s`);
  }
  model.dispose?.();
}
