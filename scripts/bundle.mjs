// Bundles the package (wrapper + ONNX importer + protobuf decoder + the engine's Emscripten loader) into dist/:
//
//   lrp-wasm.js          the browser build ("browser" and "default" export conditions): no Node built-ins; the
//                        engine's wasm, lrp-engine.wasm, is streamed from beside it (new URL(…, import.meta.url),
//                        which Vite and webpack 5 copy); loadModel's worker is lrp-worker.js.
//   lrp-wasm.node.js     the Node build ("node"): reads lrp-engine.wasm from disk; its worker is lrp-worker.node.js.
//   lrp-wasm.inline.js   the single-file build (`lrp-wasm/inline`): the browser build with the wasm embedded.
//   lrp-chunk-*.js       code the browser (or Node) build shares with its worker script.
//   lrp-engine-mt.js     the pthreads engine (its workers import it again), its workers' script as
//                        lrp-engine-mt.worker.js (browsers) and .worker.cjs (Node, where the package's
//                        "type": "module" would make a .js file an ES module).
//
// Each build picks its platform module (web/src/platform/*.js) for the import '#platform'. No source maps:
// the published package has none (set LRP_SOURCEMAP=1 for a local build with them).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}/dist`;

// '#platform' → web/src/platform/<name>.js
const platform = (name) => ({
  name: 'lrp-platform',
  setup(b) {
    b.onResolve({ filter: /^#platform$/ }, () => ({ path: `${root}/web/src/platform/${name}.js` }));
  },
});

// Emscripten 3.1.6's loader names its own location twice through import.meta.url: `_scriptDir` and a fallback
// `new URL("lrp_engine.wasm", import.meta.url)`. The wrapper instantiates the wasm itself (instantiateWasm), so
// both are dead code; left in, webpack would replace import.meta.url with the builder's absolute file path and
// copy a second wasm. Only the platform module's `new URL('./lrp-engine.wasm', import.meta.url)` remains.
const emscriptenLoader = {
  name: 'lrp-emscripten-loader',
  setup(b) {
    b.onLoad({ filter: /build[\\/]wasm[\\/]lrp_engine\.js$/ }, async ({ path }) => {
      const { readFile } = await import('node:fs/promises');
      const source = await readFile(path, 'utf8');
      const patched = source
        .replace('var _scriptDir = import.meta.url;', 'var _scriptDir = undefined;')
        .replace('new URL("lrp_engine.wasm",import.meta.url).toString()', '""');
      if (patched.includes('import.meta')) throw new Error(`${path}: Emscripten's loader changed; update scripts/bundle.mjs`);
      return { contents: patched, loader: 'js' };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  mainFields: ['module', 'main'],
  target: ['es2022'],
  sourcemap: process.env.LRP_SOURCEMAP === '1',
  // Whitespace and syntax only: identifiers keep their names, so that stack traces stay readable without maps.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',  // THIRD_PARTY_NOTICES.md names every bundled package (tests/package.test.mjs)
  metafile: true,
  logLevel: 'warning',
  outdir: 'dist',
  chunkNames: 'lrp-[name]-[hash]',
};

mkdirSync(dist, { recursive: true });
for (const file of readdirSync(dist)) if (/^lrp-chunk-.*\.js$|\.map$/.test(file)) rmSync(`${dist}/${file}`);

const builds = [];
builds.push(await build({
  ...common,
  entryPoints: { 'lrp-wasm': 'web/src/index.js', 'lrp-worker': 'web/src/worker/host.js' },
  platform: 'browser',
  splitting: true,
  plugins: [platform('browser'), emscriptenLoader],
}));
builds.push(await build({
  ...common,
  entryPoints: { 'lrp-wasm.node': 'web/src/index.js', 'lrp-worker.node': 'web/src/worker/host.js' },
  platform: 'node',
  splitting: true,
  plugins: [platform('node'), emscriptenLoader],
}));
builds.push(await build({
  ...common,
  entryPoints: { 'lrp-wasm.inline': 'web/src/index.js' },
  platform: 'browser',
  loader: { '.wasm': 'binary' },
  plugins: [platform('inline'), emscriptenLoader],
}));
// The pthreads engine is imported at run time from a computed URL (index.js: import(moduleUrl.href)). Its magic
// comments tell webpack and Vite to leave that import() alone, but esbuild's whitespace minification drops them:
// without /* webpackIgnore: true */, webpack 5 turns the import into an empty context that rejects with
// "Cannot find module" and threads fail to start in webpack builds. Put them back in each build's output.
const dynamicImport = 'import(moduleUrl.href)';
let restored = 0;
for (const result of builds)
  for (const output of Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js'))) {
    const file = `${root}/${output}`;
    const source = readFileSync(file, 'utf8');
    const sites = source.split(dynamicImport).length - 1;
    if (sites === 0) continue;
    writeFileSync(file, source.replaceAll(dynamicImport, 'import(/* webpackIgnore: true */ /* @vite-ignore */ moduleUrl.href)'));
    restored += sites;
  }
if (restored !== builds.length) throw new Error(`bundle: expected one ${dynamicImport} per build, found ${restored}; update scripts/bundle.mjs`);

// What went into dist/ (tests/package.test.mjs checks that THIRD_PARTY_NOTICES.md names every package of it).
const inputs = [...new Set(builds.flatMap((result) => Object.keys(result.metafile.inputs)))].sort();
writeFileSync(`${root}/build/bundle-inputs.json`, `${JSON.stringify(inputs, null, 1)}\n`);

copyFileSync(`${root}/build/wasm/lrp_engine.wasm`, `${dist}/lrp-engine.wasm`);
copyFileSync(`${root}/build/wasm/lrp_engine_mt.js`, `${dist}/lrp-engine-mt.js`);
copyFileSync(`${root}/build/wasm/lrp_engine_mt.worker.js`, `${dist}/lrp-engine-mt.worker.js`);
copyFileSync(`${root}/build/wasm/lrp_engine_mt.worker.js`, `${dist}/lrp-engine-mt.worker.cjs`);
console.log('bundle: dist/lrp-wasm.js (+ .node.js, .inline.js), lrp-worker.js (+ .node.js), lrp-engine.wasm, lrp-engine-mt.js (+ workers)');
