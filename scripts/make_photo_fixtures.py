#!/usr/bin/env python3
"""The photo-mode fixture of the demo's browser tests: a small 1,000-class CNN, a generated "photo", and
PyTorch's top-5 for that photo under the ImageNet preset.

Run from the repository root with the Debian interpreter (python3-torch 1.13, python3-torchvision,
python3-onnx; `bash scripts/setup.sh --train` installs them):

    /usr/bin/python3 scripts/make_photo_fixtures.py     # rewrites tests/e2e/fixtures/photo/*

Every file is deterministic (fixed seed, single-threaded torch): a rerun writes identical bytes, so
`git status` after a rerun shows whether anything changed. Written to tests/e2e/fixtures/photo/:

  random-1000.onnx  a CNN with random weights (seed 4, see SEED) and non-trivial BatchNorm statistics:
                    input `input` [1, 3, 96, 96] (a fixed batch of 1, as a hand export usually has),
                    conv5x5/2(16)+BN+ReLU, max pool 3/2, conv3x3/2(32)+BN+ReLU, conv3x3/2(64)+BN+ReLU,
                    global average pool, Linear(64 → 1000) → `logits` [1, 1000]. About 90k parameters.
  photo.png         a 200×150 RGB image with structure: a sky gradient, a ground gradient, a sun, a
                    house with a roof and a window, a striped fence (8-bit, written by zlib, no filter).
  input.f32         the photo as the model sees it: [3, 96, 96] float32, little-endian.
  reference.json    how input.f32 was made and what PyTorch says about it:
                      preprocess: resize the shorter side to 96 (torchvision resize, bilinear, antialias,
                        as PIL's bilinear does; the longer side to round(200 · 96 / 150) = 128), centre-crop
                        96×96, /255, subtract ImageNet's mean and divide by its std per channel;
                      logits: the model's 1,000 float32 logits for input.f32; top5: their five largest, in order;
                      top5Gaps: logit k minus logit k+1 of the sorted logits, k = 1..5;
                      variants: the top-5 under other resizes a browser might use (bilinear without
                        antialias, area averaging, bicubic) and, for each, the largest change of any logit from
                        the reference; maxLogitShift: the largest of those. A browser test that resizes with the canvas
                        can use it as the tolerance: a class whose logit is within it of the 5th largest
                        may swap places with it.

The ONNX file is checked by onnx.checker and re-run by the numpy ONNX interpreter of train_mnist.py
against PyTorch (max |Δ| ≤ 1e-4 · max(1, max |logit|)).
"""

import json
import os
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mnist import run_onnx_numpy  # noqa: E402  (also sets OMP_WAIT_POLICY)
from export_resnet import _init_weights, op_summary, randomize_batchnorm  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OUT_DIR = os.path.join("tests", "e2e", "fixtures", "photo")
# Seed 4: the first of seeds 0-7 whose top-5 for the photo has the same classes in the same order under every
# resize of `variants` (bilinear with and without antialias, area, bicubic). With 1,000 random logits the gaps
# between the largest ones are small, and for most seeds some gap is smaller than the change a different resize
# makes; a browser test comparing its top-5 with PyTorch's needs a photo and model where the ranking is stable.
SEED = 4
SIDE = 96  # the model's input height and width
PHOTO_W, PHOTO_H = 200, 150
CLASSES = 1000
OPSET = 13
# ImageNet's per-channel statistics (torchvision's classifiers are trained with them)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------
# The model

def conv_bn_relu(cin, cout, k, stride):
    return [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class PhotoNet(nn.Module):
    """A 1,000-class image classifier small enough to commit (< 1 MB): the layer kinds of a torchvision
    ResNet (conv, BN, ReLU, max pool, global average pool, fc) at 96×96."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(3, 16, 5, 2), nn.MaxPool2d(3, stride=2, padding=1),
            *conv_bn_relu(16, 32, 3, 2), *conv_bn_relu(32, 64, 3, 2),
            nn.AdaptiveAvgPool2d((1, 1)))
        self.fc = nn.Linear(64, CLASSES)
        _init_weights(self)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def build_model():
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = PhotoNet()
    # BN statistics from random normal inputs, the scale of an ImageNet-normalised photo
    randomize_batchnorm(model, torch.randn((16, 3, SIDE, SIDE), generator=gen), gen)
    return model.eval()


def export(model, path):
    """torch.onnx.export with a fixed [1, 3, 96, 96] input (no dynamic axes), BatchNormalization kept."""
    torch.onnx.export(model, torch.zeros(1, 3, SIDE, SIDE), path, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"], export_params=True,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, SIDE, SIDE], f"input shape {dims}"
    return m


# --------------------------------------------------------------------------
# The photo

def draw_photo(supersample=4):
    """A 200×150 RGB scene (uint8 [H, W, 3]) with edges, gradients and textures at several scales, so that
    the classifier's logits depend on where things are. Drawn at `supersample`× and averaged down, so edges
    are anti-aliased as a camera's are: hard pixel steps would make the logits depend on how the browser
    resizes (see `variants` in reference.json)."""
    y, x = np.mgrid[0:PHOTO_H * supersample, 0:PHOTO_W * supersample].astype(np.float64)
    y, x = (y + 0.5) / supersample - 0.5, (x + 0.5) / supersample - 0.5  # sample centres in photo pixels
    img = np.zeros(y.shape + (3,))
    horizon = 95
    sky = y < horizon
    t = y / horizon
    img[sky] = np.stack([90 + 80 * t, 150 + 60 * t, 235 - 20 * t], -1)[sky]        # sky: deep blue to pale
    g = (y - horizon) / (PHOTO_H - horizon)
    ground = ~sky
    img[ground] = np.stack([60 + 50 * g, 140 - 40 * g + 10 * np.sin(x / 3), 50 + 10 * g], -1)[ground]
    sun = (x - 160) ** 2 + (y - 30) ** 2 < 18 ** 2                                 # sun, top right
    img[sun] = (250, 210, 60)
    house = (x >= 40) & (x < 100) & (y >= 60) & (y < 110)                         # house walls
    img[house] = (200, 60, 50)
    roof = (y >= 35) & (y < 60) & (np.abs(x - 70) <= (y - 35) * 36 / 25)          # triangular roof
    img[roof] = (90, 50, 40)
    window = (x >= 52) & (x < 68) & (y >= 72) & (y < 88)
    img[window] = (250, 250, 200)
    door = (x >= 78) & (x < 90) & (y >= 84) & (y < 110)
    img[door] = (70, 40, 30)
    fence = (y >= 100) & (y < 125) & (x >= 110) & ((x // 6) % 2 == 0)              # striped fence, right
    img[fence] = (235, 235, 225)
    img = img.reshape(PHOTO_H, supersample, PHOTO_W, supersample, 3).mean(axis=(1, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def write_png(path, rgb):
    """An 8-bit RGB PNG: signature, IHDR, one IDAT (every row with filter 0), IEND."""
    h, w, _ = rgb.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


# --------------------------------------------------------------------------
# The ImageNet preset

def resize_shorter(x, side, mode, antialias=False):
    """Resize [1, 3, H, W] so that its shorter side is `side`, keeping the aspect ratio (torchvision's rule:
    the longer side becomes int(side · long / short))."""
    h, w = x.shape[-2:]
    size = (side, int(side * w / h)) if h <= w else (int(side * h / w), side)
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=antialias)


def center_crop(x, side):
    h, w = x.shape[-2:]
    top, left = int(round((h - side) / 2)), int(round((w - side) / 2))
    return x[..., top:top + side, left:left + side]


def imagenet_preset(rgb, mode="bilinear", antialias=True):
    """uint8 [H, W, 3] → the model's float32 input [1, 3, 96, 96]."""
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].to(torch.float32)
    x = center_crop(resize_shorter(x, SIDE, mode, antialias), SIDE) / 255
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


def top5(logits):
    return [int(i) for i in np.argsort(-logits, kind="stable")[:5]]


# --------------------------------------------------------------------------

def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)

    model = build_model()
    onnx_path = os.path.join(OUT_DIR, "random-1000.onnx")
    m = export(model, onnx_path)
    n_params = sum(p.numel() for p in model.parameters())
    size = os.path.getsize(onnx_path)
    assert size < 1 << 20, f"{onnx_path} is {size} bytes, it must stay under 1 MB"
    print(f"wrote {onnx_path} ({size} bytes, {n_params} parameters): {', '.join(op_summary(m))}")

    rgb = draw_photo()
    photo_path = os.path.join(OUT_DIR, "photo.png")
    write_png(photo_path, rgb)
    print(f"wrote {photo_path} ({PHOTO_W}×{PHOTO_H} RGB, {os.path.getsize(photo_path)} bytes)")

    x = imagenet_preset(rgb)
    with torch.no_grad():
        logits = model(x)[0].numpy()
    onnx_logits = run_onnx_numpy(m, x.numpy())[0]
    diff = float(np.abs(onnx_logits - logits).max())
    assert diff <= 1e-4 * max(1.0, float(np.abs(logits).max())), f"numpy ONNX interpreter vs torch: max |Δ| {diff}"
    input_path = os.path.join(OUT_DIR, "input.f32")
    np.ascontiguousarray(x[0].numpy(), dtype="<f4").tofile(input_path)

    variants = {}
    for name, mode, antialias in [("bilinear", "bilinear", False), ("area", "area", False), ("bicubic", "bicubic", False)]:
        with torch.no_grad():
            v = model(imagenet_preset(rgb, mode, antialias))[0].numpy()
        variants[name] = {"top5": top5(v), "maxLogitShift": float(np.abs(v - logits).max())}
    order = np.sort(logits)[::-1]
    doc = {
        "model": "random-1000.onnx",
        "photo": "photo.png",
        "input": "input.f32",
        "inputShape": [1, 3, SIDE, SIDE],
        "preprocess": {
            "resize": f"shorter side to {SIDE}, bilinear with antialias (torch.nn.functional.interpolate, "
                      "align_corners=False, antialias=True; as PIL / torchvision.transforms.Resize on images)",
            "crop": f"centre {SIDE}×{SIDE}",
            "scale": "1/255",
            "mean": list(IMAGENET_MEAN),
            "std": list(IMAGENET_STD),
        },
        "reference": f"torch {torch.__version__}, eval mode, float32; numpy ONNX interpreter agrees to {diff:.1e}",
        "top5": top5(logits),
        "top5Gaps": [float(order[k] - order[k + 1]) for k in range(5)],
        "maxLogitShift": max(v["maxLogitShift"] for v in variants.values()),
        "logits": [float(f) for f in logits],
        "variants": variants,
    }
    ref_path = os.path.join(OUT_DIR, "reference.json")
    with open(ref_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"top-5 {doc['top5']}, gaps to the next {[round(g, 4) for g in doc['top5Gaps']]}; "
          + "; ".join(f"{k}: top-5 {v['top5']}, max logit shift {v['maxLogitShift']:.4f}" for k, v in variants.items()))
    print(f"wrote {input_path} and {ref_path}")


if __name__ == "__main__":
    main()
