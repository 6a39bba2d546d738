#!/usr/bin/env node
// Thread scaling of one model (issue 10's multi-threaded engine): predict and one explanation at a given
// thread count, against onnxruntime-web's forward (wasm backend) at the same count.
//
//   node scripts/bench-threads.mjs --threads 2 [--model m.onnx] [--input x.bin] [--rounds 7]
//          [--composite epsilon-plus-flat] [--engine lrp|ort|both]
//
// One process per thread count (the engine's threads are fixed when it starts): run it once per count.
// Defaults: the zoo's ResNet-18 of the main checkout and its input (float32 [1,3,224,224]), 7 rounds after one
// warm-up; prints the medians (and min) in ms and one JSON line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    model: { type: 'string', default: '/work/main/build/zoo/resnet18/opset17.onnx' },
    input: { type: 'string', default: '/work/main/build/zoo/resnet18/input.bin' },
    rounds: { type: 'string', default: '7' },
    composite: { type: 'string', default: 'epsilon-plus-flat' },
    engine: { type: 'string', default: 'both' },
  },
});
const threads = Number(args.threads), rounds = Number(args.rounds);
const bytes = readFileSync(args.model);
const raw = readFileSync(args.input);
const input = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4).slice();

function time(fn) {
  fn();  // warm-up
  const times = [];
  for (let r = 0; r < rounds; ++r) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

async function timeAsync(fn) {
  await fn();
  const times = [];
  for (let r = 0; r < rounds; ++r) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

const result = { model: args.model, threads, rounds };
const show = (name, t) => console.log(`${name.padEnd(34)} median ${t.median.toFixed(1).padStart(7)} ms  (min ${t.min.toFixed(1)})`);

if (args.engine !== 'ort') {
  const lrp = await import('../dist/lrp-wasm.js');
  const model = await lrp.loadModel(bytes, { threads });
  result.engineThreads = lrp.engineThreads();
  result.predict = time(() => model.predict(input));
  show(`lrp-wasm predict (${result.engineThreads} threads)`, result.predict);
  result.explain = time(() => model.explain(input, { composite: args.composite }));
  show(`lrp-wasm explain ${args.composite}`, result.explain);
}
if (args.engine !== 'lrp') {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const dims = [1, ...session.inputMetadata?.[0]?.shape?.slice(1) ?? []];
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, dims.length > 1 ? dims : [1, 3, 224, 224]) };
  result.ort = await timeAsync(() => session.run(feeds));
  show(`onnxruntime-web forward (numThreads ${threads})`, result.ort);
  if (result.predict) console.log(`predict / ORT forward: ${(result.predict.median / result.ort.median).toFixed(2)}×`);
}
console.log('JSON ' + JSON.stringify(result));
process.exit(0);  // ORT's worker threads keep Node alive
