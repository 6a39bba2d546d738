// The prediction card: the predicted class and its softmax probability, the five most likely classes with their
// names (a model whose classes have names), a bar per output (its logit; not for more than MAX_BARS outputs), and
// the stroke → heatmap latency (measured in main.js).
import { $, body, demo } from '../state.js';
import { argmax, softmax, median } from '../format.js';
import { topK } from '../labels.js';
import { nameOf, classLabel } from '../classes.js';

const MAX_BARS = 20; // 1,000 bars say less than the top 5

const scoresEl = $('scores');
const predictionEl = $('prediction');
const probabilityEl = $('probability');
let scoreRows = [];

/** One row per output of the model (`n` outputs), empty; none for more than MAX_BARS outputs. */
export function buildScores(n) {
  scoresEl.textContent = '';
  scoreRows = [];
  $('top5').textContent = '';
  if (n > MAX_BARS) body.dataset.manyOutputs = '';
  else delete body.dataset.manyOutputs;
  for (let k = 0; k < (n > MAX_BARS ? 0 : n); k++) {
    const row = document.createElement('div');
    row.className = 'score';
    row.setAttribute('role', 'listitem');
    row.dataset.class = String(k);
    row.innerHTML =
      '<span class="score-label"></span>' +
      '<span class="score-track"><span class="score-zero"></span><span class="score-bar"></span></span>' +
      '<span class="score-value"></span>';
    row.querySelector('.score-label').textContent = classLabel(k);
    row.querySelector('.score-label').title = classLabel(k);
    scoresEl.appendChild(row);
    scoreRows.push({ row, bar: row.querySelector('.score-bar'), zero: row.querySelector('.score-zero'), value: row.querySelector('.score-value') });
  }
  resetScores();
}

function renderScores(logits, predicted) {
  let lo = 0, hi = 0;
  for (const v of logits) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  scoreRows.forEach(({ row, bar, zero, value }, k) => {
    const v = logits[k];
    const a = ((Math.min(v, 0) - lo) / span) * 100;
    const b = ((Math.max(v, 0) - lo) / span) * 100;
    bar.style.left = `${a}%`;
    bar.style.width = `${Math.max(b - a, 0)}%`;
    bar.classList.toggle('negative', v < 0);
    zero.style.left = `${(-lo / span) * 100}%`;
    value.textContent = v.toFixed(2);
    row.classList.toggle('predicted', k === predicted);
    row.setAttribute('aria-label', `class ${classLabel(k)}: logit ${v.toFixed(2)}${k === predicted ? ' (predicted)' : ''}`);
  });
}

function resetScores() {
  for (const { row, bar, value } of scoreRows) {
    bar.style.width = '0';
    value.textContent = '';
    row.classList.remove('predicted');
    row.setAttribute('aria-label', `class ${row.dataset.class}: no score yet`);
  }
}

/**
 * Shows the prediction for `logits`; returns { predicted, probs (their softmax), top5: [{ class, name, logit,
 * probability }] } (name: null when the classes have none).
 */
export function showPrediction(logits) {
  const predicted = argmax(logits);
  const probs = softmax(logits);
  predictionEl.textContent = classLabel(predicted);
  probabilityEl.textContent = `${(probs[predicted] * 100).toFixed(1)} % (softmax)`;
  renderScores(logits, predicted);
  const top5 = topK(logits, 5).map((t) => ({ ...t, name: nameOf(t.class) }));
  renderTop5(top5);
  return { predicted, probs, top5 };
}

/** The five most likely classes, by name, with their probabilities (shown when the classes have names). */
function renderTop5(top5) {
  const list = $('top5');
  list.textContent = '';
  if (!top5[0]?.name && !body.dataset.manyOutputs && body.dataset.mode !== 'photo') return; // the bars say it
  for (const t of top5) {
    const li = document.createElement('li');
    const name = Object.assign(document.createElement('span'), { className: 'name', textContent: `${t.name ?? `class ${t.class}`}`, title: `class ${t.class}` });
    const p = Object.assign(document.createElement('span'), { className: 'p', textContent: `${(t.probability * 100).toFixed(1)} %` });
    const bar = Object.assign(document.createElement('span'), { className: 'bar' });
    bar.style.width = `${Math.max(1, t.probability * 100)}%`;
    li.append(name, p, bar);
    li.setAttribute('aria-label', `${t.name ?? `class ${t.class}`}: ${(t.probability * 100).toFixed(1)} percent`);
    list.append(li);
  }
}

export function clearPrediction() {
  predictionEl.textContent = '';
  probabilityEl.textContent = '';
  $('top5').textContent = '';
  resetScores();
}

/** Records a time under `key` in demo.latencies and returns their median (kept in demo.latency[key]). */
function record(key, ms) {
  (demo.latencies[key] ??= []).push(ms);
  return (demo.latency[key] = median(demo.latencies[key]));
}

/** Records a stroke → heatmap time on model `name` (demo.latencies, demo.latency: their median) and shows it. */
export function showLatency(name, label, ms) {
  const mid = record(name, ms);
  $('latency').textContent = `Last stroke → heatmap: ${ms.toFixed(0)} ms (median ${mid.toFixed(0)} ms on the ${label}).`;
}

/**
 * Records the time from a photo mode request (a photo, the preset, a method or target chosen) to its painted
 * heatmap in demo.latencies.photo and demo.latency.photo (their median), and shows it.
 */
export function showPhotoLatency(label, ms) {
  const mid = record('photo', ms);
  const s = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
  $('latency').textContent = `Request → heatmap: ${s(ms)} (median ${s(mid)} on ${label}), computed in the worker.`;
}
