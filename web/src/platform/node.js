// The Node build's platform (dist/lrp-wasm.node.js, the package's "node" export condition): the engine's wasm is
// read from disk beside the bundle, file paths are model sources, cores come from node:os, and loadModel's
// worker is a worker_threads Worker. Only this file (and its browser/inline siblings) may touch Node built-ins.
import { readFile as readFileBytes, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

export const name = 'node';

/** Where the engine's files are when nothing else is configured: beside this bundle in dist/. */
export function defaultEngineFile(file) {
  return new URL(file, import.meta.url);
}

/** configure({ locateFile }) answered a string: a URL, or a file path (relative to the working directory). */
export function resolveLocation(location) {
  return /^[a-z][a-z0-9+.-]+:/i.test(location) ? new URL(location) : pathToFileURL(location);
}

/** The engine's wasm, compiled and instantiated: from a file: URL by reading it, from http(s) by fetching it. */
export async function instantiateWasm(url, imports) {
  if (url.protocol === 'file:') return WebAssembly.instantiate(await readFileBytes(fileURLToPath(url)), imports);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

export async function cores() {
  return availableParallelism ? availableParallelism() : cpus().length;
}

const MAX_MODEL_FILE = 2 ** 32;  // the wasm32 memory's whole size

/** A model file on disk, by path or file: URL. */
export async function readFile(path) {
  try {
    // Only a regular file has an end that its size announces: a device (/dev/zero) or a pipe could be read forever.
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    if (!info.isFile()) throw new Error(`cannot read ${path}: not a regular file (a device or a pipe); pass the model's bytes instead`);
    if (info.size > MAX_MODEL_FILE) throw new Error(`cannot read ${path}: ${info.size} bytes, more than a model the engine's 4 GB memory could hold`);
    return new Uint8Array(await readFileBytes(path));
  } catch (error) {
    if (error.message?.startsWith('cannot read ')) throw error;
    const why = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied' }[error.code] ?? error.message;
    throw new Error(`cannot read ${path}: ${why}`);
  }
}

// Emscripten 3.1.6's Node code in the pthreads build calls require and reads __filename (engine-mt.pre.js), and
// its workers' script must run as CommonJS (the package is "type": "module"): hence the .cjs copy.
export function threadedEngineOptions(moduleUrl, workerUrl) {
  const workerFile = fileURLToPath(workerUrl).replace(/\.js$/, '.cjs');
  return {
    nodeRequire: createRequire(moduleUrl),
    nodeFilename: fileURLToPath(moduleUrl),
    locateFile: (file) => (file.endsWith('.worker.js') ? workerFile : fileURLToPath(new URL(file, moduleUrl))),
  };
}

// The worker inherits Node's options, except --input-type (of `node -e`), which a worker's file refuses, and the
// process-wide ones a worker may not have (--expose-gc, …: Node names them in ERR_WORKER_INVALID_EXEC_ARGV).
function newWorker(url) {
  const execArgv = process.execArgv.filter((option) => !option.startsWith('--input-type'));
  try {
    return new Worker(url, { execArgv });
  } catch (error) {
    if (error?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
    const invalid = error.message.slice(error.message.lastIndexOf(':') + 1).split(/[\s,]+/).filter(Boolean);
    return new Worker(url, { execArgv: execArgv.filter((option) => !invalid.includes(option.split('=')[0])) });
  }
}

/** loadModel(…, { worker: true }): a worker_threads Worker running dist/lrp-worker.node.js. */
export function startWorker(url) {
  const worker = newWorker(url ?? new URL('./lrp-worker.node.js', import.meta.url));
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => worker.on('message', listener),
    onError: (listener) => {
      worker.on('error', listener);
      worker.on('exit', (code) => listener(new Error(`the worker exited (code ${code})`)));
    },
    // A model's worker must not keep a finished script alive; calls in flight ref it again (see worker/client.js).
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: () => worker.terminate(),
  };
}

/** Inside that worker: its port to the thread that started it. */
export function workerScope() {
  return {
    post: (message, transfer) => parentPort.postMessage(message, transfer),
    onMessage: (listener) => parentPort.on('message', listener),
  };
}
