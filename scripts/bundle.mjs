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
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// index.js imports the threaded engine by a URL computed at run time, `import(/* webpackIgnore: true */
// /* @vite-ignore */ moduleUrl.href)`: the comments tell an app's bundler to leave that import() alone. Without them
// webpack 5 turns the import() into a context module of the whole dist/ folder ("Critical dependency: the request
// of a dependency is an expression", and a stray lazy chunk that cannot find the engine;
// tests/e2e/bundlers.test.mjs). esbuild keeps them today, but its whitespace minification drops them: so each
// output's import() is rewritten to the form with the comments, and the build fails if that import() is not found
// exactly once per build (renamed in index.js, or esbuild writing it another way).
const threadedImport = /import\(\s*(?:\/\*[^*]*\*\/\s*)*moduleUrl\.href\s*\)/g;
const threadedImportKept = 'import(/* webpackIgnore: true */ /* @vite-ignore */ moduleUrl.href)';
function keepImportComments(result) {
  let found = 0;
  for (const file of Object.keys(result.metafile.outputs)) {
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(`${root}/${file}`, 'utf8');
    const kept = code.replace(threadedImport, () => {
      found += 1;
      return threadedImportKept;
    });
    if (kept !== code) writeFileSync(`${root}/${file}`, kept);
  }
  if (found !== 1) throw new Error(`bundle: expected import(moduleUrl.href) once in a build's output, found it ${found} times; update scripts/bundle.mjs`);
  return result;
}

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  mainFields: ['module', 'main'],
  target: ['es2022'],
  sourcemap: process.env.LRP_SOURCEMAP === '1',
  // Syntax only: identifiers keep their names and lines stay lines, so that stack traces and the source line
  // Node prints under an uncaught error stay readable without source maps (with whitespace minification each
  // file is one line of several hundred KB, printed whole).
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
builds.push(keepImportComments(await build({
  ...common,
  entryPoints: { 'lrp-wasm': 'web/src/index.js', 'lrp-worker': 'web/src/worker/host.js' },
  platform: 'browser',
  splitting: true,
  plugins: [platform('browser'), emscriptenLoader],
})));
builds.push(keepImportComments(await build({
  ...common,
  entryPoints: { 'lrp-wasm.node': 'web/src/index.js', 'lrp-worker.node': 'web/src/worker/host.js' },
  platform: 'node',
  splitting: true,
  plugins: [platform('node'), emscriptenLoader],
})));
builds.push(keepImportComments(await build({
  ...common,
  entryPoints: { 'lrp-wasm.inline': 'web/src/index.js' },
  platform: 'browser',
  loader: { '.wasm': 'binary' },
  plugins: [platform('inline'), emscriptenLoader],
})));
// The inline build's worker script: the worker host, with the library imported from lrp-wasm.inline.js beside it
// (not bundled again: the wasm stays in one file).
builds.push(await build({
  ...common,
  entryPoints: { 'lrp-worker.inline': 'web/src/worker/host.js' },
  platform: 'browser',
  plugins: [platform('browser'), {
    name: 'lrp-inline-library',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './lrp-wasm.inline.js', external: true }));
    },
  }],
}));
// What went into dist/ (tests/package.test.mjs checks that THIRD_PARTY_NOTICES.md names every package of it).
const inputs = [...new Set(builds.flatMap((result) => Object.keys(result.metafile.inputs)))].sort();
writeFileSync(`${root}/build/bundle-inputs.json`, `${JSON.stringify(inputs, null, 1)}\n`);

copyFileSync(`${root}/build/wasm/lrp_engine.wasm`, `${dist}/lrp-engine.wasm`);
// Emscripten 3.1.6 only logs a pool worker that fails to start and then rethrows its error from the worker's error
// handler: the engine's start never settles, and in Node the rethrow ends the process. The handler calls the
// wrapper's Module.lrpOnWorkerError instead when it is there (index.js rejects the start with the error).
const workerOnError = 'worker.onerror=(e=>{var message="worker sent an error!";err(message+" "+e.filename+":"+e.lineno+": "+e.message);throw e})';
const threadedEngine = readFileSync(`${root}/build/wasm/lrp_engine_mt.js`, 'utf8');
if (threadedEngine.split(workerOnError).length !== 2) throw new Error("bundle: Emscripten's pthread worker error handler changed; update scripts/bundle.mjs");
// And its exception reference count reads the heap at `ptr >> 2`, a signed shift: an exception allocated above
// 2 GB (a refusal near the memory limit) became "RangeError: Invalid atomic access index" instead of its message.
const signedRefcount = /Atomics\.(add|sub)\(GROWABLE_HEAP_I32\(\),this\.ptr\+0>>2,1\)/g;
if ((threadedEngine.match(signedRefcount) ?? []).length !== 2) throw new Error("bundle: Emscripten's exception reference count changed; update scripts/bundle.mjs");
writeFileSync(`${dist}/lrp-engine-mt.js`, threadedEngine
  .replace(workerOnError, 'worker.onerror=(e=>{if(Module["lrpOnWorkerError"])return Module["lrpOnWorkerError"](e);throw e})')
  .replace(signedRefcount, 'Atomics.$1(GROWABLE_HEAP_I32(),this.ptr+0>>>2,1)'));
// The threads' script imports the engine from the URL it is sent, falling back to the build's own file name,
// lrp_engine_mt.js: dead code here, but a name Vite's dev server tries to resolve (and fails) when it serves the
// script. It is given the name the file has in dist/.
const threadScript = readFileSync(`${root}/build/wasm/lrp_engine_mt.worker.js`, 'utf8');
if (!threadScript.includes('import("./lrp_engine_mt.js")')) throw new Error("bundle: Emscripten's pthread worker script changed; update scripts/bundle.mjs");
const threadScriptRenamed = threadScript.replace('import("./lrp_engine_mt.js")', 'import("./lrp-engine-mt.js")');
writeFileSync(`${dist}/lrp-engine-mt.worker.js`, threadScriptRenamed);
writeFileSync(`${dist}/lrp-engine-mt.worker.cjs`, threadScriptRenamed);
console.log('bundle: dist/lrp-wasm.js (+ .node.js, .inline.js), lrp-worker.js (+ .node.js), lrp-engine.wasm, lrp-engine-mt.js (+ workers)');
