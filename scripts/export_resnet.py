#!/usr/bin/env python3
"""Export ResNet-style ONNX models (random weights) for lrp-wasm tests and benchmarks.

Run from the repository root with the Debian interpreter (it has torch + onnx):

    /usr/bin/python3 scripts/export_resnet.py                  # tests/fixtures/resnet-small/
    /usr/bin/python3 scripts/export_resnet.py --resnet18       # + build/models/resnet18.onnx
    /usr/bin/python3 scripts/export_resnet.py --no-fixture --resnet18 /tmp/r18.onnx

1. The test fixture (committed), in tests/fixtures/resnet-small/:
   - model.onnx      a small ResNet: 3x32x32 input, stem conv3x3+BN+ReLU, three basic
                     blocks (16 -> 16, 16 -> 32 stride 2, 32 -> 64 stride 2; the
                     stride-2 blocks have a 1x1 stride-2 conv+BN projection shortcut),
                     global average pool, Linear(64 -> 10);
   - inputs.f32      4 random inputs (standard normal, fixed seed), [3,32,32] each,
                     little-endian float32, one after another;
   - reference.json  { input_shape: [3,32,32], num_inputs: 4, logits: [[10 floats] x 4] }
                     computed by PyTorch in eval mode, float32.
2. With --resnet18 [PATH]: torchvision's ResNet-18 architecture (3x224x224, 1000
   classes; defined here, torchvision is not needed) with random weights, written to
   PATH (default build/models/resnet18.onnx, not committed, ~45 MB), and next to it
   <stem>.input.f32 (one standard-normal [3,224,224] input) and <stem>.reference.json
   (its PyTorch logits), <stem> being PATH's file name without .onnx.

Weights: fixed seeds; convolutions get torchvision's init (Kaiming normal, fan_out).
Batch-norm layers are made deliberately non-trivial so that the engine's
batch-norm folding is really exercised: running statistics are first calibrated on
a random batch (so activations keep a sane scale through the residual stack), then
perturbed (mean shifted, variance scaled by 0.5..2), and weight/bias are random
(weight in [0.5, 1.5], bias ~ N(0, 0.2^2)).

Export: opset 13, input `input`, output `logits`, dynamic batch, batch-norm KEPT as
BatchNormalization nodes (see export_torch_onnx in train_mnist.py). Every export is
checked with onnx.checker and re-run by the numpy ONNX interpreter of train_mnist.py
against PyTorch.
"""

import argparse
import json
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mnist import OPSET, export_torch_onnx, run_onnx_numpy  # noqa: E402  (also sets OMP_WAIT_POLICY)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

SEED = 0
FIXTURE_DIR = os.path.join("tests", "fixtures", "resnet-small")
RESNET18_PATH = os.path.join("build", "models", "resnet18.onnx")
ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "Add", "MaxPool", "GlobalAveragePool",
               "Flatten", "Gemm"}


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: conv3x3-BN-ReLU-conv3x3-BN, + shortcut, ReLU.
    The shortcut is a 1x1 conv (with the block's stride) + BN when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = conv3x3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu2(out + identity)


def _stage(cin, cout, blocks, stride):
    return nn.Sequential(BasicBlock(cin, cout, stride), *[BasicBlock(cout, cout) for _ in range(blocks - 1)])


def _init_weights(model):
    """torchvision ResNet init: Kaiming normal (fan_out) convs; Linear keeps torch's default."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class SmallResNet(nn.Module):
    """3x32x32 -> stem conv3x3(16)+BN+ReLU -> block 16 -> block 32/2 (projection)
    -> block 64/2 (projection) -> global average pool -> Linear(64, 10)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = _stage(16, 16, 1, 1)
        self.layer2 = _stage(16, 32, 1, 2)
        self.layer3 = _stage(32, 64, 1, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNet18(nn.Module):
    """torchvision.models.resnet18 (same module names, so its state_dict loads):
    7x7/2 stem (pad 3) + BN + ReLU, 3x3/2 max pool (pad 1), stages of [2, 2, 2, 2]
    basic blocks with 64/128/256/512 channels, adaptive average pool, fc."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = _stage(64, 64, 2, 1)
        self.layer2 = _stage(64, 128, 2, 2)
        self.layer3 = _stage(128, 256, 2, 2)
        self.layer4 = _stage(256, 512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        _init_weights(self)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@torch.no_grad()
def randomize_batchnorm(model, calib, gen):
    """Calibrate every BN's running statistics on `calib` (one train-mode pass with
    cumulative averaging), then perturb them and draw random affine parameters."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    model(calib)
    model.eval()
    for bn in bns:
        c = bn.num_features
        std = bn.running_var.sqrt()
        bn.running_mean += 0.2 * std * torch.randn(c, generator=gen)
        bn.running_var *= 0.5 + 1.5 * torch.rand(c, generator=gen)
        bn.weight.copy_(0.5 + torch.rand(c, generator=gen))
        bn.bias.copy_(0.2 * torch.randn(c, generator=gen))
        bn.momentum = 0.1
    return len(bns)


# --------------------------------------------------------------------------
# Export + checks
# --------------------------------------------------------------------------

def _attrs(n, skip=()):
    return ", ".join(f"{a.name}={onnx.helper.get_attribute_value(a)}"
                     for a in n.attribute if a.name not in skip)


def op_summary(m):
    """Distinct (op type, attributes) with counts, in first-seen order."""
    counts = Counter()
    for n in m.graph.node:
        a = _attrs(n, skip=("momentum",))
        counts[f"{n.op_type}({a})" if a else n.op_type] += 1
    return [f"{k} x{v}" for k, v in counts.items()]


def export_and_check(name, model, input_shape, path, x):
    """Export `model` (eval) to `path`, check ops, compare numpy-ONNX vs torch on x.
    Returns the torch logits (float32 numpy)."""
    model.eval()
    with torch.no_grad():
        ref = model(x).numpy()
    t0 = time.time()
    m = export_torch_onnx(model, torch.zeros((1,) + tuple(input_shape)), path, keep_batchnorm=True)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    assert not bad, f"{name}: unexpected ONNX operators {bad}"
    got = run_onnx_numpy(m, x.numpy())
    max_diff = float(np.abs(got - ref).max())
    scale = float(np.abs(ref).max())
    assert max_diff <= 1e-4 * max(1.0, scale), f"{name}: ONNX vs torch max |diff| {max_diff} (|logits| <= {scale})"
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {n_params} parameters, ONNX opset {m.opset_import[0].version}, {len(ops)} nodes, "
          f"op types: {', '.join(sorted(set(ops)))}")
    for line in op_summary(m):
        print(f"{name}:   {line}")
    print(f"{name}: numpy ONNX interpreter vs torch on {len(x)} input(s): max |diff| {max_diff:.2e} "
          f"(max |logit| {scale:.3f}); export + check {time.time() - t0:.1f}s")
    print(f"{name}: wrote {path} ({os.path.getsize(path)} bytes)")
    return ref


def write_f32(path, x):
    np.ascontiguousarray(x, dtype="<f4").tofile(path)


def write_reference(path, input_shape, logits, **extra):
    doc = dict(extra)
    doc.update(input_shape=list(input_shape), num_inputs=len(logits),
               logits=[[float(v) for v in row] for row in np.asarray(logits, np.float32)],
               reference=f"torch {torch.__version__}, eval mode, float32")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def export_small(out_dir):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    shape = (3, 32, 32)
    model = SmallResNet()
    n_bn = randomize_batchnorm(model, torch.randn((32,) + shape, generator=gen), gen)
    x = torch.randn((4,) + shape, generator=gen)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    logits = export_and_check("resnet-small", model, shape, path, x)
    print(f"resnet-small: {n_bn} batch-norm layers with random statistics")
    write_f32(os.path.join(out_dir, "inputs.f32"), x.numpy())
    print(f"wrote {os.path.join(out_dir, 'inputs.f32')} ({x.numel() * 4} bytes)")
    write_reference(os.path.join(out_dir, "reference.json"), shape, logits,
                    model="model.onnx", inputs="inputs.f32")
    assert os.path.getsize(path) < 1 << 20, "resnet-small model.onnx should stay under 1 MB"


def export_resnet18(path):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    shape = (3, 224, 224)
    model = ResNet18()
    t0 = time.time()
    n_bn = randomize_batchnorm(model, torch.randn((8,) + shape, generator=gen), gen)
    print(f"resnet18: {n_bn} batch-norm layers calibrated and randomised ({time.time() - t0:.1f}s)")
    x = torch.randn((1,) + shape, generator=gen)
    logits = export_and_check("resnet18", model, shape, path, x)
    out_dir = os.path.dirname(path) or "."
    stem = os.path.basename(path)
    stem = stem[:-len(".onnx")] if stem.endswith(".onnx") else stem
    write_f32(os.path.join(out_dir, f"{stem}.input.f32"), x.numpy())
    print(f"wrote {os.path.join(out_dir, stem + '.input.f32')} ({x.numel() * 4} bytes)")
    write_reference(os.path.join(out_dir, f"{stem}.reference.json"), shape, logits,
                    model=os.path.basename(path), inputs=f"{stem}.input.f32",
                    top5=[int(i) for i in np.argsort(-logits[0])[:5]])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixture-dir", default=FIXTURE_DIR,
                    help=f"where the small ResNet fixture goes (default: {FIXTURE_DIR})")
    ap.add_argument("--no-fixture", action="store_true", help="do not write the small ResNet fixture")
    ap.add_argument("--resnet18", nargs="?", const=RESNET18_PATH, default=None, metavar="PATH",
                    help=f"also export a random-weight ResNet-18 to PATH (default: {RESNET18_PATH})")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    if not args.no_fixture:
        export_small(args.fixture_dir)
    if args.resnet18:
        export_resnet18(args.resnet18)
    return 0


if __name__ == "__main__":
    sys.exit(main())
