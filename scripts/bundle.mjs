// Bundles the package (wrapper + ONNX importer + protobuf decoder + the wasm engine, which is embedded
// in its loader) into one ES module, dist/lrp-wasm.js, that runs in Node >= 20 and in browsers.
// The pthreads engine stays a file of its own beside it (its workers import it again):
// dist/lrp-engine-mt.js, and its workers' script as lrp-engine-mt.worker.js (browsers) and .worker.cjs (Node,
// where the package's "type": "module" would make a .js file an ES module).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ['web/src/index.js'],
  outfile: 'dist/lrp-wasm.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: ['es2022'],
  external: ['node:*'],
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(`${root}/dist`, { recursive: true });
copyFileSync(`${root}/build/wasm/lrp_engine_mt.js`, `${root}/dist/lrp-engine-mt.js`);
copyFileSync(`${root}/build/wasm/lrp_engine_mt.worker.js`, `${root}/dist/lrp-engine-mt.worker.js`);
copyFileSync(`${root}/build/wasm/lrp_engine_mt.worker.js`, `${root}/dist/lrp-engine-mt.worker.cjs`);
console.log('bundle: dist/lrp-wasm.js, dist/lrp-engine-mt.js (+ .worker.js, .worker.cjs)');
