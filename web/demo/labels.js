// Class names for a model's outputs, and the top-k of its logits (pure functions, no DOM).
import { softmax } from './format.js';

/**
 * Class names from a labels file: a JSON array of names; a JSON object from index to name, or to
 * [id, name] (Keras's imagenet_class_index.json); or plain text, one name per line.
 * @returns {string[]}
 * @throws {Error} a JSON file that is none of these, or no names at all
 */
export function parseLabels(text) {
  const trimmed = String(text).trim();
  // a NUL or an undecodable byte (U+FFFD after UTF-8 decoding): an image or a model chosen by mistake
  if (/[\u0000\uFFFD]/.test(trimmed.slice(0, 65536))) throw new Error('the labels file is not text (one name per line, or JSON)');
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return fromJson(trimmed);
  // a blank line is a class without a name (shown by its index), so the lines keep their class indices
  const names = trimmed.split(/\r?\n/).map((line) => line.trim() || null);
  if (names.every((n) => n === null)) throw new Error('the labels file has no names');
  return names;
}

function fromJson(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`the labels file is not valid JSON (${err.message})`);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error('the labels file has no names');
    return value.map((name, k) => nameOf(name, k));
  }
  const keys = Object.keys(value);
  if (keys.length === 0 || !keys.every((key) => /^\d+$/.test(key)))
    throw new Error('a JSON labels file must be an array of names or an object from class index to name');
  const names = [];
  for (const key of keys) names[Number(key)] = nameOf(value[key], key);
  return Array.from(names, (name, k) => name ?? `class ${k}`);
}

function nameOf(entry, k) {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry) && typeof entry.at(-1) === 'string') return entry.at(-1); // Keras: [wordnet id, name]
  throw new Error(`label ${k} is not a name (got ${JSON.stringify(entry)})`);
}

/** The name of class k: its label, or "class k" when there is none. */
export const className = (labels, k) => labels?.[k] ?? `class ${k}`;

/**
 * The k largest logits with their classes and softmax probabilities, largest first.
 * @returns {{ class: number, logit: number, probability: number }[]}
 */
export function topK(logits, k = 5) {
  const probs = softmax(logits);
  return Array.from(logits, (logit, index) => ({ class: index, logit, probability: probs[index] }))
    .sort((a, b) => b.logit - a.logit || a.class - b.class)
    .slice(0, k);
}
