#!/usr/bin/env python3
"""PyTorch CPU peer for varitune's benchmarks (Debian python3-torch 1.13; dev tooling, never a runtime dependency).

A plain-PyTorch BERT encoder with HF's semantics (post-LN, exact erf GELU, additive key mask
``(1 - mask) * finfo(float32).min``), timed the same way as `varitune bench forward` / `bench train`: random token
ids, warm-up first, median of --iters. Prints `forward_seq_per_s=<n>` or `train_seq_per_s=<n>` as its last line.

Weights: --model DIR loads a varitune model directory (config.json + model.safetensors, HF names without the `bert.`
prefix, e.g. ~/.cache/varitune/models/e5-small-v2), the same weights varitune times; --config NAME builds a
random-weight encoder of that size instead (bert-base: varitune's random:bert-base is random too).
--check FILE (a `varitune encode --output FILE` file: input_ids, token_type_ids, attention_mask, hidden_states.0..L)
runs the loaded model on those ids before timing and fails unless the last hidden state matches varitune's:
error = max |torch - varitune| / max |varitune| over attended tokens, must be <= --check-tol (1e-4).

Forward: eval mode under torch.inference_mode(). Training step (the work of `varitune bench train --mode full`): dropout
on, BERT pooler + linear head on [CLS], mean cross-entropy, backward, clip_grad_norm_(1.0), torch.optim.AdamW
(foreach=True, weight decay 0.1 except biases and LayerNorm weights, as varitune's default).

Run it with the same thread count as the Java side, jemalloc preloaded with its pages retained (without MALLOC_CONF
jemalloc returns freed pages to the OS and every step pays the first touch again: 8x slower here) and Debian's OpenMP
OpenBLAS, e.g.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
      MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
      /usr/bin/python3 benchmarks/peers/torch_bench.py --model ~/.cache/varitune/models/e5-small-v2 --mode forward
The first output line states these settings as seen by the process.
"""
import argparse
import json
import math
import os
import re
import statistics
import struct
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

CONFIGS = {
    "e5-small": dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536),
    "minilm": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536),
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
DEFAULTS = dict(vocab_size=30522, max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
                hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, hidden_act="gelu")

# safetensors: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}} (plus an
# optional "__metadata__"), then the tensors' bytes; data_offsets are [begin, end) after the header. (The minimal part
# of tools/reference/make_fixtures.py's reader.)
_DTYPES = {"F32": (torch.float32, "<f4"), "I64": (torch.int64, "<i8")}


def read_safetensors(path):
    """{name: tensor} of a safetensors file (F32 and I64 only); names the file and tensor on a bad entry."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data, out = raw[8 + n:], {}
    for name, e in header.items():
        if e["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {e['dtype']}, this reader takes F32 and I64")
        dtype, np_dtype = _DTYPES[e["dtype"]]
        begin, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        if not (0 <= begin <= end <= len(data)) or end - begin != count * np.dtype(np_dtype).itemsize:
            raise ValueError(f"{path}: tensor {name} shape {e['shape']} {e['dtype']} has bad offsets {[begin, end]}")
        arr = np.frombuffer(data, dtype=np_dtype, count=count, offset=begin).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy()).to(dtype)
    return out


class SelfAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query, self.key, self.value = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)


class DenseLN(nn.Module):
    """HF's BertSelfOutput / BertOutput: LayerNorm(dropout(dense(x)) + residual)."""

    def __init__(self, i, c, eps):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(i, c), nn.LayerNorm(c, eps=eps)


class Layer(nn.Module):
    """One BertLayer, parameters under HF's names (attention.self.query, ..., output.LayerNorm)."""

    def __init__(self, cfg):
        super().__init__()
        c, i, eps = cfg["hidden_size"], cfg["intermediate_size"], cfg["layer_norm_eps"]
        self.h, self.d = cfg["num_attention_heads"], c // cfg["num_attention_heads"]
        self.attention = nn.Module()
        self.attention.self, self.attention.output = SelfAttn(c), DenseLN(c, c, eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(c, i)
        self.output = DenseLN(i, c, eps)
        self.attn_drop = nn.Dropout(cfg["attention_probs_dropout_prob"])
        self.drop = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, x, mask_add):
        B, T, C = x.shape
        sa, ao = self.attention.self, self.attention.output
        def heads(t):
            return t.view(B, T, self.h, self.d).transpose(1, 2)
        q, k, v = heads(sa.query(x)), heads(sa.key(x)), heads(sa.value(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask_add, dim=-1)
        ctx = (self.attn_drop(att) @ v).transpose(1, 2).reshape(B, T, C)
        h1 = ao.LayerNorm(self.drop(ao.dense(ctx)) + x)
        # exact erf GELU (HF "gelu"), not the tanh approximation
        inter = nn.functional.gelu(self.intermediate.dense(h1))
        return self.output.LayerNorm(self.drop(self.output.dense(inter)) + h1)


class Encoder(nn.Module):
    """BertModel's embeddings + encoder + pooler under HF's names, plus a 2-label classifier for the training step."""

    def __init__(self, cfg):
        super().__init__()
        c = cfg["hidden_size"]
        self.embeddings = nn.Module()
        e = self.embeddings
        e.word_embeddings = nn.Embedding(cfg["vocab_size"], c)
        e.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], c)
        e.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], c)
        e.LayerNorm = nn.LayerNorm(c, eps=cfg["layer_norm_eps"])
        self.drop = nn.Dropout(cfg["hidden_dropout_prob"])
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(Layer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(c, c)
        self.classifier = nn.Linear(c, 2)

    def forward(self, ids, types, mask):
        B, T = ids.shape
        e = self.embeddings
        pos = torch.arange(T).unsqueeze(0).expand(B, T)
        x = self.drop(e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(pos) + e.token_type_embeddings(types)))
        mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.encoder.layer:
            x = layer(x, mask_add)
        return x

    def logits(self, h):
        return self.classifier(torch.tanh(self.pooler.dense(h[:, 0])))


def load_model(a):
    """The encoder: a varitune model directory's config.json + model.safetensors, or random weights of --config."""
    if a.model:
        d = Path(os.path.expanduser(a.model))
        cfg = {**DEFAULTS, **json.loads((d / "config.json").read_text())}
        if cfg.get("model_type", "bert") != "bert" or cfg["hidden_act"] != "gelu":
            raise ValueError(f"{d / 'config.json'}: this peer is BERT with exact GELU; found model_type "
                             f"{cfg.get('model_type')}, hidden_act {cfg['hidden_act']}")
        model = Encoder(cfg)
        weights = read_safetensors(d / "model.safetensors")
        weights = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in weights.items()}
        own = dict(model.named_parameters())
        missing = [k for k in own if k not in weights and not k.startswith(("classifier.", "pooler."))]
        if missing:
            raise ValueError(f"{d / 'model.safetensors'}: missing {len(missing)} tensors, e.g. {missing[:3]}")
        with torch.no_grad():
            for k, p in own.items():
                if k in weights:
                    if tuple(weights[k].shape) != tuple(p.shape):
                        raise ValueError(f"{d / 'model.safetensors'}: tensor {k} has shape {list(weights[k].shape)}, "
                                         f"expected {list(p.shape)}")
                    p.copy_(weights[k])
        return model, cfg, str(d)
    cfg = {**DEFAULTS, **CONFIGS[a.config]}
    return Encoder(cfg), cfg, f"random:{a.config}"


def check(model, path, tol):
    """Runs the model (eval) on varitune's ids in `path`; returns max |torch - varitune| / max |varitune| (attended)."""
    t = read_safetensors(path)
    L = max(int(k.split(".")[1]) for k in t if k.startswith("hidden_states."))
    ref, mask = t[f"hidden_states.{L}"], t["attention_mask"]
    model.eval()
    with torch.inference_mode():
        h = model(t["input_ids"], t["token_type_ids"], mask)
    keep = mask.bool()
    err = ((h - ref).abs()[keep].max() / ref.abs()[keep].max()).item()
    print(f"output check against {path}: last hidden state (layer {L}, {int(keep.sum())} attended tokens of "
          f"{tuple(ref.shape)}), max |torch - varitune| / max |varitune| = {err:.2e} (tolerance {tol:.0e})")
    if not err <= tol:
        raise SystemExit(f"output check FAILED: normalised error {err:.2e} > {tol:.0e} ({path})")


def settings(threads):
    """The settings that decide the peer's speed, as this process sees them."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            name = line.split()[-1]
            if any(s in name for s in ("blas", "jemalloc", "tcmalloc", "mkl", "gomp", "iomp")):
                libs.add(os.path.realpath(name))
    conf = torch.__config__.show()
    blas = "; ".join(re.search(pat, conf).group(0) for pat in (r"BLAS_INFO=\w+", r"CPU capability usage: \w+"))
    core = "unknown"
    for lib in libs:   # the OpenBLAS torch actually calls (through libblas.so.3): its build config and detected core
        if "openblas" in os.path.basename(lib):
            import ctypes
            ob = ctypes.CDLL(lib)
            ob.openblas_get_corename.restype = ob.openblas_get_config.restype = ctypes.c_char_p
            core = f"{ob.openblas_get_config().decode().strip()}, core {ob.openblas_get_corename().decode()}"
    env = lambda k: os.environ.get(k, "unset")
    return (f"peer settings: torch {torch.__version__}, threads {threads} (torch.get_num_threads {torch.get_num_threads()},"
            f" OMP_NUM_THREADS={env('OMP_NUM_THREADS')}), LD_PRELOAD={env('LD_PRELOAD')}, MALLOC_CONF={env('MALLOC_CONF')},"
            f" OPENBLAS_CORETYPE={env('OPENBLAS_CORETYPE')}, OPENBLAS_L2_SIZE={env('OPENBLAS_L2_SIZE')},"
            f" ATEN_CPU_CAPABILITY={env('ATEN_CPU_CAPABILITY')}, torch config: {blas}; OpenBLAS: {core}; loaded libraries: {', '.join(sorted(libs)) or 'none matched'}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="varitune model directory (config.json + model.safetensors): real weights")
    ap.add_argument("--config", default="e5-small", choices=CONFIGS, help="random-weight size when --model is absent")
    ap.add_argument("--check", help="`varitune encode --output` file to compare the last hidden state with first")
    ap.add_argument("--check-tol", type=float, default=1e-4)
    ap.add_argument("--mode", default="forward", choices=["forward", "train"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-onnx", help="write the eval model as ONNX for the ONNX Runtime peer and exit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, cfg, source = load_model(a)
    print(settings(a.threads))
    if a.check:
        check(model, a.check, a.check_tol)
    ids = torch.randint(1000, cfg["vocab_size"], (a.batch, a.seq))
    types = torch.zeros_like(ids)
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    labels = torch.randint(0, 2, (a.batch,))
    print(f"model {source}: {cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, "
          f"batch {a.batch} x seq {a.seq}, mode {a.mode}, warm-up {a.warmup}, iters {a.iters}")
    if a.export_onnx:
        model.eval()
        class TwoInputs(nn.Module):   # the graph OrtForwardBench feeds: input_ids, attention_mask (types all 0)
            def __init__(self, m):
                super().__init__()
                self.m = m
            def forward(self, i, m):
                return self.m(i, torch.zeros_like(i), m)
        torch.onnx.export(TwoInputs(model), (ids, mask), a.export_onnx, input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=14,
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}})
        print(f"wrote {a.export_onnx}")
        return
    if a.mode == "forward":
        model.eval()
        def step():
            with torch.inference_mode():
                model(ids, types, mask)
    else:
        model.train()
        no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
        decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=2e-5, foreach=True)
        print(f"optimizer: torch.optim.AdamW(foreach=True), clip_grad_norm_(1.0), "
              f"{sum(p.numel() for p in model.parameters())} trainable parameters")
        def step():
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model.logits(model(ids, types, mask)), labels)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
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
