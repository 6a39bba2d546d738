// One explanation result across the page: prediction and scores, the heatmaps (main, comparison, unit), Σ R
// against f(x), the relevance flow and the attention card; and demo.lastResult, which the tests read.
import { $, body, demo, state } from '../state.js';
import { setStatus, showError, statusIsError } from '../status.js';
import { attentionBlocks } from '../transformer.js';
import { fmt } from '../format.js';
import { methodSelect, compareSelect, labelOf } from '../methods.js';
import { maps, plane, stats, paintMap, clearMap, paintInput, clearHeatmaps, showLegend } from './heatmap.js';
import { showPrediction, clearPrediction } from './scores.js';
import { renderFlow, clearFlow } from './flow.js';
import { showAttention, clearAttention } from './attention.js';
import { paintPicture, clearPicture } from './picture.js';
import { classLabel } from '../classes.js';
import { channelMeans } from '../photo.js';

const statsEl = $('relevance-stats');
const noteEl = $('relevance-note');
let lastPaint = null; // the last painted request + result (for re-colouring without recomputing)

/** Nothing to show: no input, or a model that takes none the page can give. */
export function showEmpty() {
  clearPrediction();
  clearHeatmaps();
  statsEl.textContent = '';
  noteEl.hidden = true;
  clearFlow();
  clearAttention();
  clearPicture();
  delete body.dataset.stale;
  body.dataset.drawing = 'empty';
  demo.lastResult = null;
}

/** A new model: the last result is not its own. */
export function forgetResult() {
  lastPaint = null;
}

/** Paints the last result again (the colour map changed). */
export function repaintResult() {
  if (lastPaint && demo.lastResult) paintResult(lastPaint.req, lastPaint.m);
}

/** A map of an extra job (the comparison, the unit): painted, or cleared when it is missing or failed. */
function paintJob(map, job) {
  if (!job || job.error) {
    clearMap(map);
    return null;
  }
  const R = plane(job.relevance);
  const s = stats(R);
  paintMap(map, R, s.maxAbs);
  return s;
}

/**
 * Paints the result `m` ({ logits, results: { main, compare?, unit? }, attention, ms }: jobs.js's explainJobs) of
 * the request `req` (client.js's request, with the method, comparison and unit it was made for).
 */
export function paintResult(req, m) {
  lastPaint = { req, m };
  delete body.dataset.stale; // a new photo's result: the old one is replaced
  const { logits, results } = m;
  const main = results.main;
  const { predicted, probs, top5 } = showPrediction(logits);
  paintInput(req.pixels ?? req.input); // a photo as it looks, not normalised
  body.dataset.drawing = 'digit';

  if (main.error) {
    showError(`Explaining with "${req.method}" failed`, new Error(main.error));
    clearMap(maps.main);
    clearAttention();
    clearPicture();
    statsEl.textContent = '';
    noteEl.hidden = true;
    return;
  }
  const R = plane(main.relevance);
  const st = stats(R);
  paintMap(maps.main, R, st.maxAbs);
  const uniform = st.maxAbs > 0 && st.hi - st.lo <= 1e-4 * st.maxAbs;
  noteEl.hidden = !uniform;
  noteEl.textContent = uniform
    ? 'Every pixel got the same relevance: the flat rule on a dense first layer (every pixel feeds ' +
      'every neuron) spreads relevance evenly. Try epsilon-plus or deep-taylor for a per-pixel map.'
    : '';
  const tg = req.jobs[0].target;
  const target = main.target;
  const targetText = tg.kind === 'contrast' ? `for ${classLabel(tg.a)}, not ${classLabel(tg.b)}` : `for ${classLabel(target)}`;
  $('heatmap-target').textContent = targetText;
  maps.main.canvas.setAttribute('aria-label', `Relevance heatmap ${targetText} by ${labelOf(methodSelect)}: red pixels speak for it, blue against`);
  showLegend(st.maxAbs);
  const isLrp = !req.options.method;
  const fx = tg.kind === 'contrast' ? logits[tg.a] - logits[tg.b] : logits[target];
  const fxText = tg.kind === 'contrast' ? `f${tg.a} − f${tg.b}` : `f${target}(x)`;
  statsEl.textContent = isLrp
    ? `Σ R = ${fmt(st.sum)} vs ${fxText} = ${fmt(fx)} (${fx !== 0 ? ((st.sum / fx) * 100).toFixed(1) : '—'} % conserved) · max |R| = ${fmt(st.maxAbs)}`
    : `Σ = ${fmt(st.sum)} · ${fxText} = ${fmt(fx)} · max |value| = ${fmt(st.maxAbs)}`;

  let compare = null;
  const s2 = paintJob(maps.compare, results.compare);
  if (s2) {
    compare = { method: req.compare, maxAbsRelevance: s2.maxAbs, sumRelevance: s2.sum };
    maps.compare.canvas.setAttribute('aria-label', `Second heatmap ${targetText} by ${labelOf(compareSelect)}, for comparison`);
  } else if (results.compare?.error) {
    showError(`Comparing with "${req.compare}" failed`, new Error(results.compare.error));
  }

  let unit = null;
  const s3 = paintJob(maps.unit, results.unit);
  if (s3) {
    const uc = req.unitChoice;
    unit = { layer: uc.layer, unit: uc.unit, label: uc.label, maxAbsRelevance: s3.maxAbs, sumRelevance: s3.sum };
    $('unit-caption').textContent = `Through ${uc.label}: Σ R = ${fmt(s3.sum)}`;
  } else if (results.unit?.error) {
    showError('Restricting to the unit failed', new Error(results.unit.error));
  } else {
    $('unit-caption').textContent = 'No unit chosen';
  }
  maps.unit.canvas.closest('figure').classList.toggle('empty', !s3);

  const overlay = paintPicture(req, m);
  const layers = main.layers ?? null;
  renderFlow(layers, st.sum, isLrp);
  showAttention(attentionBlocks(m.attention)?.blocks ?? null, R);

  if (statusIsError() || req.trigger !== 'draw') {
    if (!(results.compare?.error || results.unit?.error)) {
      const p = state.mode === 'photo' ? ` (${(probs[predicted] * 100).toFixed(1)} %)` : '';
      setStatus(`Predicted ${classLabel(predicted)}${p} for ${req.source}; relevance ${targetText} by ${labelOf(methodSelect)}.`);
    }
  }
  demo.explained += 1;
  demo.lastResult = {
    trigger: req.trigger,
    triggers: req.triggers,
    id: req.id,
    method: req.method,
    model: req.name,
    mode: state.mode,
    source: req.source,
    prediction: predicted,
    predictionName: classLabel(predicted),
    probability: probs[predicted],
    top5,
    options: { low: req.options.low ?? null, high: req.options.high ?? null },
    inputStats: state.mode === 'photo' ? { mean: channelMeans(req.input, state.info.image.C) } : null,
    overlay,
    logits: Array.from(logits),
    target,
    targetSpec: tg,
    maxAbsRelevance: st.maxAbs,
    sumRelevance: st.sum,
    fx,
    shape: state.info.inputShape.slice(),
    compare,
    unit,
    layers: layers ? layers.map(({ index, name, kind, sum, absorbed }) => ({ index, name, kind, sum, absorbed })) : null,
    ms: m.ms,
  };
  body.dataset.explained = String(demo.explained);
}
