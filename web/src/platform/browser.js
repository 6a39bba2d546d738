// The browser build's platform (dist/lrp-wasm.js, the package's "browser" and "default" export conditions): no
// Node built-ins, so bundlers resolve it without configuration. The engine's wasm is an asset beside the
// bundle, streamed and compiled while it downloads; bundlers copy it (and the worker script) because they are
// named by `new URL('./file', import.meta.url)` literals, the form Vite, webpack 5 and Parcel recognise.

export const name = 'browser';

/** Where the engine's files are when nothing else is configured: beside this bundle. */
export function defaultEngineFile(file) {
  // One literal per file, so that bundlers see (and copy) each of them.
  switch (file) {
    case 'lrp-engine.wasm': return new URL('./lrp-engine.wasm', import.meta.url);
    case 'lrp-engine-mt.js': return new URL('./lrp-engine-mt.js', import.meta.url);
    case 'lrp-engine-mt.worker.js': return new URL('./lrp-engine-mt.worker.js', import.meta.url);
    default: throw new Error(`lrp-wasm has no engine file ${file}`);
  }
}

/** configure({ locateFile }) answered a string: a URL, relative ones to the page (or the worker's script). */
export function resolveLocation(location) {
  return new URL(location, globalThis.document?.baseURI ?? globalThis.location?.href);
}

/** The engine's wasm, streamed: compiled while it downloads (falls back to a buffer when the server's
 *  Content-Type is not application/wasm, which instantiateStreaming requires). */
export async function instantiateWasm(url, imports) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const type = response.headers.get('Content-Type') ?? '';
  if (typeof WebAssembly.instantiateStreaming === 'function' && type.startsWith('application/wasm'))
    return WebAssembly.instantiateStreaming(response, imports);
  return WebAssembly.instantiate(await response.arrayBuffer(), imports);
}

export async function cores() {
  return globalThis.navigator?.hardwareConcurrency ?? 1;
}

export async function readFile(path) {
  throw new Error(`${path} is not a URL; file paths are read only in Node (in a browser, pass a URL, a File or bytes)`);
}

export function threadedEngineOptions(moduleUrl, workerUrl) {
  const workerScript = workerUrl.protocol === 'data:' ? blobFromDataUrl(workerUrl.href) : workerUrl.href;
  return { locateFile: (file) => (file.endsWith('.worker.js') ? workerScript : new URL(file, moduleUrl).href) };
}

// Vite inlines every `new URL('./file', import.meta.url)` asset under 4 KB (build.assetsInlineLimit) as a data: URL,
// and the threads' script, lrp-engine-mt.worker.js, is 3 KB. A worker started from a data: URL runs in an opaque
// origin: its import() of the engine (lrp-engine-mt.js, from the page's origin) is a cross-origin request that
// fails, and the engine waits for its threads forever (tests/e2e/bundlers.test.mjs). The same script as a blob: URL
// runs in the page's origin. (A CSP that allows neither blob: nor data: workers needs configure({ locateFile }).)
// Decoded here rather than fetched: fetching a data: URL is subject to the page's CSP connect-src.
function blobFromDataUrl(href) {
  const comma = href.indexOf(',');
  const payload = href.slice(comma + 1);
  const bytes = /;base64$/i.test(href.slice(0, comma))
    ? Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))
    : new TextEncoder().encode(decodeURIComponent(payload));
  // Not revoked: the engine starts a worker from it whenever its pool grows. One small blob per engine.
  return URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
}

/** loadModel(…, { worker: true }): a module Worker running dist/lrp-worker.js. */
export function startWorker(url) {
  if (url) return browserEndpoint(new Worker(url, { type: 'module' }), url);
  const script = new URL('./lrp-worker.js', import.meta.url);
  return browserEndpoint(new Worker(new URL('./lrp-worker.js', import.meta.url), { type: 'module' }), script);
}

export function browserEndpoint(worker, script) {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => worker.addEventListener('message', (event) => listener(event.data)),
    onError: (listener) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault?.();
        // A script that failed to load gives an error event without a message: name the script.
        listener(new Error(event.message || `the worker script ${script} could not be loaded or run (is it served, with ` +
          'the files it imports beside it? module workers need Chrome 80, Firefox 114, Safari 15 or later)'));
      });
      worker.addEventListener('messageerror', () => listener(new Error('a message from the worker could not be read')));
    },
    ref: () => {},
    unref: () => {},
    terminate: () => worker.terminate(),
  };
}

/** Inside that worker: its global scope. */
export function workerScope() {
  return {
    post: (message, transfer) => self.postMessage(message, transfer),
    onMessage: (listener) => self.addEventListener('message', (event) => listener(event.data)),
  };
}
