// The worker script of loadModel(…, { worker: true }) (dist/lrp-worker.js in browsers, lrp-worker.node.js in
// Node): it runs the library's own engine and answers the requests of worker/client.js, one at a time.
//   request: { id, op, args }       op: load | predict | predictBatch | explain | explainBatch | evaluate | status | dispose
//   cancel:  { cancel: id }         the page aborted request id while it runs: an evaluation stops at its next batch
//   answer:  { id, result, info? }  or { id, error: { name, message } }; evaluate also sends { id, progress: [done, total] }
// Results' typed arrays are transferred to the page, not copied.
import * as platform from '#platform';
import { configure, engineMemoryBytes, engineMemoryStatus, engineThreads, evaluate, loadModel, setEngineMemoryLimit } from '../index.js';

const models = new Map();
const cancelled = new Set();  // ids of running requests the page aborted
let running = null;           // the id of the request being answered
let nextHandle = 1;
const scope = platform.workerScope();

// The page's configure() and setEngineMemoryLimit(), applied before this worker's engine starts (its first load).
let configured = false;
function configureEngine({ threads, files, memoryLimit }) {
  if (configured) return;
  configure({ threads, locateFile: files ? (file) => files[file] ?? undefined : null });
  setEngineMemoryLimit(memoryLimit || null);
  configured = true;
}

function model(handle) {
  const found = models.get(handle);
  if (!found) throw new Error('this model has been disposed');
  return found;
}

// What a worker model knows without asking: read after loading and after each call (memoryBytes changes; a
// dynamic-sequence model's layers follow the last length).
function info(m) {
  return {
    inputShape: m.inputShape, inputType: m.inputType, outputSize: m.outputSize, layers: m.layers, memoryBytes: m.memoryBytes,
    operations: m.operations, maxOperations: m.maxOperations, parameters: m.parameters,
  };
}

const operations = {
  async load({ source, options, engine }) {
    configureEngine(engine);
    let m;
    try {
      m = await loadModel(source, options);
    } catch (error) {
      // "the engine already runs 2 threads": say which engine.
      if (/the engine/.test(error.message)) error.message = `${error.message} (the model worker's engine)`;
      throw error;
    }
    const handle = nextHandle++;
    models.set(handle, m);
    return { ...info(m), handle };
  },
  predict: ({ handle, args }) => model(handle).predict(...args),
  predictBatch: ({ handle, args }) => model(handle).predictBatch(...args),
  explain: ({ handle, args }) => model(handle).explain(...args),
  explainBatch: ({ handle, args }) => model(handle).explainBatch(...args),
  // evaluate() yields between batches, so a cancel message can arrive meanwhile: its onProgress then stops it.
  evaluate: ({ handle, args: [inputs, { progress, ...options }] }, id) => evaluate(model(handle), inputs, {
    ...options,
    onProgress(done, total) {
      if (cancelled.has(id)) throw new Error('aborted');
      if (progress) scope.post({ id, progress: [done, total] });
    },
  }),
  status: () => ({ threads: engineThreads(), memoryBytes: engineMemoryBytes(), ...engineMemoryStatus() }),
  dispose({ handle }) {
    models.get(handle)?.dispose();
    models.delete(handle);
    return null;
  },
};

// Every ArrayBuffer in a result, to transfer.
function buffers(value, found = new Set()) {
  if (ArrayBuffer.isView(value)) found.add(value.buffer);
  else if (Array.isArray(value)) value.forEach((item) => buffers(item, found));
  else if (value && typeof value === 'object') Object.values(value).forEach((item) => buffers(item, found));
  return [...found];
}

scope.onMessage(async ({ id, op, args, cancel }) => {
  if (cancel !== undefined) {
    if (cancel === running) cancelled.add(cancel);  // (an answer already on its way needs nothing)
    return;
  }
  running = id;
  try {
    const operation = operations[op];
    if (!operation) throw new Error(`unknown request '${op}'`);
    const result = await operation(args, id);
    const answer = { id, result };
    if (args?.handle && models.has(args.handle)) answer.info = info(models.get(args.handle));
    scope.post(answer, buffers(result));
  } catch (error) {
    scope.post({ id, error: { name: error?.name ?? 'Error', message: error?.message ?? String(error) } });
  } finally {
    cancelled.delete(id);
    running = null;
  }
});
