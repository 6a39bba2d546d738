// lrp-wasm demo: draw (or pick, or drop) a digit → prediction → relevance heatmaps, live while drawing; or, for a
// photo classifier (any other image input), a photo → its top 5 → the heatmap over the photo.
// No framework. The engine runs in the package's worker (client.js), so this thread only draws. The only
// requests are to this origin (the /dist/ bundle, /models/ models and samples).
//
// This module wires the others together: what a change of the input or a control does (update: a new
// explanation request), what a result does (it is painted: render/result.js), and the choice of the model.
//   state.js    the chosen model, window.__lrpDemo      status.js  status line, busy indicator
//   methods.js  methods, their options, the target      client.js  bundle, models, requests to the worker
//   drawing.js  the canvas: strokes, undo, clear        inputs.js  what the model gets (drawing, digits, images)
//   photo-mode.js  photos, normalisation presets       classes.js the classes' names (labels files, ImageNet)
//   render/     heatmap, picture (the heatmap over the photo or drawing), scores, flow, attention, faithfulness,
//               model summary, result (one result, every panel)
import { SIZE } from './preprocess.js';
import { $, body, demo, state, markReady, markFailed, observeLongTasks } from './state.js';
import { setStatus, showError, statusIsError, reportUncaughtErrors } from './status.js';
import {
  methodSelect, compareSelect, optionsFor, offerMethods, targetSpec, fillTargets, initMethodControls, DEFAULT_METHOD,
} from './methods.js';
import {
  MODELS, loadBundle, loadWorkerModel, modelNamed, setCustomModel, modelInfo, refreshEngineStatus, request,
  cancelExplaining, onResult,
} from './client.js';
import { initDrawing, flushFrame, scheduleFrame, fitCanvas, redraw } from './drawing.js';
import { currentInput, hasInput, forgetInputs, loadSamples, initInputs, onFileChosen } from './inputs.js';
import { initHeatmapControls } from './render/heatmap.js';
import { buildScores, showLatency, showPhotoLatency } from './render/scores.js';
import { initFlow, resetFlow, chosenUnit, drawUnits } from './render/flow.js';
import { initAttention, fillAttentionControls } from './render/attention.js';
import { initFaithfulness } from './render/faithfulness.js';
import { describeModel } from './render/model.js';
import { paintResult, showEmpty, forgetResult, repaintResult } from './render/result.js';
import { initPicture } from './render/picture.js';
import { chooseMode, enterPhotoMode, leavePhotoMode, initPhotoMode, usePhoto } from './photo-mode.js';
import { chooseLabels, useLabelsFile, labelsError, nameOf } from './classes.js';

const modelSelect = $('model');

// ---------------------------------------------------------------- explaining
/** Asks for an explanation of the current input with the current controls; returns the request's id (0: none). */
function update(trigger) {
  if (!state.info || !state.model) return 0;
  if (!state.info.image) return 0;
  const source = currentInput();
  if (!source) {
    cancelExplaining();
    showEmpty();
    if (body.dataset.state === 'ready' && !statusIsError()) {
      setStatus(state.mode === 'photo' ? 'Choose, drop or take a photo.' : 'Draw a digit, pick one from the test set or drop an image.');
    }
    return 0;
  }
  const method = methodSelect.value;
  const options = optionsFor(method);
  const target = targetSpec();
  const unitChoice = chosenUnit();
  const jobs = [{ key: 'main', options, target }];
  if (compareSelect.value !== 'off') jobs.push({ key: 'compare', options: optionsFor(compareSelect.value, false), target });
  if (unitChoice) jobs.push({ key: 'unit', options: { ...options, restrict: unitChoice.restrict }, target });
  const isLrp = !options.method;
  return request({
    trigger, model: state.model, name: state.name, input: source.x, pixels: source.pixels, source: source.name, placement: source.placement, jobs, wantLayers: isLrp,
    wantAttention: !!state.info.attention, method, compare: compareSelect.value, options, unitChoice, t0: performance.now(),
  });
}

let strokeTiming = null; // { id, t0, model } of the request made at the last pointerup

/** A result still wanted (client.js): painted, and timed when it answers the last stroke. */
function onFreshResult(req, m) {
  if (!hasInput()) return; // cleared meanwhile
  paintResult(req, m);
  if (state.mode === 'photo') showPhotoLatency(labelOfModel(req.name), performance.now() - req.t0);
  if (strokeTiming && req.id >= strokeTiming.id && strokeTiming.model === req.model) {
    showLatency(req.name, MODELS[req.name]?.label ?? req.name, performance.now() - strokeTiming.t0);
    strokeTiming = null;
  }
}

// ---------------------------------------------------------------- models
const labelOfModel = (name) => (name === 'custom' ? state.customFileName : MODELS[name].label);
const descriptionOfModel = (name) => (name === 'custom' ? `your model ${state.customFileName}` : MODELS[name].description);

async function useModel(name) {
  cancelExplaining(); // the previous model's results are stale: its calls still queued in the worker are dropped
  body.dataset.state = 'loading';
  setStatus('Loading the model…');
  const model = await modelNamed(name);
  await refreshEngineStatus(model); // answered after the call the worker is running, if any (one at a time)
  state.model = model;
  state.name = name;
  demo.modelName = name;
  demo.modelError = null; // an earlier model file's failure is not this one's
  $('latency').textContent = ''; // timed on the previous model
  const info = (state.info = modelInfo(model));
  const wasPhoto = state.mode === 'photo';
  const mode = chooseMode(info);
  // a file with ViT-like attention blocks starts on attn-lrp as the bundled ViT does; a photo CNN on
  // epsilon-gamma-box, Zennit's composite for image classifiers (its z-box bounds follow the preset); back from
  // photo mode, a digit model on the page's default (else the current method is kept)
  const photoStart = mode === 'photo' && !info.transformer ? 'epsilon-gamma-box' : null;
  const start = MODELS[name]?.method ?? (info.attention ? 'attn-lrp' : photoStart ?? (wasPhoto ? DEFAULT_METHOD : null));
  offerMethods({ transformer: info.transformer, start });
  fillAttentionControls();
  resetFlow();
  forgetResult();
  await chooseLabels(name, model.outputSize, MODELS[name]?.labels).catch((err) => showError('Class names', err));
  showClasses(model.outputSize);
  describeModel(labelOfModel(name), descriptionOfModel(name));
  body.dataset.state = 'ready';
  if (!info.image) {
    showEmpty();
    setStatus(`This model's input has the shape [${info.inputShape.join(', ')}], which is not an image (expected channels × height × width): ` +
      'the demo can show its layers but cannot feed it a drawing. Choose an image model.', 'error');
    body.dataset.inputKind = 'not-image';
    return;
  }
  body.dataset.inputKind = 'image';
  const { C, H, W } = info.image;
  if (mode === 'photo') {
    showEmpty();
    const names = state.labels ? `, ${model.outputSize.toLocaleString('en')} named classes` : '';
    setStatus(`Model loaded (${info.layers.length} layers, input ${info.inputShape.join('×')}${names}). Choose, drop or take a photo: ` +
      `it is scaled on its shorter side and centre-cropped to ${W}×${H}.`);
    await enterPhotoMode();
    return;
  }
  leavePhotoMode();
  setStatus(`Model loaded (${info.layers.length} layers, input ${info.inputShape.join('×')}${H !== SIZE || W !== SIZE ? `: drawings are resized to ${H}×${W}${C > 1 ? ` and repeated over ${C} channels` : ''}` : ''}). Draw a digit from 0 to 9.`);
  if (currentInput()) flushFrame('model');
  else showEmpty();
}

/** A user's ONNX file (chosen or dropped): loaded into the worker, it replaces the previous file's model. */
async function loadModelFile(file) {
  setStatus(`Loading your model ${file.name}…`);
  let model;
  try {
    model = await loadWorkerModel(file).catch((err) => {
      throw new Error(`Could not load the model file: ${err.message}`);
    });
  } catch (err) {
    showError(`Could not use your model "${file.name}"`, err);
    demo.modelError = err.message;
    return;
  }
  const previous = await setCustomModel(model);
  state.customFileName = file.name;
  const opt = modelSelect.querySelector('option[value="custom"]');
  opt.disabled = false;
  opt.textContent = `Your model: ${file.name}`;
  modelSelect.value = 'custom';
  try {
    await useModel('custom');
  } finally {
    previous?.dispose(); // after the switch: no request of the page uses it any more
  }
}

/** A labels file (chosen or dropped): the chosen model's classes are named by it. */
async function loadLabelsFile(file) {
  if (!state.model) return;
  try {
    await useLabelsFile(file, state.model.outputSize);
  } catch (err) {
    labelsError(err);
    return;
  }
  showClasses(state.model.outputSize);
  repaintResult();
}

/** The `n` classes, by their names where they have them, in the scores and the target menus. */
function showClasses(n) {
  buildScores(n);
  fillTargets(n, nameOf);
}

/** After work that may have grown the engine's memory: the summary shows its new size. */
function engineMayHaveGrown(model) {
  refreshEngineStatus(model)
    .then(() => model === state.model && describeModel(labelOfModel(state.name), descriptionOfModel(state.name)))
    .catch((err) => showError('Engine status', err));
}

// ---------------------------------------------------------------- start-up
reportUncaughtErrors();
observeLongTasks();
onResult(onFreshResult);
initMethodControls(flushFrame);
initDrawing({
  update,
  strokeEnded: (id, t0) => {
    strokeTiming = { id, t0, model: state.model };
  },
  cleared: forgetInputs,
});
initInputs({ modelFile: loadModelFile, labelsFile: loadLabelsFile, photoFile: (file) => usePhoto(file) });
initPhotoMode({ flush: flushFrame });
initPicture();
onFileChosen($('labels-file'), loadLabelsFile);
initFlow({ changed: flushFrame });
initAttention();
initFaithfulness({ engineMayHaveGrown });
modelSelect.addEventListener('change', () => {
  useModel(modelSelect.value).catch((err) => {
    body.dataset.state = 'error';
    showError('Error', err);
  });
});
onFileChosen($('model-file'), loadModelFile);

async function init() {
  initHeatmapControls({ recolour: () => hasInput() && repaintResult() });
  fitCanvas();
  redraw();
  window.addEventListener('resize', () => {
    if (fitCanvas()) scheduleFrame();
    drawUnits();
  });
  setStatus('Loading the WebAssembly engine…');
  loadSamples().catch((err) => {
    $('sample').disabled = $('random').disabled = true;
    $('sample-help').textContent = `The test digits could not be loaded (${err.message}); run "node scripts/make_samples.mjs".`;
  });
  await loadBundle();
  await useModel(modelSelect.value);
  markReady(demo.modelName);
}

init().catch((err) => {
  body.dataset.state = 'error';
  showError('Error', err);
  markFailed(err);
});
