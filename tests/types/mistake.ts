// A deliberate type error (tests/package.test.mjs): each type-check must report it, and nothing else.
import { loadModel } from 'lrp-wasm';

export async function mistake(): Promise<number> {
  const model = await loadModel('model.onnx', { worker: true });
  const logits: Float32Array = model.predict(new Float32Array(784)); // wrong: a WorkerModel's predict returns a Promise
  return logits[0];
}
