// The single-file build's platform (dist/lrp-wasm.inline.js, `lrp-wasm/inline`): the browser platform with the
// engine's wasm embedded in the bundle (esbuild's binary loader), for bundlers that copy no `new URL` assets
// (esbuild) and for pages that want one file. No streaming compile and no separate caching of the wasm.
import wasmBytes from '../../../build/wasm/lrp_engine.wasm';
import { browserEndpoint, cores, instantiateWasm as instantiateStreamed, readFile, resolveLocation, threadedEngineOptions, workerScope } from './browser.js';

export { cores, readFile, resolveLocation, threadedEngineOptions, workerScope };
export const name = 'inline';

export function defaultEngineFile(file) {
  return file === 'lrp-engine.wasm' ? null : new URL(file, import.meta.url);
}

export async function instantiateWasm(url, imports) {
  if (url !== null) return instantiateStreamed(url, imports);  // configure({ locateFile }) chose a file
  return WebAssembly.instantiate(wasmBytes, imports);
}

/** The single file has no worker script of its own: { worker: true } needs workerUrl (a served lrp-worker.js). */
export function startWorker(url) {
  if (!url) throw new Error("loadModel: { worker: true } in the single-file build (lrp-wasm/inline) needs workerUrl, " +
    "the URL of the package's dist/lrp-worker.js served by your site (or import 'lrp-wasm', whose worker bundlers copy)");
  return browserEndpoint(new Worker(url, { type: 'module' }));
}
