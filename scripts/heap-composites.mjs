#!/usr/bin/env node
// Heap and explain time per composite for one model and one input (issue 10's measurement).
//
//   node scripts/heap-composites.mjs [model.onnx] [input.bin] [rounds]
//   LRP_PACKAGE=/path/to/lrp-wasm.js node scripts/heap-composites.mjs   # another build (e.g. a saved baseline)
//
// Loads the model with this checkout's package build (dist/lrp-wasm.js), then runs every Zennit composite
// `rounds` times (default 3) on the float32 input (z-box bounds: the input's min and max) and prints
// engineMemoryBytes() — the wasm heap, which only grows, i.e. the high-water mark — after the load and after
// each composite, with the median explain time. Defaults: the zoo's resnet18 of the main checkout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const lrp = await import(process.env.LRP_PACKAGE ? pathToFileURL(process.env.LRP_PACKAGE).href : '../dist/lrp-wasm.js');
const [modelArg, inputArg, roundsArg] = process.argv.slice(2);  // '' takes the default
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
const rows = [];
for (const composite of composites) {
  const options = composite === 'epsilon-gamma-box' || composite === 'deep-taylor' ? { composite, low, high } : { composite };
  const times = [];
  let sum = 0;
  for (let r = 0; r < rounds; ++r) {
    const t = performance.now();
    const e = model.explain(input, options);
    times.push(performance.now() - t);
    sum = 0;
    for (const v of e.relevance) sum += v;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  rows.push({ composite, median, heap: mb(), sum });
  console.log(`${composite.padEnd(26)} median ${median.toFixed(0).padStart(5)} ms (min ${times[0].toFixed(0)})  heap ${mb().padStart(7)} MB  Σrelevance ${sum.toPrecision(6)}`);
}
console.log(`final heap ${mb()} MB`);
console.log('JSON ' + JSON.stringify(rows));
