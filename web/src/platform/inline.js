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

/**
 * { worker: true }: dist/lrp-worker.inline.js, which imports this file (dist/lrp-wasm.inline.js) from beside itself:
 * esbuild copies neither, so both must be served beside the app's bundle (or workerUrl names where).
 */
export function startWorker(url) {
  const script = url ?? new URL('./lrp-worker.inline.js', import.meta.url);
  return browserEndpoint(new Worker(script, { type: 'module' }), script);
}
