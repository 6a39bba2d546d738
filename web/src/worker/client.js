// loadModel(source, { worker: true }): the model lives in a worker (a module Worker in browsers, a worker_threads
// Worker in Node) that runs its own engine; this thread only posts requests and receives results, so a page
// stays responsive while a 50 MB model loads or a ResNet explains.
//
// One worker serves every worker model of this thread (one engine, as on the main thread); it is started by the
// first such loadModel and ends when its last model is disposed (wasm memory is only given back that way).
// Requests run one at a time in the order they were made. The queue is kept here, not in the worker, so that an
// AbortSignal can drop a request that has not started: a worker busy with a call cannot read messages.
// Inputs are copied (the caller's arrays stay usable); results are transferred, not copied.
import { describe } from '../describe.js';
import { MAX_TOKENS, copyArray, copyList, expectedInput, tooManyTokens } from '../arguments.js';

const ERROR_TYPES = { TypeError, RangeError, Error };

/** One worker and its queue. */
class WorkerConnection {
  #endpoint;
  #queue = [];        // requests not yet posted: { message, resolve, reject, signal, onAbort, onProgress }
  #running = null;    // the request the worker is working on
  #nextId = 1;
  #models = 0;        // worker models alive (loaded and not disposed)
  #failure = null;    // set when the worker died: every later request rejects with it
  #onEnd;

  constructor(endpoint, onEnd) {
    this.#endpoint = endpoint;
    this.#onEnd = onEnd;
    endpoint.onMessage((message) => this.#receive(message));
    endpoint.onError((error) => this.#fail(error));
    endpoint.unref();
  }

  get failed() { return this.#failure !== null; }

  /**
   * Queues a request; resolves with the worker's answer, { result, info? }. onDiscard(answer) gets the answer of a
   * request that was aborted while it ran (e.g. to free the model an aborted load made).
   */
  request(op, args, { signal, onProgress, onDiscard, transfer = [] } = {}) {
    if (this.#failure) return Promise.reject(this.#failure);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const entry = { message: { op, args }, transfer, resolve, reject, signal, onProgress, onDiscard, onAbort: null };
      if (signal) {
        entry.onAbort = () => this.#abort(entry);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#queue.push(entry);
      this.#pump();
    });
  }

  modelLoaded() { this.#models += 1; }

  // A model was disposed: when it was the last, the worker ends once the queue is empty.
  modelDisposed() {
    this.#models -= 1;
    this.#pump();
  }

  #pump() {
    if (this.#running || this.#failure) return;
    const entry = this.#queue.shift();
    if (!entry) {
      if (this.#models === 0) this.#end();
      else this.#endpoint.unref();
      return;
    }
    entry.id = this.#nextId++;
    this.#running = entry;
    this.#endpoint.ref();
    try {
      this.#endpoint.post({ id: entry.id, ...entry.message }, entry.transfer);
    } catch (error) {
      // Something in the arguments cannot be copied to a worker (a function, a Proxy, a detached buffer).
      this.#running = null;
      this.#settle(entry, null, new TypeError(`${entry.message.op}: an argument cannot be sent to the worker: ${error.message}`));
      this.#pump();
    }
  }

  #receive(message) {
    const entry = this.#running;
    if (!entry || message.id !== entry.id) return;
    if (message.progress) {
      if (!entry.settled) entry.onProgress?.(...message.progress);
      return;
    }
    this.#running = null;
    if (entry.settled) {
      if (!message.error) entry.onDiscard?.(message);
    } else if (message.error) {
      const Type = ERROR_TYPES[message.error.name] ?? Error;
      this.#settle(entry, null, new Type(message.error.message));
    } else {
      this.#settle(entry, message, null);  // { result, info? }
    }
    this.#pump();
  }

  // Aborted before it started: dropped. While it runs: rejected now, and the worker is told, which stops an
  // evaluation at its next batch; a call that cannot stop finishes, and its answer is discarded (#receive).
  #abort(entry) {
    const index = this.#queue.indexOf(entry);
    if (index >= 0) this.#queue.splice(index, 1);
    else if (entry === this.#running) this.#endpoint.post({ cancel: entry.id }, []);
    this.#settle(entry, null, abortReason(entry.signal));
    if (index >= 0) this.#pump();
  }

  #settle(entry, result, error) {
    if (entry.settled) return;
    entry.settled = true;
    entry.signal?.removeEventListener('abort', entry.onAbort);
    if (error) entry.reject(error);
    else entry.resolve(result);
  }

  #fail(error) {
    if (this.#failure) return;
    this.#failure = new Error(`lrp-wasm: the model worker stopped: ${error?.message ?? error}`);
    const entries = [this.#running, ...this.#queue].filter(Boolean);
    this.#running = null;
    this.#queue = [];
    for (const entry of entries) this.#settle(entry, null, this.#failure);
    this.#end();
  }

  #end() {
    this.#onEnd(this);
    this.#endpoint.terminate();
  }
}

const isObject = (value) => value !== null && typeof value === 'object';

// predict(x, { signal }): no other option.
function signalOnly(options, where) {
  if (options === null || typeof options !== 'object') return options;  // #call rejects it
  for (const key of Object.keys(options))
    if (key !== 'signal') return { invalid: new Error(`${where}: unknown option '${key}' (known: signal)`) };
  return options;
}

function abortReason(signal) {
  if (signal.reason !== undefined) return signal.reason;
  return typeof DOMException === 'function' ? new DOMException('This operation was aborted', 'AbortError') : new Error('aborted');
}

// The worker of each worker script (by URL): normally one.
const connections = new Map();

function connection(platform, workerUrl) {
  const key = workerUrl ? String(workerUrl) : '';
  let open = connections.get(key);
  if (!open || open.failed) {
    open = new WorkerConnection(platform.startWorker(workerUrl), (ended) => {
      if (connections.get(key) === ended) connections.delete(key);
    });
    connections.set(key, open);
  }
  return open;
}

function checkSignal(signal, where) {
  if (signal === undefined) return;
  if (signal === null || typeof signal !== 'object' || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')
    throw new TypeError(`${where}: signal must be an AbortSignal (got ${describe(signal)})`);
}

// A model source the worker can read: paths and URLs as strings (relative ones resolved against this page),
// bytes copied, Blobs and Files as they are (structured clone shares their data); a Response is read here.
async function sendableSource(source, platform) {
  if (typeof Response === 'function' && source instanceof Response) {
    if (!source.ok) throw new Error(`loadModel: fetching ${source.url || 'the Response'} failed: HTTP ${source.status}`);
    const buffer = await source.arrayBuffer();
    return { source: buffer, transfer: [buffer] };
  }
  if (source instanceof URL) return { source: source.href, transfer: [] };
  if (typeof source === 'string' && platform.name !== 'node' && source !== '')
    return { source: platform.resolveLocation(source).href, transfer: [] };
  return { source, transfer: [] };
}

/**
 * loadModel(source, { worker: true, workerUrl?, threads?, signal? }) → a WorkerModel.
 * @param {object} platform the build's platform module (startWorker, resolveLocation)
 * @param {{ threads?: number, files: object|null, memoryLimit: number }} engine what configure() and
 *   setEngineMemoryLimit() set on this thread: the worker's engine starts with them (host.js)
 */
export async function loadWorkerModel(platform, source, options, engine) {
  const { worker, workerUrl, signal, ...loadOptions } = options;
  checkSignal(signal, 'loadModel');
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL))
    throw new TypeError(`loadModel: workerUrl must be a URL or a string (got ${describe(workerUrl)})`);
  const sendable = await sendableSource(source, platform);
  const open = connection(platform, workerUrl === undefined ? null : workerUrl);
  open.modelLoaded();  // counted now: the worker must not end while this load is queued
  let info;
  try {
    // A load aborted while it runs still makes the model in the worker: freed when its answer comes.
    const onDiscard = ({ result }) => open.request('dispose', { handle: result.handle }).catch(() => {});
    ({ result: info } = await open.request('load', { source: sendable.source, options: loadOptions, engine }, { signal, onDiscard, transfer: sendable.transfer }));
  } catch (error) {
    open.modelDisposed();
    throw error;
  }
  return new WorkerModel(open, info);
}

// Dropped without dispose(): the worker is told to free the model (see index.js's registry for the main thread).
const undisposedWorkerModels = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ open, handle }) => {
    open.request('dispose', { handle }).catch(() => {});
    open.modelDisposed();
  }) : null;

/**
 * A model in a worker: Model's properties (read when it loaded) and methods, each returning a Promise and taking
 * an AbortSignal (`signal` in explain's options, or { signal } as the last argument of predict and predictBatch).
 */
export class WorkerModel {
  #open;
  #handle;
  #info;
  #token = {};

  constructor(open, info) {
    this.#open = open;
    this.#handle = info.handle;
    this.#info = info;
    undisposedWorkerModels?.register(this, { open, handle: info.handle }, this.#token);
  }

  /** Always true: the methods return Promises. */
  get worker() { return true; }
  get inputShape() { return [...this.#info.inputShape]; }
  get inputType() { return this.#info.inputType; }
  get outputSize() { this.#live(); return this.#info.outputSize; }
  /** The layers as they were when the model loaded (or after the last call, for a dynamic sequence). */
  get layers() { this.#live(); return this.#info.layers.map((layer) => ({ ...layer, outputShape: [...layer.outputShape] })); }
  /** Bytes this model holds in its worker's engine, as of its last call. */
  get memoryBytes() { this.#live(); return this.#info.memoryBytes; }
  /** Multiply-adds and comparisons of one forward pass for one input (as of the last call, for a dynamic sequence). */
  get operations() { this.#live(); return this.#info.operations; }
  /** The values of the model's floating-point initializers (see Model#parameters). */
  get parameters() { return this.#info.parameters; }
  /** loadModel's maxOperations, checked in the worker. */
  get maxOperations() { return this.#info.maxOperations; }

  predict(x, options = {}) { return this.#call('predict', [() => this.#copyInput(x, 'predict')], signalOnly(options, 'predict')); }
  predictBatch(inputs, options = {}) {
    return this.#call('predictBatch', [() => this.#copyInputs(inputs, 'predictBatch')], signalOnly(options, 'predictBatch'));
  }

  explain(x, options = {}) {
    if (!isObject(options)) return Promise.reject(new TypeError('explain: options must be an object'));
    const { signal, ...rest } = options;
    return this.#call('explain', [() => this.#copyInput(x, 'explain'), rest], { signal });
  }

  explainBatch(inputs, options = {}) {
    if (!isObject(options)) return Promise.reject(new TypeError('explainBatch: options must be an object'));
    const { signal, ...rest } = options;
    return this.#call('explainBatch', [() => this.#copyInputs(inputs, 'explainBatch'), rest], { signal });
  }

  /** evaluate(model, …) of a worker model: run in the worker (onProgress is called here). */
  evaluate(inputs, options = {}) {
    if (!isObject(options)) return Promise.reject(new TypeError('evaluate: options must be an object'));
    const { signal, onProgress, ...rest } = options;
    if (onProgress !== undefined && typeof onProgress !== 'function')
      return Promise.reject(new TypeError(`evaluate: onProgress must be a function (got ${describe(onProgress)})`));
    const copies = () => copyList(inputs, 'evaluate: inputs')
      .map((x, i) => copyArray(x, `evaluate: inputs[${i}]`, { expected: 'a Float32Array (or an array of numbers)', ...this.#inputLength(`evaluate: inputs[${i}]`) }));
    return this.#call('evaluate', [copies, { ...rest, progress: onProgress !== undefined }], { signal, onProgress });
  }

  /** The worker's engine: { threads, memoryBytes, limit, used, available } (see engineThreads, engineMemoryStatus). */
  engineStatus(options = {}) { return this.#call('status', [], signalOnly(options, 'engineStatus')); }

  /** Frees the model in its worker (the worker ends with its last model). Idempotent; later calls reject. */
  dispose() {
    if (!this.#open) return;
    const open = this.#open;
    this.#open = null;
    undisposedWorkerModels?.unregister(this.#token);
    open.request('dispose', { handle: this.#handle }).catch(() => {});
    open.modelDisposed();
  }

  [Symbol.dispose ?? Symbol.for('Symbol.dispose')]() { this.dispose(); }

  #live() {
    if (!this.#open) throw new Error('this model has been disposed');
  }

  // The caller's arrays are read once, here, as Model does (arguments.js): the same TypeErrors, and what is sent
  // is our copy, which structured clone can always send (it cannot send a Proxy, nor a detached buffer).
  #copyInput(x, what) {
    return copyArray(x, what, { expected: expectedInput(this.#info.inputType), ...this.#inputLength(what) });
  }

  // How many values an input may have (a Proxy may claim any length), and Model's words past it.
  #inputLength(what) {
    const { inputShape, inputType } = this.#info;
    if (inputShape.includes(-1)) {
      return { maxLength: MAX_TOKENS, tooLong: tooManyTokens(what) };
    }
    const size = inputShape.reduce((a, b) => a * b, 1);
    const unit = inputType === 'float32' ? 'values' : 'token ids';
    return { maxLength: size, tooLong: (length) => new Error(`${what}: input has ${length} ${unit}, expected ${size} (shape [${inputShape.join(', ')}])`) };
  }

  #copyInputs(inputs, what) {
    return copyList(inputs, what).map((x, i) => this.#copyInput(x, `${what}[${i}]`));
  }

  // `args[0]`, when given, is a function that copies the inputs: called after the checks of the model and options.
  async #call(op, [copyInputs, ...rest], options) {
    this.#live();
    if (options === null || typeof options !== 'object') throw new TypeError(`${op}: options must be an object`);
    if (options.invalid) throw options.invalid;
    checkSignal(options.signal, op);
    const inputs = copyInputs ? [copyInputs()] : [];
    this.#live();  // again: reading the caller's values may have run a getter that disposed the model
    // The copies are ours: their buffers move to the worker instead of being copied again.
    const transfer = inputs.flat(2).filter((x) => ArrayBuffer.isView(x)).map((x) => x.buffer);
    const args = [...inputs, ...rest];
    const reply = await this.#open.request(op, { handle: this.#handle, args }, { ...options, transfer });
    if (reply.info) this.#info = { ...this.#info, ...reply.info };
    return reply.result;
  }
}
