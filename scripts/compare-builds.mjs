#!/usr/bin/env node
// Two builds of the package side by side in one process, on one model and input: predict and one explain,
// alternating calls between the builds round after round, so that the machine's load hits both alike (ratios
// between separate bench runs move by 10–30 % on a shared VM; these move by a few %).
//
//   node scripts/compare-builds.mjs BEFORE.js AFTER.js model.onnx [input.bin] [--composite NAME] [--calls N] [--rounds N]
//
// BEFORE.js / AFTER.js: the dist/lrp-wasm.node.js of each build (e.g. a copy of main's whole dist/ before a change:
// the entry imports its chunk and reads lrp-engine.wasm beside it). input.bin: one
// float32 input (little-endian); without it, a fixed pattern in [0, 1]. Both engines run one thread. Prints the
// median ms per call of each build and after/before.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { composite: { type: 'string', default: 'epsilon-plus-flat' }, calls: { type: 'string', default: '3' }, rounds: { type: 'string', default: '7' } },
});
const [beforePath, afterPath, modelPath, inputPath] = positionals;
if (!beforePath || !afterPath || !modelPath) {
  console.error('usage: node scripts/compare-builds.mjs BEFORE.js AFTER.js model.onnx [input.bin] [--composite NAME] [--calls N] [--rounds N]');
  process.exit(2);
}
const load = async (file) => {
  const lrp = await import(pathToFileURL(path.resolve(file)).href);
  lrp.configure?.({ threads: 1 });
  return lrp;
};
const builds = [await load(beforePath), await load(afterPath)];
const bytes = readFileSync(modelPath);
const models = [await builds[0].loadModel(bytes), await builds[1].loadModel(bytes)];
const size = models[0].inputShape.reduce((a, b) => a * b, 1);
let x;
if (inputPath) {
  const buf = readFileSync(inputPath);
  x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice(0, size);
} else x = Float32Array.from({ length: size }, (_, i) => ((i * 37) % 255) / 255);
const calls = Number(values.calls), rounds = Number(values.rounds);
const timeCalls = (model, options) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) (options ? model.explain(x, options) : model.predict(x));
  return Number(process.hrtime.bigint() - t) / 1e6 / calls;
};
const median = (a) => a.sort((p, q) => p - q)[a.length >> 1];
for (const options of [null, { composite: values.composite }]) {
  models.forEach((m) => timeCalls(m, options));  // warm-up
  const times = [[], []];
  for (let r = 0; r < rounds; r++) models.forEach((m, k) => times[k].push(timeCalls(m, options)));
  const [before, after] = times.map(median);
  console.log(`${path.basename(path.dirname(modelPath))}/${path.basename(modelPath)} ${options ? `explain ${options.composite}` : 'predict'}: ` +
    `before ${before.toFixed(3)} ms, after ${after.toFixed(3)} ms, after/before ${(after / before).toFixed(3)}`);
}
