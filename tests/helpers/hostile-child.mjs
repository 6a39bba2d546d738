// Loads one hostile model and calls predict and explain on it, announcing each call over IPC for the watchdog
// (tests/helpers/watchdog.mjs) and reporting what it returned or the Error it threw; tests/hostile.test.mjs
// judges the reports. Run alone it prints them:
//   node tests/helpers/hostile-child.mjs tests/fixtures/hostile/weight-all-1e38.onnx --fill 1
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadModel } from 'lrp-wasm';

const { values: args, positionals: [file] } = parseArgs({
  options: { fill: { type: 'string', default: '1' } },
  allowPositionals: true,
});
const fill = Number(args.fill);

const send = process.send
  ? (message) => new Promise((resolve) => process.send(message, resolve))
  : async (message) => { if (message.type === 'end') console.log(JSON.stringify(message)); };

async function call(label, fn) {
  await send({ type: 'start', label });
  const started = performance.now();
  try {
    const result = await fn();
    const values = result instanceof Float32Array ? Array.from(result) : result?.relevance ? Array.from(result.relevance) : null;
    await send({ type: 'end', label, ms: performance.now() - started, outcome: 'returned', values });
    return result;
  } catch (error) {
    await send({
      type: 'end', label, ms: performance.now() - started, outcome: 'refused',
      isError: error instanceof Error, name: error?.name, message: String(error?.message ?? error),
    });
    return undefined;
  }
}

const model = await call('loadModel', () => loadModel(readFileSync(file)));
if (model) {
  const x = new Float32Array(model.inputShape.reduce((a, b) => a * b, 1)).fill(fill);
  await call('predict', () => model.predict(x));
  await call('explain(epsilon-plus)', () => model.explain(x, { composite: 'epsilon-plus' }));
  await call('explain(epsilon-alpha2-beta1)', () => model.explain(x, { composite: 'epsilon-alpha2-beta1' }));
  model.dispose();
}
await send({ type: 'finished' });
process.disconnect?.();
