"""Writes scikit-learn's 8x8 handwritten digits (1,797 images, not MNIST) as PNG folders for the benchmarks:
<out>/train/<digit>/*.png with `--shots` per class, <out>/test/<digit>/*.png with the rest. Developer machine only
(python3-sklearn, python3-pil).

    /usr/bin/python3 bench/data/sklearn-digits.py /tmp/digits --shots 10 --seed 0
"""
import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--shots", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

digits = load_digits()
rng = np.random.default_rng(args.seed)
for label in range(10):
    rows = rng.permutation(np.flatnonzero(digits.target == label))
    for split, chosen in (("train", rows[: args.shots]), ("test", rows[args.shots :])):
        folder = os.path.join(args.out, split, str(label))
        os.makedirs(folder, exist_ok=True)
        for i in chosen:
            pixels = (digits.images[i] * (255.0 / 16.0)).round().astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(os.path.join(folder, f"{i}.png"))
