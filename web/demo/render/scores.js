// The prediction card: the predicted class and its softmax probability, a bar per output (its logit), and the
// stroke → heatmap latency (measured in main.js).
import { $, demo } from '../state.js';
import { argmax, softmax, median } from '../format.js';

const scoresEl = $('scores');
const predictionEl = $('prediction');
const probabilityEl = $('probability');
let scoreRows = [];

/** One row per output of the model (`n` outputs), empty. */
export function buildScores(n) {
  scoresEl.textContent = '';
  scoreRows = [];
  for (let k = 0; k < n; k++) {
    const row = document.createElement('div');
    row.className = 'score';
    row.setAttribute('role', 'listitem');
    row.dataset.class = String(k);
    row.innerHTML =
      `<span class="score-label">${k}</span>` +
      '<span class="score-track"><span class="score-zero"></span><span class="score-bar"></span></span>' +
      '<span class="score-value"></span>';
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
    row.setAttribute('aria-label', `class ${k}: logit ${v.toFixed(2)}${k === predicted ? ' (predicted)' : ''}`);
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

/** Shows the prediction for `logits`; returns { predicted, probs } (probs: their softmax). */
export function showPrediction(logits) {
  const predicted = argmax(logits);
  const probs = softmax(logits);
  predictionEl.textContent = String(predicted);
  probabilityEl.textContent = `${(probs[predicted] * 100).toFixed(1)} % (softmax)`;
  renderScores(logits, predicted);
  return { predicted, probs };
}

export function clearPrediction() {
  predictionEl.textContent = '';
  probabilityEl.textContent = '';
  resetScores();
}

/** Records a stroke → heatmap time on model `name` (demo.latencies, demo.latency: their median) and shows it. */
export function showLatency(name, label, ms) {
  (demo.latencies[name] ??= []).push(ms);
  demo.latency[name] = median(demo.latencies[name]);
  $('latency').textContent = `Last stroke → heatmap: ${ms.toFixed(0)} ms (median ${demo.latency[name].toFixed(0)} ms on the ${label}).`;
}
