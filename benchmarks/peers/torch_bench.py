#!/usr/bin/env python3
"""PyTorch CPU peer for varitune's benchmarks (Debian python3-torch 1.13; dev tooling, never a runtime dependency).

A plain-PyTorch BERT encoder with HF's structure (post-LN, exact GELU, additive key mask), random weights, sized
like e5-small-v2 or bert-base, timed the same way as `varitune bench forward` / `bench train`: random token ids,
warm-up first, median of --iters. Prints `forward_seq_per_s=<n>` or `train_seq_per_s=<n>` as its last line.

Run it with the same thread count as the Java side, jemalloc preloaded with its pages retained (without MALLOC_CONF
jemalloc returns freed pages to the OS and every step pays the first touch again: 8x slower here) and Debian's OpenMP
OpenBLAS, e.g.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
      MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
      /usr/bin/python3 benchmarks/peers/torch_bench.py --config e5-small --mode forward --threads 2
"""
import argparse
import math
import statistics
import time

import torch
from torch import nn

CONFIGS = {
    "e5-small": dict(hidden=384, layers=12, heads=12, inter=1536),
    "minilm": dict(hidden=384, layers=6, heads=12, inter=1536),
    "bert-base": dict(hidden=768, layers=12, heads=12, inter=3072),
}


class Layer(nn.Module):
    def __init__(self, c, h, i, p):
        super().__init__()
        self.h, self.d = h, c // h
        self.query, self.key, self.value = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.attn_out, self.ln1 = nn.Linear(c, c), nn.LayerNorm(c, eps=1e-12)
        self.inter, self.out, self.ln2 = nn.Linear(c, i), nn.Linear(i, c), nn.LayerNorm(c, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, mask_add):
        B, T, C = x.shape
        def heads(t):
            return t.view(B, T, self.h, self.d).transpose(1, 2)
        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask_add, dim=-1)
        ctx = (self.drop(att) @ v).transpose(1, 2).reshape(B, T, C)
        h1 = self.ln1(self.drop(self.attn_out(ctx)) + x)
        return self.ln2(self.drop(self.out(nn.functional.gelu(self.inter(h1)))) + h1)


class Encoder(nn.Module):
    def __init__(self, hidden, layers, heads, inter, p=0.1, vocab=30522):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(512, hidden)
        self.typ = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(hidden, heads, inter, p) for _ in range(layers))
        self.head = nn.Linear(hidden, 2)

    def forward(self, ids, mask):
        B, T = ids.shape
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        x = self.drop(self.ln(self.word(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids))))
        mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_add)
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="e5-small", choices=CONFIGS)
    ap.add_argument("--mode", default="forward", choices=["forward", "train"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-onnx", help="write the (random-weight) eval model as ONNX for the ONNX Runtime peer and exit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder(**CONFIGS[a.config])
    ids = torch.randint(1000, 30522, (a.batch, a.seq))
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    labels = torch.randint(0, 2, (a.batch,))
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, config {a.config}, "
          f"batch {a.batch} x seq {a.seq}, mode {a.mode}")
    if a.export_onnx:
        model.eval()
        torch.onnx.export(model, (ids, mask), a.export_onnx, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}})
        print(f"wrote {a.export_onnx}")
        return
    if a.mode == "forward":
        model.eval()
        def step():
            with torch.inference_mode():
                model(ids, mask)
    else:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
        def step():
            opt.zero_grad(set_to_none=True)
            h = model(ids, mask)
            loss = nn.functional.cross_entropy(model.head(h[:, 0]), labels)
            loss.backward()
            opt.step()
    for _ in range(a.warmup):
        step()
    times = []
    for i in range(a.iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        print(f"iter {i}: {times[-1]:.3f} s")
    med = statistics.median(times)
    print(f"median {med:.4f} s")
    print(f"{a.mode}_seq_per_s={a.batch / med:.2f}")


if __name__ == "__main__":
    main()
