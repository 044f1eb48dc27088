"""PyTorch distillation train-step throughput for bench/distill-step.ts: one step = the frozen teacher's forward
pass (MobileNetV2, 224x224 RGB) + the student's forward, Hinton loss, backward and Adam step (the small CNN of
graft's `--student cnn` on 28x28 gray). Run through ../shared/peers/run_pt_tuned.sh (jemalloc, passive waits).

Usage:
  run_pt_tuned.sh bench/peers/pt_distill_step.py export <teacher.onnx>
  run_pt_tuned.sh bench/peers/pt_distill_step.py probe <threads> <batch>
  run_pt_tuned.sh bench/peers/pt_distill_step.py time <threads> <batch> <variant> [warmup] [reps]

The teacher is torchvision's MobileNetV2 (10 classes, seed 0, BN statistics calibrated on random input so its
activations have realistic magnitudes); `export` writes exactly these weights to ONNX (opset 17, dynamic batch)
for graft to run, so both sides teach with the same network. For timing, PyTorch gets its best equivalent of
what graft does with a frozen teacher: every Conv+BN pair fused (fuse_conv_bn_eval), eval mode, no autograd
(inference_mode), and whichever of four variants a probe finds fastest: NCHW or channels_last, eager or
TorchScript-frozen with optimize_for_inference. Prints one JSON line.
"""
import json, os, resource, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
from torch_fusion import fuse_frozen_bn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/peers"))
from common import mobilenet_v2  # noqa: E402

T_SOFT, ALPHA, LR = 4.0, 0.9, 1e-3
VARIANTS = ("nchw", "channels_last", "nchw+jit", "channels_last+jit")


def teacher_model():
    return mobilenet_v2(num_classes=10, calibrate=True)  # eval mode, seed 0



def student_model():
    """graft's `cnn` student: conv3x3(32)+ReLU+maxpool2, conv3x3(64)+ReLU+maxpool2, flatten, linear head."""
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 10))


def make_step(variant, batch):
    layout, jit = variant.split("+")[0], variant.endswith("+jit")
    fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    g = torch.Generator().manual_seed(2)
    xt = torch.randn(batch, 3, 224, 224, generator=g).contiguous(memory_format=fmt)
    xs = torch.rand(batch, 1, 28, 28, generator=g).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (batch,), generator=g)
    teacher = fuse_frozen_bn(teacher_model().eval()).to(memory_format=fmt)
    if jit:
        with torch.no_grad():
            teacher = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(teacher)))
    student = student_model().to(memory_format=fmt).train()
    opt = torch.optim.Adam(student.parameters(), lr=LR)

    def step():
        with torch.inference_mode():
            soft = F.log_softmax(teacher(xt) / T_SOFT, dim=1)
        soft = soft.clone()  # an ordinary tensor, so autograd may keep it
        z = student(xs)
        kl = F.kl_div(F.log_softmax(z / T_SOFT, dim=1), soft, reduction="batchmean", log_target=True)
        loss = ALPHA * T_SOFT * T_SOFT * kl + (1 - ALPHA) * F.cross_entropy(z, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def main():
    mode = sys.argv[1]
    if mode == "export":
        path = sys.argv[2]
        m = teacher_model()
        x = torch.randn(2, 3, 224, 224)
        torch.onnx.export(m, (x,), path, opset_version=17, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
        print(json.dumps({"onnx": path}))
        return
    threads, batch = int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    if mode == "probe":
        def trial(v):
            step = make_step(v, batch)
            step()
            t0 = time.perf_counter()
            for _ in range(3):
                step()
            return time.perf_counter() - t0
        times = {v: trial(v) for v in VARIANTS}
        print(json.dumps({"variant": min(times, key=times.get), "probe_s": times}))
        return
    variant = sys.argv[4]
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    reps = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    step = make_step(variant, batch)
    for _ in range(warmup):
        step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    med = statistics.median(ts)
    print(json.dumps({"variant": variant, "items_per_s": batch / med, "median_s": med, "step_s": ts,
                      "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


main()
