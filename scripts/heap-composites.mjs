#!/usr/bin/env node
// Heap and explain time per composite for one model and one input (issue 10's measurement).
//
//   node scripts/heap-composites.mjs [model.onnx] [input.bin] [rounds] [methods]
//   LRP_PACKAGE=/path/to/lrp-wasm.js node scripts/heap-composites.mjs   # another build (e.g. a saved baseline)
//
// Loads the model with this checkout's package build (dist/lrp-wasm.node.js), then runs every Zennit composite
// `rounds` times (default 3) on the float32 input (z-box bounds: the input's min and max) and prints
// engineMemoryBytes() — the wasm heap, which only grows, i.e. the high-water mark — after the load and after
// each composite, with the median explain time. Defaults: the zoo's resnet18 of the main checkout.
// A fourth argument `methods` also runs gradient, gradient-x-input, integrated-gradients (16 steps) and
// smoothgrad (8 samples) after the composites, once each.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const lrp = await import(process.env.LRP_PACKAGE ? pathToFileURL(process.env.LRP_PACKAGE).href : '../dist/lrp-wasm.node.js');
const [modelArg, inputArg, roundsArg, methodsArg] = process.argv.slice(2);  // '' takes the default
const modelPath = modelArg || '/work/main/build/zoo/resnet18/opset17.onnx';
const inputPath = inputArg || '/work/main/build/zoo/resnet18/input.bin';
const rounds = Math.max(1, Number(roundsArg || 3));
const buf = readFileSync(inputPath);
const input = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
let low = Infinity, high = -Infinity;
for (const v of input) { low = Math.min(low, v); high = Math.max(high, v); }
const mb = () => (lrp.engineMemoryBytes() / 2 ** 20).toFixed(1);

const t0 = performance.now();
const model = await lrp.loadModel(readFileSync(modelPath));
console.log(`load ${(performance.now() - t0).toFixed(0)} ms, heap ${mb()} MB (input ${input.length} values in [${low.toFixed(3)}, ${high.toFixed(3)}])`);
const composites = ['epsilon-plus', 'epsilon-plus-flat', 'epsilon-alpha2-beta1', 'epsilon-alpha2-beta1-flat',
  'epsilon-gamma-box', 'deep-taylor'];
const runs = composites.map((composite) => [composite,
  composite === 'epsilon-gamma-box' || composite === 'deep-taylor' ? { composite, low, high } : { composite }]);
if (methodsArg === 'methods')
  runs.push(['gradient', { method: 'gradient' }], ['gradient-x-input', { method: 'gradient-x-input' }],
    ['integrated-gradients', { method: 'integrated-gradients', steps: 16 }], ['smoothgrad', { method: 'smoothgrad', samples: 8 }]);
const rows = [];
for (const [composite, options] of runs) {
  const times = [];
  const rounds_ = options.method ? 1 : rounds;
  let sum = 0;
  for (let r = 0; r < rounds_; ++r) {
    const t = performance.now();
    const e = model.explain(input, options);
    times.push(performance.now() - t);
    sum = 0;
    for (const v of e.relevance) sum += v;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  rows.push({ composite, median, heap: mb(), sum });
  const used = lrp.engineMemoryStatus ? `  in use ${(lrp.engineMemoryStatus().used / 2 ** 20).toFixed(1)} MB` : '';
  console.log(`${composite.padEnd(26)} median ${median.toFixed(0).padStart(5)} ms (min ${times[0].toFixed(0)})  heap ${mb().padStart(7)} MB${used}  Σrelevance ${sum.toPrecision(6)}`);
}
console.log(`final heap ${mb()} MB`);
console.log('JSON ' + JSON.stringify(rows));
