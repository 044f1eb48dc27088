#!/usr/bin/python3
"""Peer of bench/finetune-transformer.ts: a plain-torch 6-layer, d=384, 12-head encoder (FFN 1536, erf GELU,
post-LN, no dropout) over float inputs [32, 128, 384], mean-pooled, Linear(384, 10); seeded weights, so every
process builds the same model.

Usage (always through ../shared/peers/run_pt_tuned.sh):
  transformer_encoder.py export <dir>            writes <dir>/model.onnx (opset 17, static shapes, eval mode)
  transformer_encoder.py steps <threads> <warmup> <steps>   AdamW + CE train steps; prints {"step_s": [...]}
"""
import json
import math
import os
import sys
import time

import torch
from torch import nn

D, LAYERS, HEADS, FF, B, T, CLASSES = 384, 6, 12, 1536, 32, 128, 10


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.o = nn.Linear(D, D)
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.fc1, self.fc2 = nn.Linear(D, FF), nn.Linear(FF, D)

    def forward(self, x):
        q, k, v = self.qkv(x).view(B, T, 3, HEADS, D // HEADS).permute(2, 0, 3, 1, 4)
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D // HEADS), dim=-1)
        ctx = torch.matmul(att, v).permute(0, 2, 1, 3).reshape(B, T, D)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.fc2(nn.functional.gelu(self.fc1(x))))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])
        self.head = nn.Linear(D, CLASSES)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(dim=1))


def make():
    torch.manual_seed(0)
    return Encoder()


if sys.argv[1] == "export":
    m = make().eval()
    os.makedirs(sys.argv[2], exist_ok=True)
    torch.onnx.export(m, torch.zeros(B, T, D), os.path.join(sys.argv[2], "model.onnx"), opset_version=17,
                      input_names=["x"], output_names=["logits"], do_constant_folding=True)
else:
    threads, warmup, steps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    m = make().train()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, D, generator=g)
    y = torch.randint(0, CLASSES, (B,), generator=g)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4, weight_decay=0.01)
    ce = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        ce(m(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"step_s": times}))
