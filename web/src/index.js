// lrp-wasm: the public API. Loads ONNX models into the WebAssembly engine and explains predictions.
// This wrapper owns every engine object's lifetime, validates arguments (so that the engine only ever
// sees well-formed requests) and converts typed arrays; results are always fresh copies.
import createLrpEngine from '../../build/wasm/lrp_engine.js';
// The build's platform (web/src/platform/: browser, node or inline), chosen by scripts/bundle.mjs.
import * as platform from '#platform';
import { convertOnnx, decodeOnnx, parameterCount } from './onnx/index.js';
import { describe } from './describe.js';
import { MAX_TOKENS, checkBytes, copyArray, copyList, expectedInput, tooManyTokens } from './arguments.js';
import { evaluate as evaluateModel } from './evaluate.js';
import { loadWorkerModel, WorkerModel } from './worker/client.js';

export const composites = Object.freeze([
  'epsilon-plus', 'epsilon-plus-flat', 'epsilon-alpha2-beta1', 'epsilon-alpha2-beta1-flat',
  'epsilon-gamma-box', 'deep-taylor', 'attn-lrp', 'cp-lrp',
]);
export const rules = Object.freeze([
  'epsilon', 'zero', 'z-plus', 'alpha-beta', 'gamma', 'z-box', 'w-square', 'flat', 'pass', 'norm',
]);
export const methods = Object.freeze([
  'lrp', 'gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad',
]);

const DEFAULT_COMPOSITE = 'epsilon-plus-flat';
const FLOAT_INPUT = expectedInput('float32');
const EXPLAIN_OPTIONS = new Set([
  'target', 'method', 'composite', 'epsilon', 'gamma', 'low', 'high', 'stabilizer', 'zeroBias', 'rules',
  'layerRelevance', 'outputRelevance', 'steps', 'samples', 'noiseLevel', 'seed', 'restrict', 'product',
  'attention',
]);
/** Rules for products of two activations: 'uniform' (each factor R/2) or 'signal' (all to the non-gate). */
export const productRules = Object.freeze(['uniform', 'signal']);
const RULE_OPTIONS = new Set(['rule', 'epsilon', 'gamma', 'alpha', 'beta', 'low', 'high', 'stabilizer', 'zeroBias']);

let enginePromise = null;
let engineModule = null;
let memoryLimit = 0;  // setEngineMemoryLimit's cap (0: the module's maximum, 4 GB)
const MAX_ENGINE_MEMORY = 2 ** 32;  // wasm32's limit, the engine's MAXIMUM_MEMORY
/** The thread count the engine was started with (as asked: threads > 1 may run single-threaded). */
let engineThreadsAsked = null;
/** The thread count configure() asked for before the engine started. */
let configuredThreads = null;
/** configure({ locateFile }): where the engine's files are, if not beside the bundle. */
let locateFile = null;

// One engine instance (one wasm memory) serves every model of the page or process, so its threads are fixed
// when it starts: threads === 1, or no usable SharedArrayBuffer (a page that is not cross-origin isolated),
// loads the single-thread build (its wasm, dist/lrp-engine.wasm, beside the bundle or embedded in the inline
// build); otherwise the pthreads build, dist/lrp-engine-mt.js, with a pool of threads − 1 workers.
function engine(threads) {
  if (enginePromise) {
    if (threads == null) return enginePromise;
    return enginePromise.then((module) => {
      checkStartedThreads(threads, 'loadModel');
      return module;
    });
  }
  engineThreadsAsked = threads ?? configuredThreads;
  const starting = (async () => {
    const asked = engineThreadsAsked ?? (engineThreadsAsked = await defaultThreads());
    try {
      if (!(asked > 1 && sharedMemoryUsable())) return (engineModule = await startSingleThreadEngine());
      try {
        return (engineModule = await startThreadedEngine(asked));
      } catch (error) {
        throw new Error(`the multi-threaded engine (lrp-engine-mt.js beside the package's bundle) did not start: ` +
          `${error?.message ?? error}; configure({ threads: 1 }) runs the single-thread build`);
      }
    } catch (error) {
      // Not started: a later configure()/loadModel() may try again (with threads: 1, another locateFile).
      if (enginePromise === starting) enginePromise = engineThreadsAsked = null;
      throw error;
    }
  })();
  enginePromise = starting;
  return enginePromise;
}

const inNodeJs = typeof process !== 'undefined' && process.versions?.node != null;

// min(4, cores): cores from navigator.hardwareConcurrency (browsers, Deno) or os.availableParallelism() (Node).
async function defaultThreads() {
  const cores = await platform.cores();
  return Math.max(1, Math.min(4, Math.floor(cores) || 1));
}

// The URL of one of the engine's files: lrp-engine.wasm, lrp-engine-mt.js, lrp-engine-mt.worker.js. Null for the
// wasm of the inline build, which is embedded.
function engineFile(file) {
  if (!locateFile) return platform.defaultEngineFile(file);
  const located = locateFile(file);
  if (located === null || located === undefined) return platform.defaultEngineFile(file);  // "the usual place"
  if (located instanceof URL) return located;
  if (typeof located === 'string' && located !== '') return platform.resolveLocation(located);
  throw new TypeError(`configure: locateFile('${file}') must return a URL or a string (got ${describe(located)})`);
}

// The single-thread engine. Its wasm is instantiated here (Emscripten's instantiateWasm hook) rather than by
// Emscripten's loader, so that each platform chooses how: streamed from a URL, read from disk, or embedded.
async function startSingleThreadEngine() {
  const url = engineFile('lrp-engine.wasm');
  let fail;
  const failed = new Promise((resolve, reject) => { fail = reject; });
  const started = createLrpEngine({
    instantiateWasm(imports, receiveInstance) {
      platform.instantiateWasm(url, imports).then(({ instance, module }) => receiveInstance(instance, module),
        (error) => fail(new Error(`the engine's wasm ${url ? `(${url.href})` : ''} could not be loaded: ${error?.message ?? error}` +
          `${url ? '; configure({ locateFile }) says where lrp-engine.wasm is served' : ''}`)));
      return {};
    },
  });
  return Promise.race([started, failed]);
}

// Shared wasm memory needs SharedArrayBuffer, which browsers offer only to cross-origin isolated pages.
function sharedMemoryUsable() {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return false;
  if (!inNodeJs && globalThis.crossOriginIsolated !== true) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

const THREADED_START_LIMIT_MS = 60_000;

async function startThreadedEngine(threads) {
  // Beside the bundle in dist/: the module (its pthread workers import it again: mainScriptUrlOrBlob) and the
  // workers' script.
  const moduleUrl = engineFile('lrp-engine-mt.js');
  const workerUrl = engineFile('lrp-engine-mt.worker.js');
  const options = { lrpPoolSize: threads - 1, mainScriptUrlOrBlob: moduleUrl.href, ...platform.threadedEngineOptions(moduleUrl, workerUrl) };
  // Emscripten waits for every worker of the pool: one that fails to start (its script not found, or refused by a
  // Content-Security-Policy) would leave the start unsettled. Its error handler calls lrpOnWorkerError instead
  // (scripts/bundle.mjs), and the abort hook and a time limit catch any other way the pool may not come up.
  let fail;
  const failed = new Promise((resolve, reject) => { fail = reject; });
  const where = workerUrl.protocol === 'blob:' || workerUrl.protocol === 'data:' ? 'from a blob: URL' : workerUrl.href;
  options.lrpOnWorkerError = (event) => {
    const why = event?.message ?? '';
    fail(new Error(`a thread's worker (${where}) failed to start${why ? `: ${why}` : ''}`));
  };
  // A worker the page's Content-Security-Policy refuses gives no error event in Chromium, only this one.
  const refused = (event) => {
    if (!/^(worker-src|script-src|child-src|default-src)/.test(event.effectiveDirective ?? event.violatedDirective ?? '')) return;
    fail(new Error(`the page's Content-Security-Policy refused a thread's worker (${where}; ${event.effectiveDirective ?? event.violatedDirective} ` +
      `does not allow ${event.blockedURI || 'it'}): allow it (e.g. worker-src 'self' blob:)`));
  };
  globalThis.addEventListener?.('securitypolicyviolation', refused);
  // Emscripten's advice about blocking the main thread is about the kernels' joins, which wait for the pool by design.
  options.printErr = (text) => { if (!String(text).startsWith('Blocking on the main thread')) console.warn(text); };
  options.onAbort = (what) => fail(new Error(`it aborted: ${what}`));
  const timer = setTimeout(() => fail(new Error(`its ${threads - 1} worker threads did not start within ${THREADED_START_LIMIT_MS / 1000} s`)), THREADED_START_LIMIT_MS);
  let module;
  try {
    // The comments keep apps' bundlers off this import (scripts/bundle.mjs makes sure they stay).
    const { default: createThreadedEngine } = await import(/* webpackIgnore: true */ /* @vite-ignore */ moduleUrl.href);
    module = await Promise.race([createThreadedEngine(options), failed]);
  } finally {
    clearTimeout(timer);
    globalThis.removeEventListener?.('securitypolicyviolation', refused);
  }
  module.setThreadCount(threads);
  module.unrefWorkers();
  return module;
}

// After the engine started, a thread count is accepted if it is the one asked for at the start or the one that
// runs (1 when the single-thread build loaded because SharedArrayBuffer is not usable).
function checkStartedThreads(threads, where) {
  if (threads === engineThreadsAsked || (engineModule && threads === engineModule.threadCount())) return;
  const state = engineModule ? `already runs ${engineModule.threadCount()} thread${engineModule.threadCount() === 1 ? '' : 's'}`
    : engineThreadsAsked == null ? 'is already starting with the default thread count, min(4, cores)'
    : `is already starting with threads: ${engineThreadsAsked}`;
  throw new Error(`${where}: the engine ${state} (asked for ${threads}); threads are fixed when the ` +
    `engine starts (the first loadModel, even one that fails, or configure before it)`);
}

function checkThreads(threads, where) {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    const Type = typeof threads === 'number' ? RangeError : TypeError;
    throw new Type(`${where}: threads must be an integer from 1 to 64 (got ${describe(threads)})`);
  }
}

/**
 * Sets how the engine starts, before it starts (the first loadModel starts it): its thread count, and where its
 * files are served from (locateFile, like Emscripten's and sql.js's hook; onnxruntime-web calls it wasmPaths).
 * Throws if the engine already started with a different thread count or a locateFile is set too late.
 * @param {{ threads?: number, locateFile?: (file: string) => string | URL }} options
 */
export function configure(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`configure: expected an options object (got ${describe(options)})`);
  for (const key of Object.keys(options))
    if (key !== 'threads' && key !== 'locateFile') throw new Error(`configure: unknown option '${key}' (known: threads, locateFile)`);
  if (options.locateFile !== undefined) {
    if (options.locateFile !== null && typeof options.locateFile !== 'function')
      throw new TypeError(`configure: locateFile must be a function from a file name to its URL (got ${describe(options.locateFile)})`);
    if (enginePromise && options.locateFile !== locateFile)
      throw new Error('configure: locateFile is used when the engine starts, and it has already started (the first loadModel starts it)');
    locateFile = options.locateFile;
  }
  if (options.threads === undefined) return;
  checkThreads(options.threads, 'configure');
  if (enginePromise) {
    checkStartedThreads(options.threads, 'configure');
    return;
  }
  configuredThreads = options.threads;
}

/** Threads the engine runs: 1 for the single-thread build, 0 before the engine has started. */
export function engineThreads() {
  return engineModule ? engineModule.threadCount() : 0;
}

/** Bytes of WebAssembly memory the engine holds: its high-water mark, since wasm memory only grows. */
export function engineMemoryBytes() {
  // The pthreads build exports its (shared) memory: its HEAP8 view is only renewed when JavaScript touches the
  // heap, so it misses growth that happened on a worker thread.
  return engineModule ? (engineModule.wasmMemory?.buffer ?? engineModule.HEAP8.buffer).byteLength : 0;
}

/**
 * The engine's memory budget in bytes: `limit` (4 GB, the WebAssembly maximum, or setEngineMemoryLimit's cap),
 * `used` (what models and calls hold now; memory freed inside the engine counts as available again) and
 * `available` (what loads and calls may still take).
 */
export function engineMemoryStatus() {
  if (!engineModule) {
    const limit = memoryLimit > 0 ? memoryLimit : MAX_ENGINE_MEMORY;
    return { limit, used: 0, available: limit };
  }
  const { limit, used, available } = engineModule.memoryStatus();
  return { limit, used, available };
}

/**
 * Caps the memory the engine may use (bytes, below the 4 GB WebAssembly maximum; null or 0 removes the cap).
 * Loads and calls that would not fit are refused with an Error saying what they need; explainBatch, predictBatch
 * and the points of integrated gradients and SmoothGrad run in smaller chunks.
 */
export function setEngineMemoryLimit(bytes) {
  if (bytes !== null && bytes !== undefined && typeof bytes !== 'number')
    throw new TypeError(`setEngineMemoryLimit: expected a number of bytes or null (got ${describe(bytes)})`);
  if (typeof bytes === 'number' && !(Number.isInteger(bytes) && bytes >= 0 && bytes <= MAX_ENGINE_MEMORY))
    throw new RangeError(`setEngineMemoryLimit: expected a whole number of bytes from 0 to ${MAX_ENGINE_MEMORY} ` +
      `(4 GB, the WebAssembly maximum; 0 or null removes the cap) (got ${describe(bytes)})`);
  memoryLimit = bytes ?? 0;
  engineModule?.setMemoryLimit(memoryLimit);
}

/**
 * Loads an ONNX model.
 * @param {ArrayBuffer|Uint8Array|Blob|Response|string|URL} source ONNX bytes, a File or Blob, a Response, a file
 *   path (Node) or a URL.
 * @param {{ threads?: number, worker?: boolean, workerUrl?: string|URL, signal?: AbortSignal, maxOperations?: number }} [options]
 *   threads: the engine's thread count if this call starts it; worker: load it into a worker (WorkerModel);
 *   maxOperations: the most work one forward pass (model.operations) or one explanation's points may take.
 */
export async function loadModel(source, options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`loadModel: expected an options object (got ${describe(options)})`);
  for (const key of Object.keys(options))
    if (!LOAD_OPTIONS.includes(key)) throw new Error(`loadModel: unknown option '${key}' (known: ${LOAD_OPTIONS.join(', ')})`);
  if (options.threads !== undefined) checkThreads(options.threads, 'loadModel');
  const maxOperations = checkMaxOperations(options.maxOperations);
  if (options.worker !== undefined && typeof options.worker !== 'boolean')
    throw new TypeError(`loadModel: worker must be true or false (got ${describe(options.worker)})`);
  checkBytes(source, 'loadModel');  // before a worker load too: a Proxy or a detached buffer cannot be sent to it
  if (options.worker) return loadWorkerModel(platform, source, options, workerEngineSettings(options.threads));
  if (options.workerUrl !== undefined) throw new Error('loadModel: workerUrl is only used with worker: true');
  const { signal } = options;
  if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean'))
    throw new TypeError(`loadModel: signal must be an AbortSignal (got ${describe(signal)})`);
  signal?.throwIfAborted();
  const started = engine(options.threads);
  started.catch(() => {});  // awaited below, after reading the source: not an unhandled rejection meanwhile
  const bytes = await readSource(source);
  const decoded = decodeOnnx(bytes);
  const spec = convertOnnx(decoded);
  const module = await started;
  signal?.throwIfAborted();
  module.setMemoryLimit(memoryLimit);  // a cap set before the engine started
  return new Model(module, spec, decoded, maxOperations);
}

const LOAD_OPTIONS = ['threads', 'worker', 'workerUrl', 'signal', 'maxOperations'];

/**
 * The default of loadModel's maxOperations: 1e11 multiply-adds and comparisons. The costliest models of the zoo
 * (docs/models.md) are ViT-B/16 (1.76e10 per 224×224 image) and VGG-16 (1.55e10); VGG-19 would be 1.96e10, so
 * every zoo model loads with 5× headroom; at the 3.5e10 per second of VGG-16's predict on 2 threads (docs/models.md), a
 * forward pass at the limit takes about 3 s (longer on one thread), and a call above it would block its thread
 * for longer than a page should.
 */
const DEFAULT_MAX_OPERATIONS = 1e11;

// maxOperations: a positive number of operations, or Infinity for no limit; undefined: the default.
function checkMaxOperations(value) {
  if (value === undefined) return DEFAULT_MAX_OPERATIONS;
  if (typeof value !== 'number')
    throw new TypeError(`loadModel: maxOperations must be a number of operations (got ${describe(value)})`);
  if (!(value > 0))
    throw new RangeError(`loadModel: maxOperations must be a positive number of operations, or Infinity for no limit (got ${describe(value)})`);
  return value;
}

// A count of operations for messages: exact below a million, then three significant digits (1.23e10).
function formatOperations(count) {
  if (count === Infinity) return 'Infinity';
  if (count < 1e6) return String(Math.round(count));
  const [mantissa, exponent] = count.toExponential(2).split('e');
  return `${mantissa.replace(/\.?0+$/, '')}e${Number(exponent)}`;
}

const ENGINE_FILES = ['lrp-engine.wasm', 'lrp-engine-mt.js', 'lrp-engine-mt.worker.js'];

// What configure() and setEngineMemoryLimit() set on this thread, for a model worker's engine (it starts with
// the first worker model): the thread count, the engine's files (locateFile is a function, which cannot be sent:
// its answers are), the memory cap.
function workerEngineSettings(threads) {
  const files = locateFile ? Object.fromEntries(ENGINE_FILES.map((file) => [file, engineFile(file)?.href ?? null])) : null;
  return { threads: threads ?? configuredThreads ?? undefined, files, memoryLimit };
}

async function readSource(source) {
  if (source instanceof Uint8Array) return source;  // a Node Buffer too
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  // A File from an <input type="file"> or a drop, or any Blob.
  if (typeof Blob === 'function' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (typeof Response === 'function' && source instanceof Response) return readResponse(source, source.url || 'the Response');
  if (typeof source !== 'string' && !(source instanceof URL))
    throw new TypeError(`loadModel: expected ONNX bytes (ArrayBuffer or Uint8Array), a File, Blob or Response, a file path or a URL (got ${describe(source)})`);
  if (typeof source === 'string' && source.length === 0) throw new Error('loadModel: empty source');
  const isUrl = source instanceof URL || (/^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source));
  // Node reads paths and file: URLs from disk; a browser fetches every string (relative to the page).
  if (platform.name === 'node' && (!isUrl || String(source).startsWith('file:'))) {
    try {
      return await platform.readFile(String(source).startsWith('file:') ? new URL(String(source)) : source);
    } catch (error) {
      throw new Error(`loadModel: ${error.message}`);
    }
  }
  let response;
  try {
    response = await fetch(source);
  } catch (error) {
    throw new Error(`loadModel: fetching ${source} failed: ${error.message}`);
  }
  return readResponse(response, source);
}

async function readResponse(response, what) {
  if (!response.ok) throw new Error(`loadModel: fetching ${what} failed: HTTP ${response.status}`);
  if (response.bodyUsed) throw new Error(`loadModel: the body of ${what} has already been read`);
  return new Uint8Array(await response.arrayBuffer());
}

// Models dropped without dispose() (issue 11): when the garbage collector collects one, its engine graph is
// deleted here and one warning per process names dispose(). The registry holds a box with the engine handle,
// never the Model itself, which would keep the Model alive.
let warnedUndisposed = false;
const undisposedModels = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((box) => {
  if (!box.engine) return;
  box.engine.delete();
  box.engine = null;
  if (warnedUndisposed) return;
  warnedUndisposed = true;
  console.warn('lrp-wasm: a model was garbage-collected without dispose(); its engine memory is freed now, but ' +
    'call model.dispose() when you are done with a model: all models share one engine, and the collector may ' +
    'come late or never');
}) : null;
const disposeSymbol = Symbol.dispose ?? Symbol.for('Symbol.dispose');

class Model {
  #module;
  #engine;
  #box = { engine: null };  // what the FinalizationRegistry deletes (see undisposedModels)
  #layers;
  #categories;
  #inputShape;
  #inputSize;
  #outputSize;
  #inputType;
  #vocabularySize;
  #inputConstants;
  #dynamicAxes;
  #decoded;
  #maxOperations;
  #onnxOperators;  // ONNX node name → its operator type, for messages
  #parameters;

  constructor(module, spec, decoded, maxOperations = DEFAULT_MAX_OPERATIONS) {
    this.#module = module;
    this.#maxOperations = maxOperations;
    this.#onnxOperators = new Map(decoded.graph.node.map((node) => [node.displayName, node.opType]));
    this.#parameters = parameterCount(decoded.graph);
    this.#inputType = spec.inputType ?? 'float32';
    this.#vocabularySize = spec.vocabularySize ?? null;
    this.#dynamicAxes = Object.freeze([...(spec.dynamicAxes ?? [])]);
    // A token model with a dynamic sequence is converted again for each new length (#useLength).
    this.#decoded = this.#dynamicAxes.length > 0 ? decoded : null;
    this.#build(spec);
    undisposedModels?.register(this, this.#box, this.#box);
  }

  // Builds the engine graph of `spec`; on success it replaces the current one (if any).
  #build(spec) {
    const weightBytes = spec.nodes.reduce((sum, node) => sum +
      Object.values(node).reduce((bytes, value) => bytes + (value instanceof Float32Array ? value.byteLength : 0), 0), 0);
    this.#module.requireModelFits(weightBytes, spec.nodes.length);
    const built = new this.#module.Model(spec.inputShape);
    try {
      spec.nodes.forEach((node) => addNode(built, node));
      this.#requireOperations(built, spec.nodes);
      this.#inputSize = built.inputSize();
      this.#outputSize = built.outputSize();
    } catch (error) {
      built.delete();
      throw error;
    }
    this.#engine?.delete();
    this.#engine = built;
    this.#box.engine = built;
    this.#inputConstants = spec.inputConstants ?? null;
    this.#inputShape = Object.freeze([...spec.inputShape]);
    this.#categories = spec.nodes.map(conservationCategory);
    this.#layers = Object.freeze(spec.nodes.map((node, index) => Object.freeze({
      index,
      name: node.name,
      kind: built.layerKind(index),
      outputShape: Object.freeze(Array.from(built.layerShape(index))),
      operations: built.layerOperations(index),
    })));
  }

  // A work bomb (a few bytes of attributes asking for a huge window or kernel) is refused here, after its layers
  // exist (their shapes give the count) and before any call runs them. Also when a dynamic sequence is converted
  // for a new length (#useLength says which).
  #requireOperations(built, nodes) {
    const total = built.operations();
    if (total <= this.#maxOperations) return;
    const costliest = built.costliestLayer();
    const node = nodes[costliest];
    throw new Error(`the model needs ${formatOperations(total)} operations per input (multiply-adds and ` +
      `comparisons of one forward pass), more than maxOperations (${formatOperations(this.#maxOperations)}); its ` +
      `costliest node is '${node.name}' (${this.#describeNode(node)}) with ${formatOperations(built.layerOperations(costliest))} operations. ` +
      `If the model is meant to be this large, load it with loadModel(source, { maxOperations: ${formatOperations(nextLimit(total))} }) ` +
      '(or Infinity for no limit)');
  }

  // "maxpool, ONNX MaxPool": the engine's kind and the operator of the ONNX node it came from (an engine node of
  // several made from one ONNX node is named after it with a suffix, e.g. 'attn/expand').
  #describeNode(node) {
    for (let name = node.name; ; name = name.slice(0, name.lastIndexOf('/'))) {
      const op = this.#onnxOperators.get(name);
      if (op !== undefined) return `${node.kind}, ONNX ${op}`;
      if (!name.includes('/')) return node.kind;
    }
  }

  /** The most operations a forward pass, or the points of one integrated-gradients or SmoothGrad explanation, may take. */
  get maxOperations() { return this.#maxOperations; }
  /**
   * Multiply-adds and comparisons of one forward pass for one input (the sum of the layers' `operations`): the
   * work estimate checked against maxOperations.
   */
  get operations() { this.#live(); return this.#engine.operations(); }

  // Integrated gradients and SmoothGrad run the model once per point: `points` forward passes (each followed by a
  // backward pass, which is not counted) must fit maxOperations, checked before any work.
  #requirePointOperations(request, what) {
    const integrated = request.method === 'integrated-gradients';
    if (!integrated && request.method !== 'smoothgrad') return;
    const points = integrated ? request.steps : request.samples;
    const perPoint = this.#engine.operations();
    const needed = points * perPoint;
    if (needed <= this.#maxOperations) return;
    const option = integrated ? 'steps' : 'samples';
    const most = Math.floor(this.#maxOperations / perPoint);  // ≥ 1: the model itself fits (checked at load)
    throw new Error(`${what}: ${request.method} with ${option}: ${points} needs ${points} × ${formatOperations(perPoint)} = ` +
      `${formatOperations(needed)} operations (one forward pass per point), more than this model's maxOperations ` +
      `(${formatOperations(this.#maxOperations)}): pass fewer ${option} (at most ${most}), ` +
      'or load the model with a larger maxOperations');
  }

  /**
   * The input shape without the batch dimension, e.g. [1, 28, 28]; [T] for token ids, −1 where the export
   * declares the sequence dynamic (any length up to the model's positional table).
   */
  get inputShape() { return this.#inputShape.map((size, axis) => (this.#dynamicAxes.includes(axis) ? -1 : size)); }
  /** 'float32', or 'int64' / 'int32' for a model whose input is token ids (feeding an embedding). */
  get inputType() { return this.#inputType; }
  /**
   * The model's learned parameters as exported: the number of values of its floating-point initializers (weights,
   * biases, batch-norm running statistics). Integer initializers (shapes,
   * indices) are not counted. Known from the file, so also readable after dispose().
   */
  get parameters() { return this.#parameters; }
  /** The number of outputs (logits). */
  get outputSize() { this.#live(); return this.#outputSize; }
  /** Bytes this model holds in the engine's memory (weights in their packed layouts, index maps, caches). */
  get memoryBytes() { this.#live(); return this.#engine.memoryBytes(); }
  /** The layers in topological order: { index, name, kind, outputShape }. */
  get layers() { this.#live(); return this.#layers.map((layer) => ({ ...layer, outputShape: [...layer.outputShape] })); }

  /** Logits for one input. */
  predict(x) {
    this.#live();
    // The input first: a new sequence length may rebuild the engine.
    const input = this.#columns([this.#checkInput(x, 'predict')]);
    this.#live();  // again: reading the caller's values may have run a getter that disposed the model
    return this.#engine.predict(input, 1);
  }

  /** Logits for several inputs at once: an array of Float32Arrays. Runs in chunks that fit the engine's memory. */
  predictBatch(inputs) {
    this.#live();
    const checked = this.#checkBatch(inputs, 'predictBatch');
    this.#live();
    const chunk = this.#engine.batchLimit(null, checked.length);
    const results = [];
    for (let start = 0; start < checked.length; start += chunk) {
      const part = checked.slice(start, start + chunk);
      const logits = this.#engine.predict(this.#columns(part), part.length);
      for (let i = 0; i < part.length; i++) results.push(logits.slice(i * this.#outputSize, (i + 1) * this.#outputSize));
    }
    return results;
  }

  /** Explains one input; see README for the options. */
  explain(x, options = {}) {
    this.#live();
    const input = this.#columns([this.#checkInput(x, 'explain')]);
    const request = this.#normalizeOptions(options);
    this.#requirePointOperations(request, 'explain');
    this.#live();
    const [result] = this.#engine.explain(input, 1, request);
    return this.#presentResult(result, request);
  }

  /**
   * Explains several inputs (each with its own predicted target), as many per engine pass as fit the engine's
   * memory: any number of inputs, the same results as one input at a time.
   */
  explainBatch(inputs, options = {}) {
    this.#live();
    const checked = this.#checkBatch(inputs, 'explainBatch');
    const request = this.#normalizeOptions(options);
    if (request.layerRelevance) throw new Error('explainBatch: layerRelevance is only available in explain()');
    // Per input (each explanation's points); any number of inputs runs in chunks, never refused for its work.
    this.#requirePointOperations(request, 'explainBatch');
    this.#live();
    const chunk = this.#engine.batchLimit(request, checked.length);
    const results = [];
    for (let start = 0; start < checked.length; start += chunk) {
      const part = checked.slice(start, start + chunk);
      for (const r of this.#engine.explain(this.#columns(part), part.length, request)) results.push(this.#presentResult(r, request));
    }
    return results;
  }

  /** Frees the engine's memory for this model. Idempotent; any later call throws. */
  dispose() {
    if (this.#engine) {
      this.#engine.delete();
      this.#engine = null;
      this.#box.engine = null;
      undisposedModels?.unregister(this.#box);
    }
  }

  /** `using model = await loadModel(…)` disposes at the end of the block (explicit resource management). */
  [disposeSymbol]() {
    this.dispose();
  }

  #live() {
    if (!this.#engine) throw new Error('this model has been disposed');
  }

  // The engine's columns: each input, followed by its per-input constants (masks computed from its ids).
  #columns(inputs) {
    if (!this.#inputConstants) return inputs.length === 1 ? inputs[0] : concatenate(inputs);
    return concatenate(inputs.flatMap((ids) => [ids, this.#inputConstants.evaluate(ids)]));
  }

  // A dynamic sequence of `length` tokens: the graph converted for that length (kept until another comes).
  #useLength(length, what) {
    if (length === this.#inputSize) return;
    if (length < 1) throw new Error(`${what}: expected at least one token id`);
    // Converting for an absurd length would exhaust memory before any shape check could refuse it.
    if (length > MAX_TOKENS) throw tooManyTokens(what)(length);
    try {
      this.#build(convertOnnx(this.#decoded, { sequenceLength: length }));
    } catch (error) {
      throw new Error(`${what}: this model does not take a sequence of ${length} tokens (the export's positional table or shapes may be shorter): ${error.message}`);
    }
  }

  // The caller's input, read once into a copy (arguments.js), then checked: the engine gets what was checked.
  #checkInput(x, what) {
    if (this.#inputType !== 'float32') return this.#checkTokenIds(x, what);
    const tooLong = (length) => new Error(`${what}: input has ${length} values, expected ${this.#inputSize} (shape [${this.#inputShape.join(', ')}])`);
    if (x instanceof Int32Array || x instanceof BigInt64Array)
      throw new TypeError(`${what}: this model takes float32 input; got ${describe(x)} (integer arrays are for token-id models)`);
    const copy = copyArray(x, what, { expected: FLOAT_INPUT, maxLength: this.#inputSize, tooLong });
    if (ArrayBuffer.isView(copy) && !(copy instanceof Float32Array || copy instanceof Float64Array))
      throw new TypeError(`${what}: expected ${FLOAT_INPUT} (got ${describe(x)})`);
    if (copy.length !== this.#inputSize) throw tooLong(copy.length);
    if (Array.isArray(copy)) {
      const notNumber = copy.findIndex((v) => typeof v !== 'number');
      if (notNumber >= 0) throw new TypeError(`${what}: input holds ${describe(copy[notNumber])} at index ${notNumber}; all values must be numbers`);
    }
    const input = copy instanceof Float32Array ? copy : Float32Array.from(copy);
    const bad = input.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${what}: input contains ${input[bad]} at index ${bad}; all values must be finite`);
    return input;
  }

  // Token ids: Int32Array, BigInt64Array, an array of integers, or a Float32Array of integers; each in
  // [0, vocabulary). They reach the engine as float32, which holds every integer below 2^24 exactly.
  #checkTokenIds(x, what) {
    const expected = expectedInput(this.#inputType);
    const maxLength = this.#decoded ? MAX_TOKENS : this.#inputSize;
    const copy = copyArray(x, what, {
      expected,
      maxLength,
      tooLong: this.#decoded ? tooManyTokens(what)
        : (length) => new Error(`${what}: input has ${length} token ids, expected ${this.#inputSize} (shape [${this.#inputShape.join(', ')}])`),
    });
    const accepted = copy instanceof Int32Array || copy instanceof BigInt64Array || copy instanceof Float32Array || Array.isArray(copy);
    if (!accepted) throw new TypeError(`${what}: this model takes ${expected} (got ${describe(x)})`);
    if (this.#decoded) this.#useLength(copy.length, what);
    if (copy.length !== this.#inputSize)
      throw new Error(`${what}: input has ${copy.length} token ids, expected ${this.#inputSize} (shape [${this.#inputShape.join(', ')}])`);
    const limit = this.#vocabularySize ?? 2 ** 24;
    const ids = new Float32Array(copy.length);
    for (let i = 0; i < copy.length; i++) {
      const id = typeof copy[i] === 'bigint' ? Number(copy[i]) : copy[i];
      if (!(Number.isInteger(id) && id >= 0 && id < limit))
        throw new Error(`${what}: token id ${describe(copy[i])} at position ${i} is not an integer from 0 to ${limit - 1} (the vocabulary)`);
      ids[i] = id;
    }
    return ids;
  }

  #checkBatch(inputs, what) {
    const list = copyList(inputs, what);
    if (this.#decoded) {
      // Each input read once here; the per-input checks below then read these copies.
      const copies = list.map((x, i) => copyArray(x, `${what}[${i}]`, { expected: expectedInput(this.#inputType), maxLength: MAX_TOKENS, tooLong: tooManyTokens(`${what}[${i}]`) }));
      const lengths = new Set(copies.map((x) => x.length));
      if (lengths.size > 1) throw new Error(`${what}: the inputs have different numbers of tokens (${[...lengths].join(', ')}); a batch needs one length`);
      return copies.map((x, i) => this.#checkInput(x, `${what}[${i}]`));
    }
    return list.map((x, i) => this.#checkInput(x, `${what}[${i}]`));
  }

  // What the output's relevance became: Σ at the input, and what each kind of operation absorbed.
  #conservation(layers, inputRelevance) {
    const absorbed = Object.fromEntries(CONSERVATION_CATEGORIES.map((key) => [key, 0]));
    for (const layer of layers) absorbed[this.#categories[layer.index]] += layer.absorbed;
    let input = 0;
    for (const value of inputRelevance) input += value;
    return { output: layers[layers.length - 1].sum, input, absorbed };
  }

  #normalizeOptions(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('explain: options must be an object');
    for (const key of Object.keys(options))
      if (!EXPLAIN_OPTIONS.has(key)) throw new Error(`explain: unknown option '${key}' (known: ${[...EXPLAIN_OPTIONS].join(', ')})`);
    const method = options.method === undefined ? 'lrp' : options.method;  // null is a wrong type, as for composite
    oneOf(method, methods, 'method');
    if (options.layerRelevance && method !== 'lrp') throw new Error(`explain: layerRelevance is only available for method 'lrp' (got '${method}')`);
    const hasRules = options.rules !== undefined;
    // '' stands for "the rules alone" inside; a caller's '' is an unknown composite like any other name.
    if (options.composite !== undefined) oneOf(options.composite, composites, 'composite');
    const composite = options.composite ?? (hasRules ? '' : DEFAULT_COMPOSITE);
    const stabilizer = number(options.stabilizer, 1e-6, 'stabilizer', { min: 0 });
    return {
      method,
      composite,
      epsilon: number(options.epsilon, 1e-6, 'epsilon', { min: 0 }),
      stabilizer,
      gamma: number(options.gamma, 0.25, 'gamma', { min: 0 }),
      // a token model's z-box is for the layer after its embedding, whose size the engine checks
      low: bounds(options.low, 'low', this.#tokenInput() ? null : this.#inputSize, this.#channels()),
      high: bounds(options.high, 'high', this.#tokenInput() ? null : this.#inputSize, this.#channels()),
      zeroBias: boolean(options.zeroBias, 'zeroBias'),
      product: options.product === undefined ? 'uniform' : (oneOf(options.product, productRules, 'product'), options.product),
      overrides: hasRules ? this.#normalizeRules(options.rules, stabilizer) : [],
      target: this.#normalizeTarget(options.target),
      outputRelevance: this.#normalizeOutputRelevance(options.outputRelevance),
      steps: integer(options.steps, 32, 'steps', 1, 4096),
      samples: integer(options.samples, 16, 'samples', 1, 4096),
      noiseLevel: number(options.noiseLevel, 0.1, 'noiseLevel', { min: 0 }),
      seed: integer(options.seed, 0, 'seed', 0, 0xffffffff),
      layerRelevance: boolean(options.layerRelevance, 'layerRelevance'),
      attention: boolean(options.attention, 'attention'),
      ...this.#normalizeRestriction(options.restrict),
    };
  }

  // restrict: { layer, unit } or { layer, units: [...] } → the relevance at that layer's output is kept
  // only at those units, so the explanation shows what flows through them alone.
  #normalizeRestriction(restrict) {
    if (restrict === undefined || restrict === null) return { restrictLayer: -1, restrictUnits: [] };
    if (typeof restrict !== 'object') throw new TypeError('explain: restrict must be an object like { layer: 3, unit: 17 }');
    for (const key of Object.keys(restrict))
      if (!['layer', 'unit', 'units'].includes(key)) throw new Error(`explain: restrict: unknown key '${key}' (use layer and unit or units)`);
    const { layer } = restrict;
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.#layers.length)
      throw new Error(`explain: restrict.layer must be a layer index from 0 to ${this.#layers.length - 1} (got ${describe(layer)})`);
    const units = restrict.units ?? (restrict.unit === undefined ? undefined : [restrict.unit]);
    const size = this.#layers[layer].outputShape.reduce((a, b) => a * b, 1);
    if (!Array.isArray(units) || units.length === 0 || !units.every((u) => Number.isInteger(u) && u >= 0 && u < size))
      throw new Error(`explain: restrict needs unit (or units) from 0 to ${size - 1} of layer ${layer} (got ${describe(restrict.unit ?? restrict.units)})`);
    return { restrictLayer: layer, restrictUnits: units };
  }

  #normalizeTarget(target) {
    if (target === undefined || target === 'predicted') return -1;
    if (!Number.isInteger(target) || target < 0 || target >= this.#outputSize) {
      const Type = typeof target === 'number' || typeof target === 'string' ? Error : TypeError;
      throw new Type(`explain: target must be 'predicted' or an integer class index from 0 to ${this.#outputSize - 1} (got ${describe(target)})`);
    }
    return target;
  }

  #normalizeOutputRelevance(seed) {
    if (seed === undefined || seed === null) return null;
    const tooLong = (length) => new Error(`explain: outputRelevance has ${length} values, expected ${this.#outputSize}`);
    const copy = copyArray(seed, 'explain: outputRelevance', { expected: 'a Float32Array', maxLength: this.#outputSize, tooLong });
    if (ArrayBuffer.isView(copy) && !(copy instanceof Float32Array || copy instanceof Float64Array))
      throw new TypeError(`explain: outputRelevance must be a Float32Array (got ${describe(seed)})`);
    if (copy.length !== this.#outputSize) throw tooLong(copy.length);
    const values = Float32Array.from(copy);
    if (!values.every(Number.isFinite)) throw new Error('explain: outputRelevance contains NaN or Infinity');
    return values;
  }

  #tokenInput() { return this.#inputType !== 'float32'; }

  // An image input [C, H, W] has C channels, whose z-box bounds may be given one per channel (see bounds()).
  #channels() {
    const shape = this.#inputShape;
    return this.#inputType === 'float32' && shape.length === 3 ? { count: shape[0], plane: shape[1] * shape[2] } : null;
  }

  #normalizeRules(spec, stabilizer) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new TypeError('explain: rules must be an object');
    return Object.entries(spec).map(([selector, rule]) => {
      const isIndex = /^\d+$/.test(selector);
      if (!isIndex && !['first', 'dense', 'conv'].includes(selector))
        throw new Error(`explain: unknown rules key '${selector}' (use 'first', 'dense', 'conv' or a layer index)`);
      const layer = isIndex ? Number(selector) : -1;
      if (isIndex && layer >= this.#layers.length)
        throw new Error(`explain: rules for layer ${layer}, but the model has ${this.#layers.length} layers (0 to ${this.#layers.length - 1})`);
      // Per-input z-box bounds are checked against the layer's input size by the engine.
      // 'first' applies to the model's input, so its bounds may be one per channel too.
      const channels = selector === 'first' ? this.#channels() : null;
      return { selector: isIndex ? 'layer' : selector, layer, rule: normalizeRule(rule, `rules.${selector}`, stabilizer, null, channels) };
    });
  }

  #presentResult(result, request) {
    const presented = {
      relevance: result.relevance,
      shape: [...this.#inputShape],
      output: result.output,
      target: result.target,
    };
    if (request.layerRelevance && result.layers) {
      presented.layers = Array.from(result.layers)
        .sort((a, b) => a.index - b.index)
        .map((entry) => ({
          ...this.#layers[entry.index],
          outputShape: [...this.#layers[entry.index].outputShape],
          relevance: entry.relevance,
          sum: entry.sum,
          absorbed: entry.sum - entry.inputSum,
        }));
      presented.conservation = this.#conservation(presented.layers, result.relevance);
    }
    if (request.attention && result.attention) {
      presented.attention = Array.from(result.attention, (entry) => ({
        ...this.#layers[entry.index],
        outputShape: [...this.#layers[entry.index].outputShape],
        weights: entry.weights,
      }));
    }
    return presented;
  }
}

/** Where relevance can be absorbed, by what absorbs it (Explanation.conservation; ATTNLRP.md "Conservation"). */
const CONSERVATION_CATEGORIES = ['softmax', 'layerNorm', 'clsToken', 'positions', 'masks', 'biases', 'other'];

// The conservation category of an importer node: what its `absorbed` share stands for.
function conservationCategory(node, index, nodes) {
  const readsMask = node.inputs.some((input) => input >= 0 && nodes[input].kind === 'input-constant');
  switch (node.kind) {
    case 'softmax': return 'softmax';
    case 'layernorm': return 'layerNorm';
    case 'concat': return node.constant ? 'clsToken' : 'other';
    case 'add': case 'sub':
      if (readsMask) return 'masks';
      return node.inputs.length === 1 ? 'positions' : 'other';
    case 'where': return 'masks';
    case 'dense': case 'conv': return 'biases';
    default: return 'other';
  }
}

// Builds one engine layer from the importer's node description (docs/layers.md): the engine's layer table
// knows every kind; the rest of the node is its spec.
function addNode(engine, node) {
  const { name, kind, inputs, ...spec } = node;
  if (kind === 'dense' && spec.weight) {
    // The engine stores W (out × in) column-major. Transposed here, on the JavaScript heap, the buffer the engine
    // fills from it becomes the layer's storage: the weight is never held twice in wasm memory, whose high-water
    // mark is never given back (VGG-16's first classifier layer alone is 411 MB).
    const { weight, ...rest } = spec;
    const out = node.outputShape.at(-1);
    return engine.addLayer(kind, name, inputs, { ...rest, weightColumns: columnMajor(weight, out), outFeatures: out });
  }
  return engine.addLayer(kind, name, inputs, spec);
}

// A maxOperations that admits `total`: two significant digits, rounded up.
function nextLimit(total) {
  const unit = 10 ** Math.max(0, Math.floor(Math.log10(total)) - 1);
  return Math.ceil(total / unit) * unit;
}

// W [out, in] row-major → the same values column-major ([in, out] row-major), in 64×64 tiles for the caches.
function columnMajor(weight, out) {
  const inFeatures = weight.length / out;
  if (!Number.isInteger(inFeatures)) return weight;  // the engine reports the mismatch
  const columns = new Float32Array(weight.length);
  const tile = 64;
  for (let o0 = 0; o0 < out; o0 += tile) {
    const o1 = Math.min(out, o0 + tile);
    for (let i0 = 0; i0 < inFeatures; i0 += tile) {
      const i1 = Math.min(inFeatures, i0 + tile);
      for (let o = o0; o < o1; ++o) {
        const row = o * inFeatures;
        for (let i = i0; i < i1; ++i) columns[i * out + o] = weight[row + i];
      }
    }
  }
  return columns;
}

function concatenate(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

function normalizeRule(rule, where, stabilizer, inputSize, channels = null) {
  if (rule === null || typeof rule !== 'object') throw new TypeError(`explain: ${where} must be an object like { rule: 'epsilon' }`);
  for (const key of Object.keys(rule))
    if (!RULE_OPTIONS.has(key)) throw new Error(`explain: ${where}: unknown rule option '${key}'`);
  oneOf(rule.rule, rules, `${where}.rule`);
  const isAlphaBeta = rule.rule === 'alpha-beta';
  const normalized = {
    kind: rule.rule,
    epsilon: number(rule.epsilon, 1e-6, `${where}.epsilon`, { min: 0 }),
    stabilizer: number(rule.stabilizer, stabilizer, `${where}.stabilizer`, { min: 0 }),
    gamma: number(rule.gamma, 0.25, `${where}.gamma`, { min: 0 }),
    alpha: number(rule.alpha, isAlphaBeta ? 2 : 1, `${where}.alpha`, { min: 0 }),
    beta: number(rule.beta, isAlphaBeta ? 1 : 0, `${where}.beta`, { min: 0 }),
    low: bounds(rule.low, `${where}.low`, inputSize, channels),
    high: bounds(rule.high, `${where}.high`, inputSize, channels),
    zeroBias: boolean(rule.zeroBias, `${where}.zeroBias`),
  };
  if (isAlphaBeta && Math.abs(normalized.alpha - normalized.beta - 1) > 1e-6)
    throw new Error(`explain: ${where}: alpha-beta needs alpha - beta = 1 (got alpha=${normalized.alpha}, beta=${normalized.beta})`);
  if (rule.rule === 'z-box' && (normalized.low === null || normalized.high === null))
    throw new Error(`explain: ${where}: rule 'z-box' needs 'low' and 'high'`);
  return normalized;
}

function oneOf(value, allowed, what) {
  if (typeof value !== 'string')
    throw new TypeError(`explain: ${what.split('.').pop()} must be a string, one of ${allowed.join(', ')} (got ${describe(value)})`);
  if (!allowed.includes(value)) throw new Error(`explain: unknown ${what.split('.').pop()} ${describe(value)} (known: ${allowed.join(', ')})`);
}

function number(value, fallback, what, { min = -Infinity } = {}) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`explain: ${what} must be a finite number (got ${describe(value)})`);
  if (!Number.isFinite(value)) throw new Error(`explain: ${what} must be a finite number (got ${describe(value)})`);
  if (value < min) throw new Error(`explain: ${what} must be >= ${min} (got ${value})`);
  return value;
}

function integer(value, fallback, what, min, max) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    const Type = typeof value === 'number' ? Error : TypeError;
    throw new Type(`explain: ${what} must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

function boolean(value, what) {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`explain: ${what} must be true or false (got ${describe(value)})`);
  return value;
}

// z-box bounds: a number, one value per channel of an image input (`channels`: { count: C, plane: H·W }), or one
// value per input of the layer they apply to (null: not given). Per-channel bounds are what Zennit's examples
// pass for a normalised image: the normalised black and white of each channel, (0 − mean_c) / std_c and
// (1 − mean_c) / std_c; they are spread over the channel's H·W values here (NCHW), so the engine sees one kind.
function bounds(value, what, expectedLength, channels = null) {
  if (value === undefined || value === null) return null;
  const allowed = boundsLengths(expectedLength, channels);
  const expected = 'a number, an array of numbers, a Float32Array or a Float64Array';
  if (typeof value === 'number') return checkedBounds(Float32Array.of(value), what, allowed);
  const maxLength = expectedLength ?? MAX_BOUNDS;
  const copy = copyArray(value, `explain: ${what}`, {
    expected, maxLength,
    tooLong: (length) => new Error(`explain: ${what} has ${length} values, ${expectedLength == null ? `more than ${maxLength}` : `expected ${allowed.text}`}`),
  });
  if (ArrayBuffer.isView(copy) && !(copy instanceof Float32Array || copy instanceof Float64Array))
    throw new TypeError(`explain: ${what} must be ${expected} (got ${describe(value)})`);
  const wrong = Array.isArray(copy) ? copy.findIndex((v) => typeof v !== 'number') : -1;
  if (wrong >= 0) throw new TypeError(`explain: ${what} must be ${expected} (value ${wrong} is ${describe(copy[wrong])})`);
  const values = checkedBounds(Float32Array.from(copy), what, allowed);
  return channels && values.length === channels.count && values.length !== expectedLength ? spreadChannels(values, channels.plane) : values;
}

// The lengths a bounds array may have, and how a message words them: "1, 3 (one per channel) or 150528 (…)".
function boundsLengths(expectedLength, channels) {
  if (expectedLength == null) return null;
  if (!channels || channels.count === 1 || channels.count === expectedLength)
    return { lengths: [1, expectedLength], text: `1 or ${expectedLength}` };
  return {
    lengths: [1, channels.count, expectedLength],
    text: `1, ${channels.count} (one per channel) or ${expectedLength} (one per input value)`,
  };
}

function spreadChannels(values, plane) {
  const out = new Float32Array(values.length * plane);
  values.forEach((value, c) => out.fill(value, c * plane, (c + 1) * plane));
  return out;
}

// A rule's bounds may be for any layer's input (checked by the engine): at most the engine's largest tensor.
const MAX_BOUNDS = 2 ** 28;

function checkedBounds(values, what, allowed) {
  if (!values.every(Number.isFinite)) throw new Error(`explain: ${what} contains NaN or Infinity`);
  if (allowed != null && !allowed.lengths.includes(values.length))
    throw new Error(`explain: ${what} has ${values.length} values, expected ${allowed.text}`);
  return values;
}

/**
 * Pixel-flipping evaluation of explanations (see evaluate.js); a worker model's evaluation runs in its worker.
 */
export function evaluate(model, inputs, options = {}) {
  if (model instanceof WorkerModel) return model.evaluate(inputs, options);
  return evaluateModel(model, inputs, options);
}
/** The ONNX operator types the importer converts, and those it evaluates at load time on constants. */
export { supportedOperators, foldedOperators } from './onnx/index.js';
