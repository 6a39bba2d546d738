// The demo's ImageNet class names (web/demo/imagenet-labels.json, written by scripts/imagenet_labels.py).
// Reference: torchvision's ImageNet-1k category list (ResNet18_Weights.IMAGENET1K_V1.meta["categories"],
// torchvision 0.14), the list every torchvision classifier's outputs are indexed by.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const FILE = new URL('../web/demo/imagenet-labels.json', import.meta.url);
const labels = JSON.parse(readFileSync(FILE, 'utf8'));

test('imagenet-labels.json is 1,000 distinct, non-empty strings', () => {
  assert.ok(Array.isArray(labels), 'the file holds a JSON array');
  assert.equal(labels.length, 1000);
  const bad = labels.map((n, i) => [i, n]).filter(([, n]) => typeof n !== 'string' || n.trim() === '');
  assert.deepEqual(bad, [], 'every entry is a non-empty string');
  assert.equal(new Set(labels).size, 1000, 'no name appears twice');
});

test('imagenet-labels.json has torchvision names at known class indices', () => {
  // indices from the ImageNet-1k synset order (n01440764 tench = 0, ..., n15075141 toilet tissue = 999); the two
  // "crane"s and "maillot"s of the WordNet names are told apart by torchvision (134 'crane bird', 517 'crane').
  const known = { 0: 'tench', 1: 'goldfish', 207: 'golden retriever', 281: 'tabby', 517: 'crane', 134: 'crane bird', 999: 'toilet tissue' };
  for (const [index, name] of Object.entries(known)) assert.equal(labels[index], name, `class ${index}`);
});

// The whole list against the torchvision installed with `npm run train` / `npm run zoo` (not in the test set-up):
//   /usr/bin/python3 scripts/imagenet_labels.py --check
