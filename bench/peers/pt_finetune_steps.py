"""PyTorch train-step throughput for bench/finetune-train-step.ts (batch 32, SGD momentum, CE loss), one case per
process. Run it through ../shared/peers/run_pt_tuned.sh (jemalloc, passive OpenMP waits).

Usage: run_pt_tuned.sh bench/peers/pt_finetune_steps.py <case> <threads> <bn> <layout> [warmup=3] [reps=7]
case: a (Linear 1280->10 on features), b (blocks 14-16 + Conv_1 + head on 32x160x7x7), c (full MobileNetV2 224).
bn: 'train' (BN batch statistics, torch's .train()) or 'frozen' (BN in eval mode). With 'frozen' every Conv ->
BatchNorm pair is fused with torch.nn.utils.fusion.fuse_conv_bn_eval, as graft folds frozen BN into its Conv
(the fused weight and bias still train). BN statistics are calibrated on random input (../shared/peers/common.py)
so activations have realistic magnitudes. layout: nchw or channels_last; 'probe' times three steps of each
(after one untimed step) and prints only {"layout": the faster} (the benchmark probes once, then passes it on).
Prints one JSON line: {case, bn, layout, items_per_s, median_s, step_s, rss_peak_mb}.
"""
import json, os, resource, statistics, sys, time
import torch, torch.nn as nn
from torch_fusion import fuse_frozen_bn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/peers"))
from common import calibrate_bn, mobilenet_v2  # noqa: E402

case, T, bn, layout = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 3
reps = int(sys.argv[6]) if len(sys.argv) > 6 else 7
torch.set_num_threads(T)
torch.set_num_interop_threads(1)
B = 32



def build():
    torch.manual_seed(0)
    m = mobilenet_v2(num_classes=10, calibrate=True)  # eval mode, calibrated running statistics
    if case == 'a':
        torch.manual_seed(1)
        return nn.Linear(1280, 10), torch.relu(torch.randn(B, 1280))
    if case == 'b':
        model = nn.Sequential(m.features[15], m.features[16], m.features[17], m.features[18],
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), m.classifier[1])
        x = torch.randn(B, 160, 7, 7)
    else:
        model, x = m, torch.randn(B, 3, 224, 224)
    if bn == 'frozen':
        fuse_frozen_bn(model.eval())
    model.train(bn == 'train')
    return model, x


y = torch.randint(0, 10, (B,), generator=torch.Generator().manual_seed(2))
ce = nn.CrossEntropyLoss()


def make_step(layout):
    model, x = build()
    if layout == 'channels_last':
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        ce(model(x), y).backward()
        opt.step()
    return step


def trial(layout):
    step = make_step(layout)
    step()
    t0 = time.perf_counter()
    for _ in range(3):
        step()
    return time.perf_counter() - t0


if layout == 'probe':
    print(json.dumps({"layout": 'nchw' if case == 'a' else min(('nchw', 'channels_last'), key=trial)}))
    sys.exit(0)
step = make_step(layout)
inner = 50 if case == 'a' else 1
for _ in range(warmup):
    step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter()
    for _ in range(inner):
        step()
    ts.append((time.perf_counter() - t0) / inner)
med = statistics.median(ts)
print(json.dumps({"case": case, "bn": bn, "layout": layout, "items_per_s": B / med, "median_s": med, "step_s": ts,
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
