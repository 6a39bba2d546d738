// A model with torchvision's ResNet-18 layout and weight sizes (11.7 M parameters, 44.7 MB of float32), built in
// JavaScript so that tests need no PyTorch: the 7×7 stem, max pooling, four stages of two basic blocks (3×3
// convolutions, ReLU, residual additions, 1×1 strided projections where the shape changes), global average
// pooling and the 1000-way classifier. Batch norm is left out (the importer folds it into the convolutions).
// The weights are seeded pseudo-random values scaled like He initialisation, so activations neither vanish nor
// explode over the 18 layers.
import { buildModel, randomFloats } from './onnx-builder.mjs';

/** The ONNX bytes: input 'input' [1, 3, 224, 224], output 'logits' [1, 1000]. */
export function resnet18Sized({ seed = 1 } = {}) {
  const nodes = [];
  const initializers = {};
  let next = seed;
  const weight = (name, dims, fanIn) => {
    const data = randomFloats(dims.reduce((a, b) => a * b, 1), next++);
    const scale = Math.sqrt(6 / fanIn) / 2;  // uniform in ±sqrt(6/fanIn)/2: He-like, halved for the residual sums
    for (let i = 0; i < data.length; i++) data[i] *= scale;
    initializers[name] = { dims, data, raw: true };
    return name;
  };
  const bias = (name, size) => {
    initializers[name] = { dims: [size], data: new Float32Array(size).fill(0.01), raw: true };
    return name;
  };
  const conv = (name, input, inChannels, outChannels, kernel, stride) => {
    const pad = Math.floor(kernel / 2);
    nodes.push({
      op: 'Conv', name, inputs: [input, weight(`${name}.w`, [outChannels, inChannels, kernel, kernel], inChannels * kernel * kernel), bias(`${name}.b`, outChannels)],
      outputs: [name], attrs: { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    });
    return name;
  };
  const relu = (name, input) => {
    nodes.push({ op: 'Relu', name, inputs: [input], outputs: [name] });
    return name;
  };
  const block = (name, input, inChannels, outChannels, stride) => {
    const a = relu(`${name}.relu1`, conv(`${name}.conv1`, input, inChannels, outChannels, 3, stride));
    const b = conv(`${name}.conv2`, a, outChannels, outChannels, 3, 1);
    const shortcut = stride !== 1 || inChannels !== outChannels ? conv(`${name}.downsample`, input, inChannels, outChannels, 1, stride) : input;
    nodes.push({ op: 'Add', name: `${name}.add`, inputs: [b, shortcut], outputs: [`${name}.add`] });
    return relu(`${name}.relu2`, `${name}.add`);
  };

  let x = relu('relu', conv('conv1', 'input', 3, 64, 7, 2));
  nodes.push({ op: 'MaxPool', name: 'maxpool', inputs: [x], outputs: ['maxpool'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } });
  x = 'maxpool';
  let channels = 64;
  for (const [stage, width] of [[1, 64], [2, 128], [3, 256], [4, 512]]) {
    x = block(`layer${stage}.0`, x, channels, width, stage === 1 ? 1 : 2);
    x = block(`layer${stage}.1`, x, width, width, 1);
    channels = width;
  }
  nodes.push({ op: 'GlobalAveragePool', name: 'avgpool', inputs: [x], outputs: ['avgpool'] });
  nodes.push({ op: 'Flatten', name: 'flatten', inputs: ['avgpool'], outputs: ['flatten'], attrs: { axis: 1 } });
  nodes.push({ op: 'Gemm', name: 'fc', inputs: ['flatten', weight('fc.w', [1000, 512], 512), bias('fc.b', 1000)], outputs: ['logits'], attrs: { transB: 1 } });
  return buildModel({
    input: { name: 'input', shape: [1, 3, 224, 224] },
    output: { name: 'logits', shape: [1, 1000] },
    nodes,
    initializers,
  });
}
