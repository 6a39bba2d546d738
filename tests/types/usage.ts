// Type-checked (not run) by tests/types.test.mjs: the README's API example must compile against
// web/src/index.d.ts, and misuse must not.
import { loadModel, evaluate, composites, configure, engineThreads, type Explanation, type Model } from 'lrp-wasm';

export async function example(): Promise<Explanation[]> {
  const model: Model = await loadModel('web/models/mnist-mlp.onnx');
  const shape: number[] = model.inputShape;
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const logits: Float32Array = model.predict(x);
  const results: Explanation[] = [
    model.explain(x),
    model.explain(x, { composite: 'epsilon-plus-flat', target: 'predicted' }),
    model.explain(x, { composite: 'deep-taylor', low: 0, high: 1 }),
    model.explain(x, { rules: { first: { rule: 'z-box', low: 0, high: 1 }, dense: { rule: 'epsilon', epsilon: 0.1 }, 3: { rule: 'gamma', gamma: 0.5 } } }),
    model.explain(x, { method: 'smoothgrad', samples: 8, noiseLevel: 0.1, seed: 7 }),
    model.explain(x, { outputRelevance: logits, layerRelevance: true }),
    ...model.explainBatch([x, x], { composite: composites[0] }),
  ];
  const absorbed: number = results[5].layers?.[0].absorbed ?? 0;
  model.predictBatch([x]).forEach((l) => l.length + absorbed);
  const evaluation = await evaluate(model, [x], { explain: { composite: 'epsilon-plus' }, patchSize: 2, steps: 10,
    perturbation: { type: 'uniform', low: 0, high: 1, seed: 3 }, onProgress: (done, total) => done / total });
  const aopc: number = evaluation.morf?.aopc ?? 0;
  model.explain(x, { restrict: { layer: 1, unit: 3 } }).relevance[0] + aopc;
  model.dispose();
  return results;
}

export async function misuse(model: Model, x: Float32Array) {
  // @ts-expect-error: unknown composite
  model.explain(x, { composite: 'epsilon-plus-flatt' });
  // @ts-expect-error: unknown rule
  model.explain(x, { rules: { dense: { rule: 'epsilom' } } });
  // @ts-expect-error: unknown method
  model.explain(x, { method: 'lime' });
  // @ts-expect-error: target is a class index or 'predicted'
  model.explain(x, { target: 'best' });
  // @ts-expect-error: loadModel needs a source
  await loadModel();
  // @ts-expect-error: threads is a number
  configure({ threads: 'many' });
  // @ts-expect-error: an unknown engine option
  await loadModel('m.onnx', { thread: 2 });
}

export async function threads(): Promise<number> {
  configure({ threads: 2 });
  const model: Model = await loadModel('web/models/mnist-cnn.onnx', { threads: 2 });
  model.dispose();
  return engineThreads();
}
