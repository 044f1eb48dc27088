"""PyTorch + torchvision side of bench/extract-vs-pytorch.ts: image files -> pooled MobileNetV2 features.

Decode with PIL (RGB), resize to 224x224 bilinear without crop (graft's npm:nsfwjs/mobilenet_v2 spec), pixel/255
(ToTensor), batch 32, torchvision's mobilenet_v2 architecture (random weights, BN statistics calibrated as in
../shared/peers/common.py) in eval + inference_mode, channels_last or NCHW (--layout), to features -> global average pool ->
[32, 1280]. A DataLoader with --workers processes decodes batch k+1 while batch k runs (0: decode inline).
Run it through ../shared/peers/run_pt_tuned.sh (jemalloc, passive OpenMP waits).

Usage: run_pt_tuned.sh extract_torch.py <file-list.txt> [--threads 2] [--workers 0] [--batch 32]
  [--layout channels_last|nchw]
bench/extract-vs-pytorch.ts probes both layouts with --workers 0, 1 and 2 and runs its rounds with the fastest.
Prints one JSON line: images, seconds (after a 2-batch warm-up pass), images_per_s.
"""
import argparse, json, os, sys, time, warnings

warnings.filterwarnings("ignore")
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/peers"))
from common import mobilenet_v2  # noqa: E402


class Files(Dataset):
    def __init__(self, paths):
        self.paths = paths
        self.tf = transforms.Compose([
            transforms.Resize((224, 224), interpolation=transforms.InterpolationMode.BILINEAR),
            transforms.ToTensor(),
        ])

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            return self.tf(im.convert("RGB"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--layout", choices=["channels_last", "nchw"], default="channels_last")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    paths = [p for p in open(a.files).read().split("\n") if p]
    fmt = torch.channels_last if a.layout == "channels_last" else torch.contiguous_format
    net = mobilenet_v2().eval().to(memory_format=fmt)
    features = net.features

    def run(ps):
        extra = dict(prefetch_factor=2) if a.workers > 0 else {}
        loader = DataLoader(Files(ps), batch_size=a.batch, num_workers=a.workers, shuffle=False, **extra)
        n = 0
        with torch.inference_mode():
            for x in loader:
                x = x.contiguous(memory_format=fmt)
                f = torch.flatten(F.adaptive_avg_pool2d(features(x), 1), 1)
                n += f.shape[0]
        return n

    run(paths[: 2 * a.batch])  # warm-up
    t0 = time.perf_counter()
    n = run(paths)
    s = time.perf_counter() - t0
    print(json.dumps(dict(images=n, seconds=s, images_per_s=n / s, threads=a.threads, workers=a.workers,
                          layout=a.layout, torch=torch.__version__)))


if __name__ == "__main__":
    main()
