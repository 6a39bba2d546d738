#!/usr/bin/python3
"""Exports the model zoo: torchvision classifiers and a few small "everyday user code" models, with
random seeded weights (nothing is downloaded: no pretrained weights are ever requested), to ONNX at
opsets 13 and 17, with a dynamic batch axis. scripts/zoo.mjs checks each through the package.

    /usr/bin/python3 scripts/zoo_export.py                    # every model, opsets 13 and 17
    /usr/bin/python3 scripts/zoo_export.py resnet18 text_cnn  # a subset
    /usr/bin/python3 scripts/zoo_export.py --opset 17         # one opset
    /usr/bin/python3 scripts/zoo_export.py --list             # the model names, in order
    /usr/bin/python3 scripts/zoo_export.py --force resnet18   # export again even if cached

Needs Debian's python3-torch (1.13), python3-torchvision and python3-numpy (`bash scripts/setup.sh --train`).

For each model: torch.manual_seed(SEED), build it with random weights, give every BatchNorm non-trivial
running statistics (a few forward passes in train mode on random data with a cumulative average, then
the affine parameters jittered), eval(), export. Output, in the git-ignored cache build/zoo/<model>/:

    opset13.onnx, opset17.onnx   the model (input 'input', output 'logits', axis 0 of both dynamic)
    input.bin                    one fixed random input, batch 1, raw little-endian float32 (or int64
                                 token ids for text models)
    reference.json               the input's dtype and shape, PyTorch's logits for it (float32 values),
                                 the parameter count, z-box bounds for epsilon-gamma-box (the input's
                                 min/max; for token ids the range of the embedded tokens), versions

and build/zoo/index.json lists every model of the zoo in order. A model whose files exist (same
ZOO_VERSION) is not exported again; bump ZOO_VERSION when a definition below changes.
"""
import argparse
import json
import os
import sys
import time

ZOO_VERSION = 1
SEED = 0
INPUT_SEED = 1234
OPSETS = (13, 17)
# The transformers are also exported at opset 14 (issue 9: opsets 13, 14 and 17).
EXTRA_OPSETS = {'vit_b_16': (14,), 'swin_t': (14,)}
ALL_OPSETS = (13, 14, 17)
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
DEFAULT_OUT = os.path.join(ROOT, 'build', 'zoo')

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as e:  # pragma: no cover - environment problem, say what to do
    sys.exit(f'zoo_export: {e}; install the Debian packages first: bash scripts/setup.sh --train')


# ---------------------------------------------------------------------------------------------------
# Small models as users write them

class SeqMLP(nn.Module):
    """A per-token MLP on a sequence [N, T=16, F=32], mean over time, a classifier: Linear on 3-D input."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(64, 32)
        self.head = nn.Linear(32, 5)

    def forward(self, x):                        # [N, 16, 32]
        h = self.fc2(self.act(self.fc1(x)))      # [N, 16, 32]
        return self.head(h.mean(dim=1))          # [N, 5]


class ViewLinear(nn.Module):
    """A conv feature map flattened with `x.view(N, 1, -1)` (dynamic batch) before a Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):                        # [N, 3, 8, 8]
        h = F.relu(self.conv(x))
        h = h.view(h.size(0), 1, -1)             # [N, 1, 512]
        h = F.relu(self.fc1(h))                  # [N, 1, 32]
        h = self.fc2(h)                          # [N, 1, 10]
        return h.view(h.size(0), -1)             # [N, 10] (squeeze(1) would export an If node)


class AudioCNN1d(nn.Module):
    """A 1-D CNN on raw audio [N, 1, 4000]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(1, 16, kernel_size=9, stride=2, padding=4)
        self.bn1 = nn.BatchNorm1d(16)
        self.pool = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(16, 32, kernel_size=5, padding=2)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        h = self.pool(F.relu(self.bn1(self.conv1(x))))
        h = F.relu(self.conv2(h))
        return self.fc(torch.flatten(self.gap(h), 1))


class TextCNN(nn.Module):
    """Token ids [N, T=32] (int64) → embedding → Conv1d over time → max over time → classifier."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(1000, 48)
        self.conv = nn.Conv1d(48, 64, kernel_size=3)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.fc = nn.Linear(64, 4)

    def forward(self, ids):
        e = self.embed(ids).transpose(1, 2)     # [N, 48, T]
        h = self.pool(F.relu(self.conv(e)))
        return self.fc(torch.flatten(h, 1))


# ---------------------------------------------------------------------------------------------------
# The zoo: name → (constructor, per-sample input shape, input kind)

def tv(name, **kwargs):
    def build():
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


IMAGE = (3, 224, 224)
MODELS = {
    'alexnet': (tv('alexnet'), IMAGE, 'float'),
    'vgg11': (tv('vgg11'), IMAGE, 'float'),
    'vgg16': (tv('vgg16'), IMAGE, 'float'),
    'vgg11_bn': (tv('vgg11_bn'), IMAGE, 'float'),
    'resnet18': (tv('resnet18'), IMAGE, 'float'),
    'resnet50': (tv('resnet50'), IMAGE, 'float'),
    'resnext50_32x4d': (tv('resnext50_32x4d'), IMAGE, 'float'),
    'wide_resnet50_2': (tv('wide_resnet50_2'), IMAGE, 'float'),
    'densenet121': (tv('densenet121'), IMAGE, 'float'),
    'squeezenet1_1': (tv('squeezenet1_1'), IMAGE, 'float'),
    'googlenet': (tv('googlenet', aux_logits=False, init_weights=True), IMAGE, 'float'),
    'inception_v3': (tv('inception_v3', aux_logits=False, init_weights=True), (3, 299, 299), 'float'),
    'mobilenet_v2': (tv('mobilenet_v2'), IMAGE, 'float'),
    'mobilenet_v3_small': (tv('mobilenet_v3_small'), IMAGE, 'float'),
    'mnasnet1_0': (tv('mnasnet1_0'), IMAGE, 'float'),
    'shufflenet_v2_x1_0': (tv('shufflenet_v2_x1_0'), IMAGE, 'float'),
    'efficientnet_b0': (tv('efficientnet_b0'), IMAGE, 'float'),
    'regnet_y_400mf': (tv('regnet_y_400mf'), IMAGE, 'float'),
    'convnext_tiny': (tv('convnext_tiny'), IMAGE, 'float'),
    # Transformers: attention runs with the batch merged into N·heads (vit_b_16) and into windows (swin_t).
    'vit_b_16': (tv('vit_b_16'), IMAGE, 'float'),
    'swin_t': (tv('swin_t'), IMAGE, 'float'),
    'seq_mlp': (SeqMLP, (16, 32), 'float'),
    'view_linear': (ViewLinear, (3, 8, 8), 'float'),
    'audio_cnn1d': (AudioCNN1d, (1, 4000), 'float'),
    'text_cnn': (TextCNN, (32,), 'tokens'),
}
VOCAB = 1000  # of TextCNN's embedding


def make_input(shape, kind, batch, generator):
    if kind == 'tokens':
        return torch.randint(0, VOCAB, (batch, *shape), generator=generator, dtype=torch.int64)
    return torch.randn((batch, *shape), generator=generator)


def randomize_zero_layers(model):
    """torchvision zero-initialises some layers (vit_b_16's classification head): with random weights
    everywhere else its logits would all be 0 and every explanation empty. Give them small random weights."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear) and not m.weight.any():
                nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=0.02)


def calibrate_batchnorm(model, shape, kind):
    """Non-trivial BatchNorm statistics: cumulative averages over a few random batches in train mode,
    then the affine parameters jittered so that no BatchNorm is an identity."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over the calibration batches
    generator = torch.Generator().manual_seed(SEED + 1)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(make_input(shape, kind, 4, generator))
        for m, momentum in zip(bns, momenta):
            m.momentum = momentum
            if m.affine:
                m.weight.mul_(torch.empty_like(m.weight).uniform_(0.8, 1.2, generator=generator))
                m.bias.add_(torch.empty_like(m.bias).uniform_(-0.1, 0.1, generator=generator))
    return len(bns)


def opsets_of(name, requested):
    """The opsets to export `name` at: the requested ones (default: OPSETS and its extras) it is exported at."""
    mine = set(OPSETS) | set(EXTRA_OPSETS.get(name, ()))
    return sorted(mine & set(requested)) if requested else sorted(mine)


def cached(directory, opsets):
    ref_path = os.path.join(directory, 'reference.json')
    if not os.path.exists(ref_path):
        return False
    try:
        with open(ref_path) as f:
            ref = json.load(f)
    except (OSError, ValueError):
        return False
    if ref.get('zoo_version') != ZOO_VERSION or not os.path.exists(os.path.join(directory, 'input.bin')):
        return False
    return all(os.path.exists(os.path.join(directory, f'opset{o}.onnx')) for o in opsets)


def export_model(name, out, opsets):
    build, shape, kind = MODELS[name]
    directory = os.path.join(out, name)
    os.makedirs(directory, exist_ok=True)
    started = time.time()
    torch.manual_seed(SEED)
    model = build()
    randomize_zero_layers(model)
    num_bn = calibrate_batchnorm(model, shape, kind)
    model.eval()
    x = make_input(shape, kind, 1, torch.Generator().manual_seed(INPUT_SEED))
    with torch.no_grad():
        logits = model(x).float()
    if logits.dim() != 2 or logits.shape[0] != 1:
        raise RuntimeError(f'{name}: expected logits [1, classes], got {list(logits.shape)}')
    if not torch.isfinite(logits).all():
        raise RuntimeError(f'{name}: PyTorch logits are not finite')

    if kind == 'tokens':
        with torch.no_grad():
            embedded = model.embed(x)
        box = (float(embedded.min()), float(embedded.max()))
        x.numpy().astype('<i8').tofile(os.path.join(directory, 'input.bin'))
        dtype = 'int64'
    else:
        box = (float(x.min()), float(x.max()))
        x.numpy().astype('<f4').tofile(os.path.join(directory, 'input.bin'))
        dtype = 'float32'

    files = {}
    for opset in opsets:
        path = os.path.join(directory, f'opset{opset}.onnx')
        files[str(opset)] = os.path.basename(path)
        if os.path.exists(path) and cached_version(directory) == ZOO_VERSION:
            continue
        tmp = path + '.tmp'
        # With gradients enabled: under no_grad, nn.MultiheadAttention (vit_b_16) takes its fused fast path,
        # aten::_native_multi_head_attention, which torch 1.13 cannot export; with them it is exported as the
        # plain sequence-first math (the layout the engine runs per sample).
        with torch.enable_grad():
            torch.onnx.export(model, (x,), tmp, opset_version=opset, input_names=['input'],
                              output_names=['logits'], do_constant_folding=True,
                              dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
        os.replace(tmp, path)

    # Every opset exported so far, also by earlier runs with other --opset choices.
    files = {str(o): f'opset{o}.onnx' for o in ALL_OPSETS if os.path.exists(os.path.join(directory, f'opset{o}.onnx'))}
    reference = {
        'zoo_version': ZOO_VERSION,
        'name': name,
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'seed': SEED,
        'input_seed': INPUT_SEED,
        'input': {'file': 'input.bin', 'dtype': dtype, 'shape': [1, *shape]},
        'logits': [float(v) for v in logits[0].tolist()],
        'argmax': int(logits[0].argmax()),
        'params': int(sum(p.numel() for p in model.parameters())),
        'batchnorms': num_bn,
        'box': {'low': box[0], 'high': box[1],
                'of': 'the embedded tokens (the first conv\'s input)' if kind == 'tokens' else 'the input'},
        'opsets': files,
    }
    with open(os.path.join(directory, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1)
    return time.time() - started


def cached_version(directory):
    try:
        with open(os.path.join(directory, 'reference.json')) as f:
            return json.load(f).get('zoo_version')
    except (OSError, ValueError):
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('models', nargs='*', help='model names (default: all)')
    parser.add_argument('--opset', type=int, action='append', choices=ALL_OPSETS,
                        help='13, 14 (vit_b_16 and swin_t only) or 17 (repeatable; default: all of a model\'s)')
    parser.add_argument('--out', default=DEFAULT_OUT, help='cache directory (default build/zoo)')
    parser.add_argument('--force', action='store_true', help='export even if the files exist')
    parser.add_argument('--list', action='store_true', help='print the model names and exit')
    args = parser.parse_args()

    if args.list:
        print('\n'.join(MODELS))
        return 0
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        print(f'zoo_export: unknown model(s) {", ".join(unknown)}; known: {", ".join(MODELS)}', file=sys.stderr)
        return 2
    names = args.models or list(MODELS)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'index.json'), 'w') as f:
        json.dump({'zoo_version': ZOO_VERSION, 'models': list(MODELS),
                   'opsets': {name: opsets_of(name, None) for name in MODELS}}, f, indent=1)

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    failed = []
    for name in names:
        directory = os.path.join(args.out, name)
        if args.force and os.path.isdir(directory):
            for f in os.listdir(directory):
                os.remove(os.path.join(directory, f))
        opsets = opsets_of(name, args.opset)
        if not opsets:
            continue
        if cached(directory, opsets):
            print(f'zoo_export: {name}: cached in {os.path.relpath(directory, ROOT)}', flush=True)
            continue
        try:
            seconds = export_model(name, args.out, opsets)
            print(f'zoo_export: {name}: exported (opsets {", ".join(map(str, opsets))}) in {seconds:.1f} s', flush=True)
        except Exception as e:  # report and go on with the next model
            print(f'zoo_export: {name}: FAILED: {type(e).__name__}: {e}', file=sys.stderr, flush=True)
            failed.append(name)
    if failed:
        print(f'zoo_export: export failed for {", ".join(failed)}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
