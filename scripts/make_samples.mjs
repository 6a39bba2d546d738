#!/usr/bin/env node
// Writes web/models/mnist-samples.bin: a few MNIST test digits for the demo's "pick a digit" list.
//
//   node scripts/make_samples.mjs [perClass=30]
//
// The first `perClass` test digits of every class (0..9), in test-set order within a class, ordered
// by class: 10 × perClass digits. Deterministic: reruns give the identical file.
//
// Format (all bytes, no padding):
//   byte 0..1          uint16 little-endian: count N
//   next N bytes       labels (0..9), one byte each
//   next N × 784 bytes the images, 28×28 row-major, grey 0..255 (white ink on black, as MNIST)
//   next N × 2 bytes   uint16 little-endian: the digit's index in the MNIST test set
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readMnist } from './mnist.mjs';

const perClass = Number(process.argv[2] ?? 30);
const out = fileURLToPath(new URL('../web/models/mnist-samples.bin', import.meta.url));
const { images, labels } = readMnist('test');
const picked = [];
for (let c = 0; c < 10; c++) {
  let n = 0;
  for (let i = 0; i < labels.length && n < perClass; i++) if (labels[i] === c) { picked.push(i); n++; }
}
const N = picked.length;
const buf = Buffer.alloc(2 + N + N * 784 + N * 2);
buf.writeUInt16LE(N, 0);
picked.forEach((idx, k) => {
  buf[2 + k] = labels[idx];
  const img = images[idx];
  for (let p = 0; p < 784; p++) buf[2 + N + k * 784 + p] = Math.round(img[p] * 255);
  buf.writeUInt16LE(idx, 2 + N + N * 784 + 2 * k);
});
writeFileSync(out, buf);
console.log(`wrote ${N} digits (${buf.length} bytes) to ${out}`);
