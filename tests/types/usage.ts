// Type-checked (not run) by tests/package.test.mjs in a folder where the packed package was installed, with
// TypeScript 5 and the project's own, moduleResolution bundler and node16, strict: the README's API must compile
// against web/src/index.d.ts as installed, and misuse must not.
import { loadModel, evaluate, composites, configure, engineThreads, type Explanation, type Model, type WorkerModel } from 'lrp-wasm';
import * as inline from 'lrp-wasm/inline';

export async function example(): Promise<Explanation[]> {
  const model: Model = await loadModel('web/models/mnist-mlp.onnx');
  const shape: number[] = model.inputShape;
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1));
  const logits: Float32Array = model.predict(x);
  const results: Explanation[] = [
    model.explain(x),
    model.explain(x, { composite: 'epsilon-plus-flat', target: 'predicted' }),
    model.explain(x, { composite: 'deep-taylor', low: 0, high: 1 }),
    model.explain(x, { composite: 'epsilon-gamma-box', low: [-2.1, -2.0, -1.8], high: new Float32Array([2.2, 2.4, 2.6]) }),
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

export async function work(url: string): Promise<number> {
  const model: Model = await loadModel(url, { maxOperations: 5e11 });
  const remote: WorkerModel = await loadModel(url, { worker: true, maxOperations: Infinity });
  const costliest: number = Math.max(...model.layers.map((layer) => layer.operations));
  const total: number = model.operations + remote.operations + model.maxOperations + remote.maxOperations;
  const parameters: number = model.parameters + remote.parameters;
  model.dispose();
  remote.dispose();
  return costliest + total + parameters;
}

export async function inWorker(url: string, x: Float32Array): Promise<number> {
  const model: WorkerModel = await loadModel(url, { worker: true, threads: 1 });
  const controller = new AbortController();
  const explanation: Explanation = await model.explain(x, { composite: 'epsilon-plus', signal: controller.signal });
  const logits: Float32Array = await model.predict(x, { signal: controller.signal });
  const evaluation = await evaluate(model, [x], { steps: 5, explain: { method: 'gradient' } });
  const status = await model.engineStatus();
  model.dispose();
  // @ts-expect-error: a WorkerModel's results are Promises
  const sync: Float32Array = model.predict(x);
  // @ts-expect-error: signal is an AbortSignal
  await model.explain(x, { signal: controller });
  return explanation.relevance[0] + logits[0] + (evaluation.lerf?.aopc ?? 0) + status.threads + sync.length;
}

export function located(): void {
  configure({ locateFile: (file) => `https://cdn.example.com/lrp-wasm/dist/${file}` });
  configure({ locateFile: (file) => new URL(file, 'https://cdn.example.com/lrp-wasm/dist/'), threads: 1 });
  configure({ locateFile: null });
  // @ts-expect-error: locateFile returns a URL or a string
  configure({ locateFile: (file: string) => file.length });
}

export async function singleFile(bytes: Uint8Array): Promise<inline.Model> {
  const model: inline.Model = await inline.loadModel(bytes, { signal: AbortSignal.timeout(1000) });
  const remote: inline.WorkerModel = await inline.loadModel(bytes, { worker: true, workerUrl: '/lrp-worker.js' });
  remote.dispose();
  return model;
}
