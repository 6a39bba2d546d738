// What the demo's modules share: the element lookup, the chosen model (`state`) and the test and debugging
// hook `window.__lrpDemo` (`demo`), which the browser tests and benchmarks read. Nothing here
// touches the engine or paints; the other modules import what they need from here, never from main.js.

export const $ = (id) => document.getElementById(id);
export const body = document.body;

/** The number in the input `id` (an empty one reads 0), or `fallback` when it is not a number. */
export const num = (id, fallback) => {
  const v = Number($(id).value);
  return Number.isFinite(v) ? v : fallback;
};

/** The chosen model and what the page knows of it (set when a model is chosen; main.js's useModel). */
export const state = {
  name: null, // the chosen model's key in MODELS (client.js), or 'custom' for a user's file
  model: null, // its WorkerModel
  info: null, // { inputShape, outputSize, layers, image: { C, H, W } | null, attention, transformer }
  engine: null, // the status of the package's worker's engine: { threads, memoryBytes, limit, used, available }
  customFileName: '', // the user's ONNX file, when one was loaded
  mode: 'draw', // 'draw' (an MNIST-shaped model: draw a digit) or 'photo' (any other image input: photo-mode.js)
  labels: null, // the model's class names (classes.js), or null: classes are shown by index (MNIST's digits)
};

// ---------------------------------------------------------------- test / debugging hook
let settle;
const ready = new Promise((resolve, reject) => {
  settle = { resolve, reject };
});
ready.catch(() => {}); // the failure is shown in #status
/** demo.ready resolves with the first model's name once the page can explain. */
export const markReady = (name) => settle.resolve(name);
/** demo.ready rejects: the page could not start. */
export const markFailed = (err) => settle.reject(err);

export const demo = {
  ready, lastResult: null, explained: 0, modelName: null, error: null,
  latencies: {}, latency: {}, samples: null, requested: 0, painted: 0, sent: 0, dropped: 0, cancelled: 0, paintedIds: [],
  longTasks: [], maxLongTask: 0,
};
window.__lrpDemo = demo;

const LONG_TASKS_KEPT = 500; // the list is for tests and benchmarks; the maximum covers every one

/**
 * Records the main thread's long tasks (over 50 ms: the page did not respond to input meanwhile) in
 * demo.longTasks (their durations in ms) and demo.maxLongTask, where the browser reports them (Chromium).
 */
export function observeLongTasks() {
  if (!PerformanceObserver.supportedEntryTypes?.includes('longtask')) return;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      demo.longTasks.push(entry.duration);
      if (demo.longTasks.length > LONG_TASKS_KEPT) demo.longTasks.shift();
      demo.maxLongTask = Math.max(demo.maxLongTask, entry.duration);
    }
  }).observe({ type: 'longtask' });
}
