#!/usr/bin/python3
"""A 6-layer d=384 BERT-like encoder (12 heads, FFN 1536, vocab 30522: MiniLM-L6 sized) in plain torch, the same
architecture and ONNX export settings as test/fixtures/bert/make_tiny_bert.py (opset 14, dynamic batch and
sequence axes, Erf GELU, shape subgraphs), with seeded random weights.

Usage: /usr/bin/python3 bench/peers/text_bert.py <out-dir>
Writes <out-dir>/onnx/model.onnx, config.json and the tiny BERT's tokenizer files (its 478-token WordPiece
vocabulary is a subset of the 30522 embedding rows, enough to tokenize benchmark texts).
"""
import math
import os
import shutil
import sys

import torch
from torch import nn

# The ONNX export writes GELU out as Erf arithmetic; a training peer sets this to use torch's fused (same erf)
# F.gelu, its own best equivalent.
FUSED_GELU = False
HIDDEN, LAYERS, HEADS, INTERMEDIATE, VOCAB, MAX_POS, TYPE_VOCAB, LN_EPS = 384, 6, 12, 1536, 30522, 512, 2, 1e-12
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "bert", "tiny-bert")


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.o = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.fc1, self.fc2 = nn.Linear(HIDDEN, INTERMEDIATE), nn.Linear(INTERMEDIATE, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=LN_EPS)

    def heads(self, x):
        return x.view(x.size(0), x.size(1), HEADS, HIDDEN // HEADS).permute(0, 2, 1, 3)

    def forward(self, x, mask_bias):
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HIDDEN // HEADS) + mask_bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(x.size(0), x.size(1), HIDDEN)
        x = self.ln1(x + self.o(ctx))
        h = self.fc1(x)
        h = nn.functional.gelu(h) if FUSED_GELU else h * 0.5 * (1.0 + torch.erf(h / math.sqrt(2.0)))
        return self.ln2(x + self.fc2(h))


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN, padding_idx=0)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type = nn.Embedding(TYPE_VOCAB, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=LN_EPS)
        self.layers = nn.ModuleList([Layer() for _ in range(LAYERS)])

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos_ids = torch.arange(input_ids.size(1), dtype=torch.long).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos_ids) + self.token_type(token_type_ids))
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask_bias)
        return x


def make_model():
    torch.manual_seed(0)
    m = Bert()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.02)
    return m


def main(out):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    model = make_model().eval()
    ids = torch.randint(5, 478, (2, 16))
    torch.onnx.export(
        model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), os.path.join(out, "onnx", "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch_size", 1: "sequence_length"}
                      for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
        opset_version=14, do_constant_folding=True,
    )
    for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(FIXTURE, f), os.path.join(out, f))
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write('{"model_type": "bert", "hidden_size": %d, "num_hidden_layers": %d, "vocab_size": %d, '
                '"max_position_embeddings": %d}\n' % (HIDDEN, LAYERS, VOCAB, MAX_POS))


if __name__ == "__main__":
    main(sys.argv[1])
