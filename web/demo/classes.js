// The names of a model's classes: built in for the bundled photo model (its labels file) and for every model
// with 1,000 outputs (ImageNet-1k's names, from torchvision: scripts/imagenet_labels.py); or from a file the
// person gives (one name per line, or JSON: labels.js). MNIST's classes are their digits and need none.
import { $, state } from './state.js';
import { parseLabels, className } from './labels.js';

const IMAGENET_LABELS = '/imagenet-labels.json';
const given = new Map(); // model name → { names, file }: a labels file given for that model (kept while it is chosen again)
let origin = ''; // where state.labels came from, for #labels-help

async function fetchLabels(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not fetch ${url} (HTTP ${response.status})`);
  return parseLabels(await response.text());
}

/**
 * Chooses the class names of the model `name` (`outputSize` outputs, `url`: its bundled labels file, if any) into
 * state.labels: a file given for it, its own, ImageNet's for 1,000 outputs, or none.
 */
export async function chooseLabels(name, outputSize, url) {
  state.labels = null;
  origin = '';
  if (given.has(name)) {
    ({ names: state.labels, file: origin } = given.get(name));
  } else if (url) {
    state.labels = await fetchLabels(url);
    origin = url.split('/').pop();
  } else if (outputSize === 1000) {
    state.labels = await fetchLabels(IMAGENET_LABELS);
    origin = 'ImageNet-1k, built in';
  }
  describeLabels(outputSize);
}

/** A labels file the person gave: the chosen model's classes are named by it from now on. */
export async function useLabelsFile(file, outputSize) {
  const names = parseLabels(await file.text());
  given.set(state.name, { names, file: file.name });
  state.labels = names;
  origin = file.name;
  describeLabels(outputSize);
}

/** #labels-help: where the names come from, and whether their number fits the model's outputs. */
function describeLabels(outputSize) {
  const help = $('labels-help');
  help.classList.remove('error');
  if (!state.labels) {
    help.textContent = `No class names: ${outputSize === 1 ? 'the class is' : `the ${outputSize} classes are`} shown by index. Give a file to name them.`;
    return;
  }
  const n = state.labels.length;
  let fit = '';
  if (n < outputSize) fit = ` — fewer than the model's ${outputSize} outputs: the others are shown by index`;
  if (n > outputSize) fit = ` — more than the model's ${outputSize} outputs: the first ${outputSize} are used`;
  help.textContent = `${n.toLocaleString('en')} class names (${origin})${fit}.`;
}

/** Shows a labels file that could not be read. */
export function labelsError(err) {
  const help = $('labels-help');
  help.textContent = `That labels file could not be used: ${err.message}`;
  help.classList.add('error');
}

/** The name of class k, or null when the model's classes have none (then the index is its name). */
export const nameOf = (k) => (state.labels ? className(state.labels, k) : null);
/** What people call class k: its name, or its index. */
export const classLabel = (k) => nameOf(k) ?? String(k);
