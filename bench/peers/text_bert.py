#!/usr/bin/python3
"""A 6-layer d=384 BERT-like encoder (12 heads, FFN 1536, vocab 30522: MiniLM-L6 sized) in plain torch, the same
architecture and ONNX export settings as test/fixtures/bert/make_tiny_bert.py (opset 14, dynamic batch and
sequence axes, Erf GELU, shape subgraphs), with seeded random weights.

Usage: /usr/bin/python3 bench/peers/text_bert.py <out-dir> [--vocab-texts <texts.jsonl> --vocab-size 8192]
Writes <out-dir>/onnx/model.onnx, config.json and the tokenizer files. Without --vocab-texts: the tiny BERT's
tokenizer (its 478-token WordPiece vocabulary is a subset of the 30522 embedding rows, enough to tokenize
benchmark texts). With it: a WordPiece vocabulary of --vocab-size entries made from those texts (one JSON string
per line) -- the tiny BERT's special tokens, punctuation, digits, letters and ##-continuations first, then the
most frequent whole words after BERT's normalisation (lowercase, accents stripped) and pre-tokenisation (split at
whitespace and around every punctuation character), ties broken alphabetically -- and an embedding table of that
many rows. Unknown words still tokenize, as letters and ##-continuations (or [UNK] for other characters).
"""
import argparse
import collections
import json
import math
import os
import shutil
import unicodedata

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
    def __init__(self, vocab=VOCAB):
        super().__init__()
        self.word = nn.Embedding(vocab, HIDDEN, padding_idx=0)
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


def make_model(vocab=VOCAB):
    torch.manual_seed(0)
    m = Bert(vocab)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.02)
    return m


def is_punctuation(ch):
    """BERT's test: ASCII non-alphanumeric printables, and every Unicode P* category."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def bert_words(text):
    """BertNormalizer (lowercase, strip accents, drop control characters) + BertPreTokenizer, approximately."""
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Cc", "Cf") or c in "\t\n\r")
    words, cur = [], []
    for c in text:
        if c.isspace() or is_punctuation(c):
            if cur:
                words.append("".join(cur))
                cur = []
            if not c.isspace():
                words.append(c)
        else:
            cur.append(c)
    if cur:
        words.append("".join(cur))
    return words


def make_vocab(texts_path, size):
    base = list(json.load(open(os.path.join(FIXTURE, "tokenizer.json")))["model"]["vocab"].keys())[:102]
    counts = collections.Counter()
    with open(texts_path) as f:
        for line in f:
            if line.strip():
                counts.update(w for w in bert_words(json.loads(line)) if len(w) <= 100)
    vocab, seen = list(base), set(base)
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    return vocab


def write_tokenizer(out, vocab):
    if vocab is None:
        for f in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
            shutil.copy(os.path.join(FIXTURE, f), os.path.join(out, f))
        return
    tok = json.load(open(os.path.join(FIXTURE, "tokenizer.json")))
    tok["model"]["vocab"] = {w: i for i, w in enumerate(vocab)}
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    for f in ["tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(os.path.join(FIXTURE, f), os.path.join(out, f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--vocab-texts")
    ap.add_argument("--vocab-size", type=int, default=8192)
    a = ap.parse_args()
    out = a.out
    vocab = make_vocab(a.vocab_texts, a.vocab_size) if a.vocab_texts else None
    rows = len(vocab) if vocab else VOCAB
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    model = make_model(rows).eval()
    ids = torch.randint(5, 478, (2, 16))
    torch.onnx.export(
        model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), os.path.join(out, "onnx", "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={n: {0: "batch_size", 1: "sequence_length"}
                      for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
        opset_version=14, do_constant_folding=True,
    )
    write_tokenizer(out, vocab)
    with open(os.path.join(out, "config.json"), "w") as f:
        f.write('{"model_type": "bert", "hidden_size": %d, "num_hidden_layers": %d, "vocab_size": %d, '
                '"max_position_embeddings": %d}\n' % (HIDDEN, LAYERS, rows, MAX_POS))


if __name__ == "__main__":
    main()
