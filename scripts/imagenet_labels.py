#!/usr/bin/env python3
"""Writes web/demo/imagenet-labels.json: the 1,000 ImageNet-1k class names in class-index order.

The demo's photo mode shows these names for a model with 1,000 outputs. They are the short names torchvision
gives its ImageNet weights (`Weights.meta["categories"]`, e.g. 0 "tench", 207 "golden retriever"), read from the
torchvision installed here; nothing is downloaded. Run from the repository root with the Debian interpreter
(python3-torchvision; `bash scripts/setup.sh --train` installs it):

    /usr/bin/python3 scripts/imagenet_labels.py            # writes web/demo/imagenet-labels.json
    /usr/bin/python3 scripts/imagenet_labels.py --check    # exit 1 if the committed file differs

The output is deterministic (one name per line, so a diff shows which class changed).
"""

import argparse
import json
import os
import sys

OUT = os.path.join("web", "demo", "imagenet-labels.json")
CLASSES = 1000


def torchvision_categories():
    """The category list of torchvision's ImageNet-1k weights (the same list for every classifier)."""
    try:
        from torchvision.models import ResNet18_Weights
    except ImportError as e:  # torchvision < 0.13 has no Weights enums
        sys.exit(f"imagenet_labels: this torchvision has no ResNet18_Weights ({e}); install python3-torchvision >= 0.13")
    return list(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def validate(names):
    """The demo indexes the list by class: it must be exactly 1,000 distinct, non-empty strings."""
    if len(names) != CLASSES:
        raise ValueError(f"torchvision gives {len(names)} ImageNet categories, expected {CLASSES}")
    bad = [i for i, n in enumerate(names) if not isinstance(n, str) or not n.strip()]
    if bad:
        raise ValueError(f"empty or non-string category names at indices {bad[:10]}")
    if len(set(names)) != CLASSES:
        raise ValueError("torchvision's ImageNet category names are not unique")


def render(names):
    return "[\n" + ",\n".join(json.dumps(n, ensure_ascii=False) for n in names) + "\n]\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing it")
    args = parser.parse_args()
    import torchvision

    names = torchvision_categories()
    validate(names)
    text = render(names)
    if args.check:
        with open(OUT, encoding="utf-8") as f:
            same = f.read() == text
        print(f"{OUT}: {'matches' if same else 'DIFFERS from'} torchvision {torchvision.__version__}")
        sys.exit(0 if same else 1)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT}: {len(names)} class names from torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
