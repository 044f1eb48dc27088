#!/usr/bin/python3
"""PyTorch peer of bench/text-finetune.ts: fine-tune steps of the same plain-torch BERT (text_bert.py) + CLS ->
dropout(0.1) -> Linear(384, 3), AdamW (no decay on biases/LayerNorm), CE, batch 32 x 128 tokens, all weights;
GELU as torch's fused F.gelu (same erf function as the exported graph's arithmetic).

Usage: bench/peers/text_finetune_pt.py <threads> <warmup> <steps>   (run through run_pt_tuned.sh)
Prints one JSON line: {"step_s": [...]}.
"""
import json
import sys
import time

import torch
from torch import nn

import text_bert

text_bert.FUSED_GELU = True
threads, warmup, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
B, T = 32, 128


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = text_bert.make_model()
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(text_bert.HIDDEN, 3)

    def forward(self, ids, mask, types):
        return self.head(self.drop(self.bert(ids, mask, types)[:, 0]))


model = Classifier().train()
decay = [p for n, p in model.named_parameters() if p.dim() > 1]
no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=2e-5)
g = torch.Generator().manual_seed(1)
ids = torch.randint(5, 478, (B, T), generator=g)
mask = torch.ones(B, T, dtype=torch.long)
types = torch.zeros(B, T, dtype=torch.long)
labels = torch.randint(0, 3, (B,), generator=g)
ce = nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss = ce(model(ids, mask, types), labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(warmup):
    step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
print(json.dumps({"step_s": times, "torch": torch.__version__, "threads": torch.get_num_threads()}))
