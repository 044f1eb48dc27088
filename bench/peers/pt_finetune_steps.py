"""PyTorch train-step throughput for the fine-tuning benchmarks (batch 32, SGD momentum, CE loss).
Usage (always through the tuned launcher): run_pt_tuned.sh bench/peers/pt_finetune_steps.py <case> <threads> <bn>
case: a (Linear 1280->10 on features), b (blocks 14-16 + Conv_1 + head on 32x160x7x7), c (full MobileNetV2 224).
bn: 'train' (BN batch statistics, torch's .train()) or 'frozen' (BN eval mode, weights still trained).
Prints one JSON line: {case, bn, items_per_s, median_s, rss_peak_mb}."""
import json, resource, statistics, sys, time
import torch, torch.nn as nn, torchvision

case, T, bn = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.set_num_threads(T); torch.set_num_interop_threads(1)
torch.manual_seed(0)
B = 32
y = torch.randint(0, 10, (B,))
m = torchvision.models.mobilenet_v2(weights=None, num_classes=10)
if case == 'a':
    model, x = nn.Linear(1280, 10), torch.relu(torch.randn(B, 1280))
elif case == 'b':
    model = nn.Sequential(m.features[15], m.features[16], m.features[17], m.features[18],
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), m.classifier[1])
    x = torch.randn(B, 160, 7, 7)
else:
    model, x = m, torch.randn(B, 3, 224, 224)
model.train(bn == 'train')
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
ce = nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    ce(model(x), y).backward()
    opt.step()


reps, inner = (7, 50) if case == 'a' else (7, 1)
for _ in range(3):
    step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter()
    for _ in range(inner):
        step()
    ts.append((time.perf_counter() - t0) / inner)
med = statistics.median(ts)
print(json.dumps({"case": case, "bn": bn, "items_per_s": B / med, "median_s": med,
                  "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
