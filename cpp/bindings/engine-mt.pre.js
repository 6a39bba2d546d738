// Prepended to the pthreads engine (lrp_engine_mt.js; CMakeLists.txt). Emscripten 3.1.6's Node code calls
// `require` and reads `__dirname`/`__filename`, which an ES module does not have. They are supplied here,
// inside the module factory: on the main thread from what the wrapper hands in (Module.nodeRequire, made by
// createRequire, and Module.nodeFilename, this file's path); in a pthread worker from the globals that
// Emscripten's worker script (a CommonJS file) sets up (`require`, and `location.href`: its own path, which
// is in the same folder). In browsers none of this runs.
var require, __filename, __dirname;
if (typeof process == 'object' && typeof process.versions == 'object' && typeof process.versions.node == 'string') {
  require = Module['nodeRequire'] || globalThis.require;
  __filename = Module['nodeFilename'] || (globalThis.location && globalThis.location.href) || '';
  __dirname = require('path').dirname(__filename);
}

// Node keeps a process alive while a worker_threads Worker is referenced, and the pool's workers never exit
// (they wait for work): the wrapper calls this once the pool has started, so that a script that is done ends.
Module['unrefWorkers'] = function() {
  PThread.unusedWorkers.concat(PThread.runningWorkers).forEach(function(worker) {
    if (typeof worker.unref == 'function') worker.unref();
  });
};
