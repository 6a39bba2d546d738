// Bundles the package (wrapper + ONNX importer + protobuf decoder + the wasm engine, which is embedded
// in its loader) into one ES module, dist/lrp-wasm.js, that runs in Node >= 20 and in browsers.
import { build } from 'esbuild';
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
console.log('bundle: dist/lrp-wasm.js');
