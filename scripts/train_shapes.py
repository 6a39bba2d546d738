#!/usr/bin/env python3
"""Train the shapes demo model for lrp-wasm: a small CNN on generated photos, exported to ONNX.

Run from the repository root with the Debian interpreter (it has torch + onnx):

    /usr/bin/python3 scripts/train_shapes.py            # or: npm run train:shapes

Each generated "photo" is RGB with a cluttered background -- a two-colour gradient, low-frequency
colour noise, faint stripes, distractor strokes (thick polylines) and soft blobs in random colours,
pixel noise -- and one object of a class: circle, square, triangle, star, plus or ring, in a random
colour (independent of the class), size, position and rotation. The generator knows the object's
box, so an explanation can be checked against it (the pointing game, Zhang et al. 2016). The
distractors are never one of the classes' shapes: strokes are open polylines and blobs are Gaussian
(no hard edge).

Inputs are [N, 3, 64, 64] float32: 8-bit pixels / 255, then ImageNet normalisation (mean
0.485/0.456/0.406, std 0.229/0.224/0.225 per channel), as the demo's photo mode and the test feed it.
Images are quantised to 8 bits before training, so the committed PNGs are exactly what the network saw.

Writes:
  web/models/shapes-cnn.onnx        the model (input `input` [N,3,64,64], output `logits` [N,6])
  web/models/shapes-labels.txt      the class names, one per line, in output order
  web/models/shapes-photos/         one 256x256 photo per class and one 320x240 photo (the object inside
                                    the central 240x240 square, so a resize + centre crop keeps it),
                                    index.json [{file, label, box: [x0, y0, x1, y1], width, height}]
  tests/fixtures/shapes/            20 held-out 64x64 photos + index.json ({file, label, box, logits}:
                                    PyTorch's logits, which tests/shapes.test.mjs compares the package's to)

Boxes are in the photo's pixel coordinates, x1 and y1 exclusive: the object covers columns x0..x1-1
and rows y0..y1-1 (pixels at least a quarter covered).

Everything is seeded (training set, held-out test set, fixtures and demo photos each from their own
seed) and `torch.use_deterministic_algorithms(True)` is set, so a rerun on the same machine/torch
build reproduces the same files.
"""

import argparse
import json
import os
import struct
import sys
import time
import zlib

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # other jobs share the 2 cores

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_mnist import export_torch_onnx, describe_node, run_onnx_numpy, set_determinism  # noqa: E402

CLASSES = ["circle", "square", "triangle", "star", "plus", "ring"]
SIZE = 64
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)

SEED = 0                # torch: weights and batch order
TRAIN_SEED = 1          # the generated training photos
TEST_SEED = 2           # the held-out test photos (accuracy)
FIXTURE_SEED = 3        # tests/fixtures/shapes
DEMO_SEED = 4           # web/models/shapes-photos
OPSET = 13
ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "MaxPool", "GlobalAveragePool", "Flatten", "Gemm"}


# --------------------------------------------------------------------------
# Drawing primitives. Geometry is in "units" of a 64x64 photo; `unit` is how many pixels one unit is
# (min(width, height) / 64), so a 256x256 photo shows the same scene as a 64x64 one, only sharper.
# --------------------------------------------------------------------------

def sample_grid(width, height, k):
    """Pixel-space sample points, k x k per pixel (supersampling for anti-aliased edges): [H*k, W*k]."""
    ys = (np.arange(height * k, dtype=np.float32) + 0.5) / k
    xs = (np.arange(width * k, dtype=np.float32) + 0.5) / k
    return np.meshgrid(xs, ys)


def coverage(mask, k):
    """Mean of each k x k block of a boolean supersampled mask: the pixel's covered fraction."""
    h, w = mask.shape[0] // k, mask.shape[1] // k
    return mask.reshape(h, k, w, k).mean(axis=(1, 3), dtype=np.float32)


def inside_polygon(px, py, vertices):
    """Even-odd rule: a ray to the right crosses the polygon's edges an odd number of times."""
    inside = np.zeros(px.shape, bool)
    n = len(vertices)
    for i in range(n):
        (x1, y1), (x2, y2) = vertices[i], vertices[(i + 1) % n]
        if y1 == y2:
            continue
        crosses = (y1 > py) != (y2 > py)
        x_at = (x2 - x1) * (py - y1) / (y2 - y1) + x1
        inside ^= crosses & (px < x_at)
    return inside


def regular_star(points, outer, inner):
    """Vertices of a star (inner < outer) or, with inner None, a regular polygon, pointing up."""
    if inner is None:
        angles = np.pi / 2 + 2 * np.pi * np.arange(points) / points
        return [(outer * np.cos(a), outer * np.sin(a)) for a in angles]
    angles = np.pi / 2 + np.pi * np.arange(2 * points) / points
    return [((outer if i % 2 == 0 else inner) * np.cos(a), (outer if i % 2 == 0 else inner) * np.sin(a))
            for i, a in enumerate(angles)]


# Each class as a predicate on local coordinates (u, v): the shape centred at 0 with "radius" about 1.
# Sizes are chosen so the classes cover similar areas (none is recognisable by its amount of colour).
SHAPES = {
    "circle": lambda u, v: u * u + v * v <= 1.0,
    "square": lambda u, v: (np.abs(u) <= 0.85) & (np.abs(v) <= 0.85),
    "triangle": lambda u, v: inside_polygon(u, v, regular_star(3, 1.2, None)),
    "star": lambda u, v: inside_polygon(u, v, regular_star(5, 1.2, 0.5)),
    "plus": lambda u, v: ((np.abs(u) <= 0.33) & (np.abs(v) <= 1.0)) | ((np.abs(u) <= 1.0) & (np.abs(v) <= 0.33)),
    "ring": lambda u, v: (u * u + v * v <= 1.0) & (u * u + v * v >= 0.55 ** 2),
}
assert list(SHAPES) == CLASSES


def bilinear_upsample(grid, height, width):
    """A small [gh, gw, C] grid stretched smoothly over [height, width] (low-frequency noise)."""
    gh, gw = grid.shape[:2]
    y = (np.arange(height) + 0.5) / height * (gh - 1)
    x = (np.arange(width) + 0.5) / width * (gw - 1)
    y0, x0 = np.floor(y).astype(int).clip(0, gh - 2), np.floor(x).astype(int).clip(0, gw - 2)
    fy, fx = (y - y0)[:, None, None], (x - x0)[None, :, None]
    g = grid
    top = g[y0][:, x0] * (1 - fx) + g[y0][:, x0 + 1] * fx
    bottom = g[y0 + 1][:, x0] * (1 - fx) + g[y0 + 1][:, x0 + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def blend(img, alpha, colour):
    """Paint `colour` ([3] or [H, W, 3]) over img with per-pixel opacity alpha [H, W]."""
    a = alpha[:, :, None]
    img *= 1 - a
    img += a * colour


def segment_distance(px, py, a, b):
    """Distance from each point to the segment a-b."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = ((px - a[0]) * dx + (py - a[1]) * dy) / max(dx * dx + dy * dy, 1e-9)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy))


# --------------------------------------------------------------------------
# The photo generator
# --------------------------------------------------------------------------

def background(rng, width, height, unit):
    """Gradient + low-frequency colour noise + faint stripes: a textured backdrop."""
    c0, c1 = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
    phi = rng.uniform(0, 2 * np.pi)
    x, y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    t = x * np.cos(phi) + y * np.sin(phi)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    img = c0 * (1 - t[:, :, None]) + c1 * t[:, :, None]
    img += bilinear_upsample(rng.normal(0, rng.uniform(0.05, 0.2), (5, 5, 3)), height, width)
    if rng.uniform() < 0.6:  # stripes: a periodic texture the network must learn to ignore
        period = rng.uniform(3, 12) * unit
        psi = rng.uniform(0, np.pi)
        wave = np.sin(2 * np.pi * (x * np.cos(psi) + y * np.sin(psi)) / period)
        img += (rng.uniform(0.03, 0.12) * wave)[:, :, None] * rng.uniform(0.3, 1, 3)
    return img.astype(np.float32)


def add_distractors(rng, img, unit, keep_out):
    """Open polylines (strokes) and Gaussian blobs in random colours. Strokes stay out of the
    `keep_out` disc (cx, cy, r) of the object: a stroke crossing it could complete another class's
    shape (two strokes through a square make a plus), which would make the label ambiguous."""
    height, width = img.shape[:2]
    px, py = sample_grid(width, height, 1)
    for _ in range(rng.integers(1, 5)):  # soft blobs
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        sx, sy = rng.uniform(2, 7, 2) * unit
        theta = rng.uniform(0, np.pi)
        u = ((px - cx) * np.cos(theta) + (py - cy) * np.sin(theta)) / sx
        v = (-(px - cx) * np.sin(theta) + (py - cy) * np.cos(theta)) / sy
        blend(img, rng.uniform(0.3, 0.8) * np.exp(-0.5 * (u * u + v * v)), rng.uniform(0, 1, 3))
    kx, ky, kr = keep_out
    strokes = rng.integers(2, 8)
    drawn = tries = 0
    while drawn < strokes and tries < 50:
        tries += 1
        points = [rng.uniform((0, 0), (width, height))]
        for _ in range(rng.integers(1, 4)):
            step = rng.uniform(6, 18) * unit
            angle = rng.uniform(0, 2 * np.pi)
            points.append(points[-1] + step * np.array([np.cos(angle), np.sin(angle)]))
        half = rng.uniform(0.5, 1.4) * unit
        if any(segment_distance(np.float32(kx), np.float32(ky), a, b) < kr + half + unit
               for a, b in zip(points[:-1], points[1:])):
            continue
        dist = np.min([segment_distance(px, py, a, b) for a, b in zip(points[:-1], points[1:])], axis=0)
        blend(img, np.clip(half + 0.5 - dist, 0, 1).astype(np.float32), rng.uniform(0, 1, 3))
        drawn += 1


def draw_object(rng, img, label, cx, cy, radius, supersample):
    """The object: its class's shape, rotated, in a colour that stands out from the pixels under it
    (otherwise the label could be invisible), with a mild shading. Returns the box."""
    height, width = img.shape[:2]
    px, py = sample_grid(width, height, supersample)
    theta = rng.uniform(0, 2 * np.pi)
    u = ((px - cx) * np.cos(theta) + (py - cy) * np.sin(theta)) / radius
    v = (-(px - cx) * np.sin(theta) + (py - cy) * np.cos(theta)) / radius
    alpha = coverage(SHAPES[CLASSES[label]](u, v), supersample)
    under = img[alpha > 0.5].mean(axis=0)
    for _ in range(100):
        colour = rng.uniform(0, 1, 3)
        if np.linalg.norm(colour - under) >= 0.45:
            break
    x, y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    psi = rng.uniform(0, 2 * np.pi)
    shade = rng.uniform(0, 0.15) * ((x - cx) * np.cos(psi) + (y - cy) * np.sin(psi)) / radius
    blend(img, alpha, colour[None, None, :] + shade[:, :, None])
    rows, cols = np.nonzero(alpha >= 0.25)
    return [int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1]


def make_photo(rng, label, width=SIZE, height=SIZE):
    """One photo (uint8 [H, W, 3]) of class `label` and its object's box. The object lies inside
    the central min(W, H) square, so a resize of the shorter side + centre crop keeps all of it."""
    side = min(width, height)
    unit = side / SIZE
    img = background(rng, width, height, unit)
    radius = rng.uniform(9, 19) * unit
    margin = radius * 1.2 + 1 * unit  # the triangle and star reach 1.2 radii
    ox, oy = (width - side) / 2, (height - side) / 2
    cx = ox + rng.uniform(margin, side - margin)
    cy = oy + rng.uniform(margin, side - margin)
    add_distractors(rng, img, unit, (cx, cy, radius * 1.2))
    box = draw_object(rng, img, label, cx, cy, radius, 4 if side <= 64 else 2)
    img += rng.normal(0, rng.uniform(0, 0.06), img.shape).astype(np.float32)  # sensor noise
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), box


def make_set(seed, count, width=SIZE, height=SIZE):
    """`count` photos with labels cycling through the classes (balanced), their boxes."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CLASSES)
    photos, boxes = zip(*(make_photo(rng, int(y), width, height) for y in labels))
    return np.stack(photos), labels, boxes


def normalise(photos):
    """uint8 [N, H, W, 3] -> ImageNet-normalised float32 [N, 3, H, W]."""
    x = (photos.astype(np.float32) / 255 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


# --------------------------------------------------------------------------
# PNG: 8-bit RGB, no filtering (tiny images; no dependency beyond zlib)
# --------------------------------------------------------------------------

def write_png(path, rgb):
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


# --------------------------------------------------------------------------
# Model and training
# --------------------------------------------------------------------------

class ConvBackedLinear(nn.Linear):
    """nn.Linear that trains as a 1x1 convolution (the Debian torch's netlib BLAS makes F.linear
    slow; see train_mnist.py). Exported as a plain nn.Linear."""

    def forward(self, x):
        return F.conv2d(x[:, :, None, None], self.weight[:, :, None, None], self.bias).flatten(1)


def build_cnn(linear=nn.Linear):
    """~61k parameters. [3,64,64] -> 16@64 -pool-> 32 -> 32@32 -pool-> 16 -> 64@16 -pool-> 8
    -> 64@8 -> global average pool -> 6. The global average pool makes each class score a sum over
    positions, so the network has to find the object wherever it is (and LRP can show where)."""
    def conv_bn_relu(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *conv_bn_relu(3, 16), nn.MaxPool2d(2),
        *conv_bn_relu(16, 32), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64), nn.MaxPool2d(2),
        *conv_bn_relu(64, 64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        linear(64, len(CLASSES)),
    )


@torch.no_grad()
def predict(model, x, batch_size=500):
    model.eval()
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def train(xtr, ytr, xte, yte, epochs, batch_size, lr):
    set_determinism(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = build_cnn(ConvBackedLinear)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = (len(xtr) + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps)
    t0 = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total_loss, correct = 0.0, 0
        for i in range(0, len(xtr), batch_size):
            idx = perm[i:i + batch_size]
            xb, yb = xtr[idx], ytr[idx]
            # Mirror half the batch: shapes keep their class under reflection, and the network sees more
            # variety for free.
            flip = torch.rand(len(idx), generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        acc = (predict(model, xte).argmax(1) == yte).float().mean().item()
        print(f"shapes: epoch {epoch + 1:2d}/{epochs}  loss {total_loss / len(xtr):.4f}  "
              f"train acc {100 * correct / len(xtr):.2f}%  test acc {100 * acc:.2f}%  "
              f"({time.time() - t0:.0f}s)", flush=True)
    plain = build_cnn()
    plain.load_state_dict(model.state_dict())
    return plain.eval(), time.time() - t0


# --------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------

def export(model, path, xte):
    m = export_torch_onnx(model, torch.zeros(1, 3, SIZE, SIZE), path, keep_batchnorm=True, opset=OPSET)
    ops = [n.op_type for n in m.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    assert not bad, f"unexpected ONNX operators {bad}"
    xs = xte[:500].numpy()
    ref = predict(model, xte[:500]).numpy()
    got = np.concatenate([run_onnx_numpy(m, xs[i:i + 100]) for i in range(0, len(xs), 100)])
    diff = float(np.abs(got - ref).max())
    assert diff < 1e-3, f"ONNX vs torch max |diff| {diff}"
    print(f"shapes: ONNX opset {OPSET}, {len(ops)} nodes: {', '.join(describe_node(n) for n in m.graph.node)}")
    print(f"shapes: ONNX check ok (numpy interpreter vs torch on {len(xs)} test photos: max |diff| {diff:.2e})")
    print(f"shapes: wrote {path} ({os.path.getsize(path)} bytes)")


def write_fixtures(model, out_dir, count=20):
    """Held-out 64x64 photos with labels, boxes and PyTorch's logits for tests/shapes.test.mjs."""
    os.makedirs(out_dir, exist_ok=True)
    photos, labels, boxes = make_set(FIXTURE_SEED, count)
    logits = predict(model, normalise(photos))
    index = []
    for k in range(count):
        name = f"{k:02d}-{CLASSES[labels[k]]}.png"
        write_png(os.path.join(out_dir, name), photos[k])
        index.append(dict(file=name, label=CLASSES[labels[k]], box=boxes[k],
                          logits=[round(float(v), 6) for v in logits[k]]))
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    correct = int((logits.argmax(1).numpy() == labels).sum())
    print(f"shapes: wrote {count} fixtures to {out_dir} (PyTorch: {correct}/{count} correct)")


def demo_view(photo):
    """What the demo's photo mode feeds the model: shorter side resized to 64 (bilinear, antialiased),
    centre-cropped to 64x64 -- torch's resize, an approximation of the browser's canvas resize."""
    x = torch.from_numpy(photo.astype(np.float32).transpose(2, 0, 1)[None] / 255)
    h, w = photo.shape[:2]
    scale = SIZE / min(h, w)
    nh, nw = round(h * scale), round(w * scale)
    x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
    top, left = (nh - SIZE) // 2, (nw - SIZE) // 2
    x = x[:, :, top:top + SIZE, left:left + SIZE]
    return (x - torch.from_numpy(MEAN)[None, :, None, None]) / torch.from_numpy(STD)[None, :, None, None]


def write_demo_photos(model, out_dir):
    """One 256x256 photo per class and one 320x240 (a non-square photo: the demo's crop is exercised)."""
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(DEMO_SEED)
    specs = [(label, 256, 256) for label in range(len(CLASSES))] + [(CLASSES.index("star"), 320, 240)]
    index, correct = [], 0
    for label, width, height in specs:
        photo, box = make_photo(rng, label, width, height)
        name = f"{CLASSES[label]}-{width}x{height}.png"
        write_png(os.path.join(out_dir, name), photo)
        index.append(dict(file=name, label=CLASSES[label], box=box, width=width, height=height))
        predicted = int(predict(model, demo_view(photo)).argmax(1))
        correct += predicted == label
        print(f"shapes: {name}: PyTorch on the resized, cropped photo predicts {CLASSES[predicted]}")
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"shapes: wrote {len(specs)} demo photos to {out_dir} ({correct}/{len(specs)} predicted right)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=int, default=12000, help="generated training photos (default 12000)")
    ap.add_argument("--test", type=int, default=1200, help="held-out test photos (default 1200)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--models-dir", default=os.path.join("web", "models"))
    ap.add_argument("--fixtures-dir", default=os.path.join("tests", "fixtures", "shapes"))
    args = ap.parse_args(argv)

    torch.set_num_threads(2)
    t0 = time.time()
    ptr, ytr, _ = make_set(TRAIN_SEED, args.train)
    pte, yte, _ = make_set(TEST_SEED, args.test)
    xtr, xte = normalise(ptr), normalise(pte)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)
    print(f"shapes: generated {args.train} training and {args.test} test photos in {time.time() - t0:.1f}s",
          flush=True)

    model, train_time = train(xtr, ytr, xte, yte, args.epochs, args.batch_size, args.lr)
    logits = predict(model, xte)
    acc = (logits.argmax(1) == yte).float().mean().item()

    path = os.path.join(args.models_dir, "shapes-cnn.onnx")
    export(model, path, xte)
    with open(os.path.join(args.models_dir, "shapes-labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    write_fixtures(model, args.fixtures_dir)
    write_demo_photos(model, os.path.join(args.models_dir, "shapes-photos"))
    print(f"shapes-cnn: training time {train_time:.1f}s ({args.epochs} epochs, {args.train} photos)")
    print(f"shapes-cnn: test accuracy {100 * acc:.2f}% on {args.test} held-out photos")
    if acc < 0.95:
        print("shapes-cnn: below the 95% the demo model needs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
