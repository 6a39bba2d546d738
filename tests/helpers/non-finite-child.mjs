// Run by tests/non-finite.test.mjs in a child process (one engine per process, its threads fixed when it starts):
// `node non-finite-child.mjs THREADS` loads the models with { threads: THREADS }, makes each refuse a non-finite
// result, and checks the engine afterwards: prints one JSON line with the errors and the results before and after.
import { loadModel, engineThreads } from 'lrp-wasm';
import { alphaBetaTrap, hugeWeights, trapInput } from './non-finite-models.mjs';

const threads = Number(process.argv[2]);
const errors = {};
const attempt = (name, call) => {
  try {
    call();
    errors[name] = 'no error';
  } catch (error) {
    errors[name] = `${error.constructor.name}: ${error.message}`;
  }
};

const trap = await loadModel(alphaBetaTrap(), { threads });
const huge = await loadModel(hugeWeights, { threads });
const finite = () => ({
  output: Array.from(trap.predict(trapInput)),
  relevance: Array.from(trap.explain(trapInput, { composite: 'epsilon-plus' }).relevance),
});
const before = finite();
attempt('predict', () => huge.predict(new Float32Array(16).fill(0.5)));
attempt('explain', () => huge.explain(new Float32Array(16).fill(0.5)));
attempt('predictBatch', () => huge.predictBatch([new Float32Array(16), new Float32Array(16).fill(0.5)]));
attempt('gradient', () => huge.explain(new Float32Array(16).fill(0.5), { method: 'gradient' }));
attempt('alpha-beta', () => trap.explain(trapInput, { composite: 'epsilon-alpha2-beta1' }));
const after = finite();
const layers = { huge: huge.layers, trap: trap.layers };
console.log(JSON.stringify({ threads: engineThreads(), errors, before, after, layers }));
