#!/usr/bin/python3
"""Golden fixtures for the Java encoder, made with plain PyTorch 1.13 (float32, CPU, seeded, deterministic).

What it writes, under transformer/src/test/resources/fixtures/ (layout in tools/reference/README.md):

    tiny-bert/     config.json  model.safetensors  forward.safetensors  grads.safetensors  adamw.safetensors
    tiny-roberta/  the same five files
    tiny-distilbert/  the same five files
    <model>/lora/  adapter_config.json  adapter_model.safetensors  forward.safetensors  grads.safetensors
                   adamw.safetensors  merged.safetensors      (HF PEFT LoRA on query/value, r=4, alpha=8; see README)

The two models are tiny random-weight copies of Hugging Face's BertForSequenceClassification and
RobertaForSequenceClassification (hidden 32, 2 layers, 4 heads, 3 labels), and of DistilBertForSequenceClassification
(dim 32, 2 layers, 4 heads: HF's modeling_distilbert.py), written here in plain PyTorch with HF's module tree, so that ``named_parameters()`` yields HF's checkpoint names verbatim (``bert.encoder.layer.0.attention.
self.query.weight``, ...) and every operation follows HF's semantics: exact erf GELU, additive extended mask
``(1 - mask) * finfo(float32).min``, HF's embedding ``padding_idx`` rows, RoBERTa's position ids from
``create_position_ids_from_input_ids``, CLS pooling (BERT pooler; RoBERTa classification head), mean
cross-entropy. There is no ``transformers`` package on the machine that runs this script, hence the re-implementation.

How the Java tests use it: they load ``config.json`` with ``EncoderConfig.read`` and ``model.safetensors`` with the
safetensors reader and the HF weight-name table, run the encoder on the inputs stored in ``forward.safetensors``, and
compare hidden states, pooled output, logits and loss with ``AllClose``; then backward against ``grads.safetensors``
(one gradient per parameter, same name as the weight) and three AdamW steps against ``adamw.safetensors``. Every
reference value is computed with dropout off (``model.eval()``).

Run from the repository root (Debian's python3-torch 1.13 lives in /usr/bin/python3):

    /usr/bin/python3 tools/reference/make_fixtures.py            # (re)write the fixtures
    /usr/bin/python3 tools/reference/make_fixtures.py --check    # verify the committed files are byte-identical
    /usr/bin/python3 tools/reference/make_fixtures.py --check-export DIR --inputs DIR/inputs.json
        # dev tool: run a varitune export as the HF class its config.json names (the same module trees), print logits

The script builds every file twice in memory and asserts the bytes agree (determinism), re-reads each written file
with its own safetensors reader and asserts bit-exact round trips, and reruns each model in float64 to print (and
bound) the float32 error of the fixtures.
"""

import argparse
import copy
import json
import math
import os
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

if tuple(int(x) for x in torch.__version__.split(".")[:2]) != (1, 13):
    sys.exit(f"make_fixtures.py is pinned to torch 1.13, found {torch.__version__}: run it with /usr/bin/python3")

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)  # one thread: the summation order inside matmul is then the same on every run
torch.set_default_dtype(torch.float32)

SEED = 20220706
WEIGHT_STD = 0.2        # weights and embeddings ~ N(0, 0.2^2): ten times HF's initializer_range, so tests are sensitive
NOISE_STD = 0.1         # biases ~ N(0, 0.1^2); LayerNorm weights ~ 1 + N(0, 0.1^2)
NUM_LABELS = 3
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
ADAMW_STEPS = 3
F64_TOLERANCE = 1e-4    # bound on max|f32 - f64| / max|f64| for every reference tensor
ZERO_SCALE_FLOOR = 1e-6  # below this max|f64|, a tensor is analytically zero: its error is normalised group-wide
REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "transformer" / "src" / "test" / "resources" / "fixtures"

# ---------------------------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}} plus an
# optional "__metadata__" {str: str}, padded with spaces so that N % 8 == 0, then the tensors' bytes (row-major,
# little-endian) concatenated; data_offsets are [begin, end) relative to the first byte after the header.
# ---------------------------------------------------------------------------------------------------------------
_TO_NUMPY = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}
_FROM_CODE = {"F32": (torch.float32, "<f4"), "F64": (torch.float64, "<f8"), "I64": (torch.int64, "<i8")}


def safetensors_bytes(tensors, metadata):
    """Serialises {name: tensor} (names sorted, data in the same order) with string metadata."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        code, np_dtype = _TO_NUMPY[t.dtype]
        data = t.numpy().astype(np_dtype, copy=False).tobytes(order="C")
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_safetensors(path):
    """Parses a safetensors file strictly; returns ({name: tensor}, metadata)."""
    raw = Path(path).read_bytes()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    out, spans = {}, []
    for name, e in header.items():
        dtype, np_dtype = _FROM_CODE[e["dtype"]]
        begin, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        if not (0 <= begin <= end <= len(data)) or end - begin != count * np.dtype(np_dtype).itemsize:
            raise ValueError(f"{path}: tensor {name} shape {e['shape']} {e['dtype']} has bad offsets {[begin, end]}")
        arr = np.frombuffer(data, dtype=np_dtype, count=count, offset=begin).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy()).to(dtype)
        spans.append((begin, end))
    spans.sort()
    if [s for s in zip([0] + [e for _, e in spans], [b for b, _ in spans] + [len(data)]) if s[0] != s[1]]:
        raise ValueError(f"{path}: tensor data has gaps or overlaps")
    return out, metadata


# ---------------------------------------------------------------------------------------------------------------
# The models: HF's module tree and forward semantics (transformers' modeling_bert.py / modeling_roberta.py), eval mode.
# ---------------------------------------------------------------------------------------------------------------
class Embeddings(torch.nn.Module):
    """BertEmbeddings / RobertaEmbeddings: LayerNorm(word[id] + position[pos] + token_type[tt]), then dropout."""

    def __init__(self, cfg):
        super().__init__()
        c, pad = cfg["hidden_size"], cfg["pad_token_id"]
        roberta = cfg["model_type"] == "roberta"
        self.word_embeddings = torch.nn.Embedding(cfg["vocab_size"], c, padding_idx=pad)
        # RoBERTa's position table also has padding_idx = pad_token_id (zero row, zero gradient); BERT's has none.
        self.position_embeddings = torch.nn.Embedding(cfg["max_position_embeddings"], c,
                                                      padding_idx=pad if roberta else None)
        self.token_type_embeddings = torch.nn.Embedding(cfg["type_vocab_size"], c)
        self.LayerNorm = torch.nn.LayerNorm(c, eps=cfg["layer_norm_eps"])
        self.dropout = torch.nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, input_ids, token_type_ids, position_ids):
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(torch.nn.Module):
    """BertSelfAttention: softmax(Q Kᵀ / √d + extended_mask) V per head."""

    def __init__(self, cfg):
        super().__init__()
        c = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.query = torch.nn.Linear(c, c)
        self.key = torch.nn.Linear(c, c)
        self.value = torch.nn.Linear(c, c)
        self.dropout = torch.nn.Dropout(cfg["attention_probs_dropout_prob"])

    def forward(self, x, extended_mask):
        b, t, c = x.shape
        d = c // self.heads

        def split(y):  # (B, T, C) -> (B, H, T, d)
            return y.view(b, t, self.heads, d).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / (d ** 0.5) + extended_mask  # (B, H, T, T)
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, t, c)


class DenseLayerNorm(torch.nn.Module):
    """BertSelfOutput / BertOutput: LayerNorm(dropout(dense(h)) + residual)."""

    def __init__(self, cfg, d_in):
        super().__init__()
        self.dense = torch.nn.Linear(d_in, cfg["hidden_size"])
        self.LayerNorm = torch.nn.LayerNorm(cfg["hidden_size"], eps=cfg["layer_norm_eps"])
        self.dropout = torch.nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class Attention(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        setattr(self, "self", SelfAttention(cfg))  # HF's attribute is literally named "self"
        self.output = DenseLayerNorm(cfg, cfg["hidden_size"])

    def forward(self, x, extended_mask):
        return self.output(getattr(self, "self")(x, extended_mask), x)


class Intermediate(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = torch.nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])

    def forward(self, x):
        return torch.nn.functional.gelu(self.dense(x))  # hidden_act "gelu" = exact erf GELU


class Layer(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = Attention(cfg)
        self.intermediate = Intermediate(cfg)
        self.output = DenseLayerNorm(cfg, cfg["intermediate_size"])

    def forward(self, x, extended_mask):
        a = self.attention(x, extended_mask)
        return self.output(self.intermediate(a), a)


class Encoder(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = torch.nn.ModuleList([Layer(cfg) for _ in range(cfg["num_hidden_layers"])])


class Pooler(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = torch.nn.Linear(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class Backbone(torch.nn.Module):
    """BertModel / RobertaModel (RoBERTa: add_pooling_layer=False, as RobertaForSequenceClassification builds it)."""

    def __init__(self, cfg, add_pooling_layer):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)
        self.pooler = Pooler(cfg) if add_pooling_layer else None

    def forward(self, input_ids, token_type_ids, position_ids, attention_mask):
        dtype = self.embeddings.LayerNorm.weight.dtype
        extended = attention_mask[:, None, None, :].to(dtype)            # (B, 1, 1, T)
        extended = (1.0 - extended) * torch.finfo(dtype).min             # HF get_extended_attention_mask
        hidden = [self.embeddings(input_ids, token_type_ids, position_ids)]
        for layer in self.encoder.layer:
            hidden.append(layer(hidden[-1], extended))
        pooled = self.pooler(hidden[-1]) if self.pooler is not None else None
        return hidden, pooled


class RobertaClassificationHead(torch.nn.Module):
    """out_proj(dropout(tanh(dense(dropout(h[:, 0])))))."""

    def __init__(self, cfg):
        super().__init__()
        self.dense = torch.nn.Linear(cfg["hidden_size"], cfg["hidden_size"])
        self.dropout = torch.nn.Dropout(cfg["hidden_dropout_prob"])
        self.out_proj = torch.nn.Linear(cfg["hidden_size"], num_labels(cfg))

    def forward(self, h):
        x = self.dropout(h[:, 0])
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class ForSequenceClassification(torch.nn.Module):
    """BertForSequenceClassification (prefix "bert.") or RobertaForSequenceClassification (prefix "roberta.")."""

    def __init__(self, cfg):
        super().__init__()
        self.prefix = cfg["model_type"]
        if self.prefix == "bert":
            self.bert = Backbone(cfg, add_pooling_layer=True)
            self.dropout = torch.nn.Dropout(cfg["hidden_dropout_prob"])
            self.classifier = torch.nn.Linear(cfg["hidden_size"], num_labels(cfg))
        else:
            self.roberta = Backbone(cfg, add_pooling_layer=False)
            self.classifier = RobertaClassificationHead(cfg)

    def forward(self, input_ids, token_type_ids, position_ids, attention_mask, labels):
        hidden, pooled = getattr(self, self.prefix)(input_ids, token_type_ids, position_ids, attention_mask)
        logits = self.classifier(self.dropout(pooled)) if self.prefix == "bert" else self.classifier(hidden[-1])
        loss = None if labels is None else torch.nn.functional.cross_entropy(
            logits.view(-1, logits.shape[-1]), labels.view(-1))  # mean over B
        return {"hidden": hidden, "pooled": pooled, "logits": logits, "loss": loss}


# ---------------------------------------------------------------------------------------------------------------
# DistilBERT: HF's modeling_distilbert.py module tree and forward semantics, eval mode. No token types; LayerNorm eps
# 1e-12 hard-coded; no dropout after attention.out_lin; the head is ReLU(pre_classifier(h[:, 0])) -> classifier.
# ---------------------------------------------------------------------------------------------------------------
class DistilEmbeddings(torch.nn.Module):
    """Embeddings: dropout(LayerNorm(word[id] + position[t])); word_embeddings has padding_idx = pad_token_id."""

    def __init__(self, cfg):
        super().__init__()
        self.word_embeddings = torch.nn.Embedding(cfg["vocab_size"], cfg["dim"], padding_idx=cfg["pad_token_id"])
        self.position_embeddings = torch.nn.Embedding(cfg["max_position_embeddings"], cfg["dim"])
        self.LayerNorm = torch.nn.LayerNorm(cfg["dim"], eps=1e-12)
        self.dropout = torch.nn.Dropout(cfg["dropout"])

    def forward(self, input_ids, position_ids):
        return self.dropout(self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(position_ids)))


class MultiHeadSelfAttention(torch.nn.Module):
    """out_lin(softmax(masked_fill((q/√d) kᵀ, mask == 0, finfo.min)) v), q/k/v = q_lin/k_lin/v_lin(x)."""

    def __init__(self, cfg):
        super().__init__()
        c = cfg["dim"]
        self.n_heads = cfg["n_heads"]
        self.dropout = torch.nn.Dropout(cfg["attention_dropout"])
        self.q_lin = torch.nn.Linear(c, c)
        self.k_lin = torch.nn.Linear(c, c)
        self.v_lin = torch.nn.Linear(c, c)
        self.out_lin = torch.nn.Linear(c, c)

    def forward(self, x, mask):
        b, t, c = x.shape
        d = c // self.n_heads

        def split(y):  # (B, T, C) -> (B, H, T, d)
            return y.view(b, -1, self.n_heads, d).transpose(1, 2)

        q, k, v = split(self.q_lin(x)), split(self.k_lin(x)), split(self.v_lin(x))
        q = q / (d ** 0.5)
        scores = torch.matmul(q, k.transpose(2, 3))                        # (B, H, T, T)
        masked = (mask == 0).view(b, 1, 1, t).expand_as(scores)
        scores = scores.masked_fill(masked, torch.tensor(torch.finfo(scores.dtype).min))
        weights = self.dropout(torch.softmax(scores, dim=-1))
        context = torch.matmul(weights, v).transpose(1, 2).contiguous().view(b, -1, c)
        return self.out_lin(context)


class FFN(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dropout = torch.nn.Dropout(cfg["dropout"])
        self.lin1 = torch.nn.Linear(cfg["dim"], cfg["hidden_dim"])
        self.lin2 = torch.nn.Linear(cfg["hidden_dim"], cfg["dim"])

    def forward(self, x):
        return self.dropout(self.lin2(torch.nn.functional.gelu(self.lin1(x))))  # activation "gelu" = exact erf GELU


class TransformerBlock(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = MultiHeadSelfAttention(cfg)
        self.sa_layer_norm = torch.nn.LayerNorm(cfg["dim"], eps=1e-12)
        self.ffn = FFN(cfg)
        self.output_layer_norm = torch.nn.LayerNorm(cfg["dim"], eps=1e-12)

    def forward(self, x, mask):
        sa = self.sa_layer_norm(self.attention(x, mask) + x)
        return self.output_layer_norm(self.ffn(sa) + sa)


class Transformer(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = torch.nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg["n_layers"])])


class DistilBertModel(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embeddings = DistilEmbeddings(cfg)
        self.transformer = Transformer(cfg)

    def forward(self, input_ids, position_ids, attention_mask):
        hidden = [self.embeddings(input_ids, position_ids)]
        for layer in self.transformer.layer:
            hidden.append(layer(hidden[-1], attention_mask))
        return hidden


class DistilBertForSequenceClassification(torch.nn.Module):
    """classifier(dropout(ReLU(pre_classifier(h[:, 0])))), prefix "distilbert."."""

    def __init__(self, cfg):
        super().__init__()
        self.prefix = "distilbert"
        self.distilbert = DistilBertModel(cfg)
        self.pre_classifier = torch.nn.Linear(cfg["dim"], cfg["dim"])
        self.classifier = torch.nn.Linear(cfg["dim"], num_labels(cfg))
        self.dropout = torch.nn.Dropout(cfg["seq_classif_dropout"])

    def forward(self, input_ids, token_type_ids, position_ids, attention_mask, labels):
        hidden = self.distilbert(input_ids, position_ids, attention_mask)  # DistilBERT takes no token type ids
        pooled = torch.nn.ReLU()(self.pre_classifier(hidden[-1][:, 0]))
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else torch.nn.functional.cross_entropy(
            logits.view(-1, logits.shape[-1]), labels.view(-1))
        return {"hidden": hidden, "pooled": None, "logits": logits, "loss": loss}


def num_labels(cfg):
    """HF's PretrainedConfig: num_labels = len(id2label); the fixtures' configs have NUM_LABELS of them."""
    return cfg["num_labels"] if "num_labels" in cfg else len(cfg["id2label"]) if "id2label" in cfg else NUM_LABELS


def create_position_ids_from_input_ids(input_ids, padding_idx):
    """HF RoBERTa: non-pad tokens get padding_idx+1, padding_idx+2, ...; pad tokens get padding_idx."""
    mask = input_ids.ne(padding_idx).int()
    incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental.long() + padding_idx


# ---------------------------------------------------------------------------------------------------------------
# Configs, weights and inputs
# ---------------------------------------------------------------------------------------------------------------
def hf_config(model_type):
    if model_type == "distilbert":
        cfg = {"architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
               "vocab_size": 100, "dim": 32, "n_layers": 2, "n_heads": 4, "hidden_dim": 64, "activation": "gelu",
               "dropout": 0.1, "attention_dropout": 0.1, "seq_classif_dropout": 0.2, "qa_dropout": 0.1,
               "max_position_embeddings": 40, "sinusoidal_pos_embds": False, "pad_token_id": 0,
               "initializer_range": WEIGHT_STD, "tie_weights_": True, "torch_dtype": "float32",
               "id2label": {str(i): f"LABEL_{i}" for i in range(NUM_LABELS)},
               "label2id": {f"LABEL_{i}": i for i in range(NUM_LABELS)}}
        return {k: cfg[k] for k in sorted(cfg)}
    common = {
        "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": WEIGHT_STD, "position_embedding_type": "absolute",
        "classifier_dropout": None, "problem_type": "single_label_classification", "torch_dtype": "float32",
        "use_cache": True,
        "id2label": {str(i): f"LABEL_{i}" for i in range(NUM_LABELS)},
        "label2id": {f"LABEL_{i}": i for i in range(NUM_LABELS)},
    }
    if model_type == "bert":
        specific = {"architectures": ["BertForSequenceClassification"], "model_type": "bert",
                    "max_position_embeddings": 40, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0}
    else:
        specific = {"architectures": ["RobertaForSequenceClassification"], "model_type": "roberta",
                    "max_position_embeddings": 42, "type_vocab_size": 1, "layer_norm_eps": 1e-5, "pad_token_id": 1,
                    "bos_token_id": 0, "eos_token_id": 2}
    cfg = dict(specific, **common)
    return {k: cfg[k] for k in sorted(cfg)}


def layer_norm_weights(model):
    """Names of the weights of LayerNorm modules (BERT's "*.LayerNorm.weight", DistilBERT's "*_layer_norm.weight")."""
    return {f"{m}.weight" if m else "weight" for m, mod in model.named_modules() if isinstance(mod, torch.nn.LayerNorm)}


def init_weights(model, cfg, generator):
    """Weights ~ N(0, 0.2²); biases ~ N(0, 0.1²); LayerNorm weights 1 + N(0, 0.1²); padding_idx rows zeroed (as HF)."""
    norms = layer_norm_weights(model)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float32)
            if name in norms:
                p.copy_(1.0 + NOISE_STD * noise)
            elif name.endswith(".bias"):
                p.copy_(NOISE_STD * noise)
            else:
                p.copy_(WEIGHT_STD * noise)
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding) and module.padding_idx is not None:
                module.weight[module.padding_idx].zero_()


def make_inputs(cfg):
    """B=3, T=7, right-padded: row 0 full length, row 1 with 2 pad positions, row 2 with 4."""
    if cfg["model_type"] == "distilbert":
        # BERT's vocabulary conventions ([CLS]=2, [SEP]=3, pad=0, an attended pad id at row 0, t=2); no token types.
        ids = torch.tensor([[2, 17, 0, 17, 3, 42, 3],
                            [2, 55, 55, 3, 9, 0, 0],
                            [2, 71, 71, 0, 0, 0, 0]], dtype=torch.int64)
        return {"input_ids": ids,
                "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1, 1],
                                                [1, 1, 1, 1, 1, 0, 0],
                                                [1, 1, 1, 0, 0, 0, 0]], dtype=torch.int64),
                "position_ids": torch.arange(ids.shape[1], dtype=torch.int64).expand_as(ids).contiguous(),
                "labels": torch.tensor([2, 0, 1], dtype=torch.int64)}
    if cfg["model_type"] == "bert":
        # [CLS]=2, [SEP]=3 by our choice; ids repeat within rows. Row 0 deliberately holds the pad id 0 at an
        # attended position (t=2): HF gives word_embeddings row 0 a zero gradient even there (padding_idx).
        input_ids = [[2, 17, 0, 17, 3, 42, 3],
                     [2, 55, 55, 3, 9, 0, 0],
                     [2, 71, 71, 0, 0, 0, 0]]
        token_type_ids = [[0, 0, 0, 0, 0, 1, 1],
                          [0, 0, 0, 0, 1, 0, 0],
                          [0, 0, 1, 0, 0, 0, 0]]
        attention_mask = [[1, 1, 1, 1, 1, 1, 1],
                          [1, 1, 1, 1, 1, 0, 0],
                          [1, 1, 1, 0, 0, 0, 0]]
        labels = [0, 2, 1]
    else:
        # <s>=0 ... </s>=2 (pair: <s> A </s></s> B </s> is too long for T=7; row 0 is <s> A </s> B </s>), pad=1.
        input_ids = [[0, 17, 23, 17, 2, 44, 2],
                     [0, 55, 55, 9, 2, 1, 1],
                     [0, 71, 2, 1, 1, 1, 1]]
        token_type_ids = [[0] * 7] * 3
        attention_mask = [[1, 1, 1, 1, 1, 1, 1],
                          [1, 1, 1, 1, 1, 0, 0],
                          [1, 1, 1, 0, 0, 0, 0]]
        labels = [1, 0, 2]
    ids = torch.tensor(input_ids, dtype=torch.int64)
    if cfg["model_type"] == "roberta":
        position_ids = create_position_ids_from_input_ids(ids, cfg["pad_token_id"])
    else:
        position_ids = torch.arange(ids.shape[1], dtype=torch.int64).expand_as(ids).contiguous()
    return {"input_ids": ids,
            "token_type_ids": torch.tensor(token_type_ids, dtype=torch.int64),
            "attention_mask": torch.tensor(attention_mask, dtype=torch.int64),
            "position_ids": position_ids,
            "labels": torch.tensor(labels, dtype=torch.int64)}


def run(model, x):
    return model(x["input_ids"], x.get("token_type_ids"), x["position_ids"], x["attention_mask"], x.get("labels"))


def forward_tensors(model, x):
    """Eval-mode forward and backward; returns (forward dict, grads dict) of detached float tensors. Gradients are
    kept for the trainable parameters only (all of them for the plain models; LoRA freezes the base weights)."""
    model.zero_grad(set_to_none=False)
    out = run(model, x)
    out["loss"].backward()
    fwd = dict(x)
    for i, h in enumerate(out["hidden"]):
        fwd[f"hidden_states.{i}"] = h.detach().clone()
    if out["pooled"] is not None:
        fwd["pooled"] = out["pooled"].detach().clone()
    fwd["logits"] = out["logits"].detach().clone()
    fwd["loss"] = out["loss"].detach().clone()  # shape [] (a 0-d scalar)
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    return fwd, grads


def adamw_param_groups(model):
    """HF Trainer convention: no weight decay for biases and the weights of LayerNorm modules; trainable parameters only
    (HF Trainer builds its groups from the parameters with requires_grad)."""
    decay, no_decay = [], []
    norms = layer_norm_weights(model)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if name.endswith(".bias") or name in norms else decay).append(p)
    return [{"params": decay, "weight_decay": ADAMW["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]


# Parameters whose post-AdamW values are stored: every kind of update (decayed matrix, undecayed bias and LayerNorm
# weight, embedding tables with untouched and padding_idx rows, heads) without storing the whole model a third time.
FINAL_PARAMS = {
    "bert": ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
             "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
             "bert.embeddings.LayerNorm.bias", "bert.encoder.layer.0.attention.self.query.weight",
             "bert.encoder.layer.0.attention.self.query.bias", "bert.encoder.layer.1.attention.output.LayerNorm.weight",
             "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
             "bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"],
    "roberta": ["roberta.embeddings.word_embeddings.weight", "roberta.embeddings.position_embeddings.weight",
                "roberta.embeddings.token_type_embeddings.weight", "roberta.embeddings.LayerNorm.weight",
                "roberta.embeddings.LayerNorm.bias", "roberta.encoder.layer.0.attention.self.query.weight",
                "roberta.encoder.layer.0.attention.self.query.bias",
                "roberta.encoder.layer.1.attention.output.LayerNorm.weight",
                "roberta.encoder.layer.1.intermediate.dense.weight", "roberta.encoder.layer.1.output.dense.bias",
                "classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                "classifier.out_proj.bias"],
    "distilbert": ["distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight",
                   "distilbert.embeddings.LayerNorm.weight", "distilbert.embeddings.LayerNorm.bias",
                   "distilbert.transformer.layer.0.attention.q_lin.weight",
                   "distilbert.transformer.layer.0.attention.q_lin.bias",
                   "distilbert.transformer.layer.0.output_layer_norm.weight",
                   "distilbert.transformer.layer.1.sa_layer_norm.weight", "distilbert.transformer.layer.1.ffn.lin1.weight",
                   "distilbert.transformer.layer.1.ffn.lin2.bias", "pre_classifier.weight", "pre_classifier.bias",
                   "classifier.weight", "classifier.bias"],
}


def adamw_tensors(model, x, final_names=None):
    """Three AdamW steps on the same batch (dropout off); loss.k is the loss before step k, loss.3 after the last.
    Returns (tensors, the trained copy of the model); final.<name> for FINAL_PARAMS or the given names."""
    model = copy.deepcopy(model)
    opt = torch.optim.AdamW(adamw_param_groups(model), lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"],
                            foreach=False)
    out = {}
    for step in range(ADAMW_STEPS):
        opt.zero_grad(set_to_none=False)
        loss = run(model, x)["loss"]
        out[f"loss.{step}"] = loss.detach().clone()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out[f"loss.{ADAMW_STEPS}"] = run(model, x)["loss"].detach().clone()
    params = dict(model.named_parameters())
    for name in final_names or FINAL_PARAMS[model.prefix]:
        out[f"final.{name}"] = params[name].detach().clone()
    return out, model


# ---------------------------------------------------------------------------------------------------------------
# LoRA with HF PEFT's semantics (huggingface/peft src/peft/tuners/lora/layer.py, Linear.forward and get_delta_weight;
# saved layout from src/peft/utils/save_and_load.py get_peft_model_state_dict), re-implemented here as there is no
# peft package. For a targeted nn.Linear (W: (out, in), b):  h = x Wᵀ + b + ((dropout(x) Aᵀ) Bᵀ) · (lora_alpha / r),
# A = lora_A.weight (r, in), B = lora_B.weight (out, r); merging gives W' = W + (B A) · (lora_alpha / r).
# ---------------------------------------------------------------------------------------------------------------
LORA = dict(r=4, lora_alpha=8, lora_dropout=0.0)
LORA_B_STD = 0.1  # B ~ N(0, 0.1²) instead of PEFT's zeros: with B = 0 the gradient of A would be exactly zero
LORA_SEED_OFFSET = 100  # generator seed SEED + 100 + model index for A and B
# Targets (PEFT's target_modules: a module matches if its name equals the entry or ends with "." + entry).
LORA_TARGETS = {"bert": ["query", "value"], "roberta": ["query", "value"], "distilbert": ["q_lin", "v_lin"]}
# The trainable head, as HF module names, and the modules_to_save that makes PEFT train exactly these modules.
# PEFT's PeftModelForSequenceClassification appends ["classifier", "score"] to modules_to_save and wraps every module
# whose name ends with an entry (plain string suffix). BERT: PEFT's default would train classifier only and keep
# bert.pooler.dense frozen, so "pooler.dense" is listed. DistilBERT: "pre_classifier" already ends with "classifier",
# so PEFT's default trains pre_classifier too; it is listed anyway so that the config does not rely on that quirk.
LORA_HEAD = {"bert": ["bert.pooler.dense", "classifier"], "roberta": ["classifier"],
             "distilbert": ["pre_classifier", "classifier"]}
LORA_MODULES_TO_SAVE = {"bert": ["pooler.dense", "classifier", "score"], "roberta": ["classifier", "score"],
                        "distilbert": ["pre_classifier", "classifier", "score"]}
PEFT_PREFIX = "base_model.model."  # PeftModel.base_model (LoraModel) .model (the HF model)
MERGE_TOLERANCE = 1e-5  # max|merged logits - LoRA logits| / max|LoRA logits|


class LoraLinear(torch.nn.Module):
    """PEFT's lora.Linear with one adapter, named so that named_parameters() gives PEFT's saved names without the
    "base_model.model." prefix: <module>.weight / .bias (the frozen base layer), <module>.lora_A.weight (r, in),
    <module>.lora_B.weight (out, r). lora_dropout 0 is PEFT's nn.Identity."""

    def __init__(self, base, r, lora_alpha):
        super().__init__()
        self.weight, self.bias = base.weight, base.bias
        self.lora_A = torch.nn.Linear(base.in_features, r, bias=False)
        self.lora_B = torch.nn.Linear(r, base.out_features, bias=False)
        self.scaling = lora_alpha / r

    def forward(self, x):
        result = torch.nn.functional.linear(x, self.weight, self.bias)
        return result + self.lora_B(self.lora_A(x)) * self.scaling  # PEFT's order: B(A(x)), then the scaling

    def delta_weight(self):
        """PEFT's get_delta_weight (fan_in_fan_out False): (B @ A) * scaling."""
        return (self.lora_B.weight @ self.lora_A.weight) * self.scaling


def lora_seed(model_type):
    return SEED + LORA_SEED_OFFSET + ["bert", "roberta", "distilbert"].index(model_type)


def lora_model(model, model_type):
    """A copy of the plain model with the LoRA targets wrapped, every base weight frozen and the head trainable.
    A ~ U(-1/√in, 1/√in) (PEFT's kaiming_uniform_(a=√5)), B ~ N(0, 0.1²), drawn from one seeded generator in module
    order, A then B for each target."""
    m = copy.deepcopy(model)
    m.zero_grad(set_to_none=True)
    m.requires_grad_(False)
    generator = torch.Generator().manual_seed(lora_seed(model_type))
    # PEFT's matching: targets by exact name or "." + entry suffix; modules_to_save by plain string suffix.
    names = [n for n, _ in m.named_modules()]
    targets = [n for n in names if any(n == t or n.endswith("." + t) for t in LORA_TARGETS[model_type])]
    assert len(targets) == 2 * 2 and all(isinstance(m.get_submodule(n), torch.nn.Linear) for n in targets), targets
    head = [n for n in names if any(n.endswith(t) for t in LORA_MODULES_TO_SAVE[model_type])]
    assert head == LORA_HEAD[model_type], f"{model_type}: modules_to_save selects {head}, not {LORA_HEAD[model_type]}"
    for name in targets:
        parent, leaf = name.rsplit(".", 1)
        wrapped = LoraLinear(m.get_submodule(name), LORA["r"], LORA["lora_alpha"])
        with torch.no_grad():
            a = wrapped.lora_A.weight
            gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
            bound = math.sqrt(3.0) * gain / math.sqrt(torch.nn.init._calculate_correct_fan(a, "fan_in"))
            assert abs(bound - 1 / math.sqrt(a.shape[1])) < 1e-12, bound
            a.uniform_(-bound, bound, generator=generator)
            wrapped.lora_B.weight.copy_(LORA_B_STD * torch.randn(wrapped.lora_B.weight.shape, generator=generator))
        setattr(m.get_submodule(parent), leaf, wrapped)
    for name in LORA_HEAD[model_type]:
        m.get_submodule(name).requires_grad_(True)
    return m


def merged_weights(trained):
    """The plain HF checkpoint of a trained LoRA model: every non-LoRA parameter, with W + (B A) · scaling in place of
    each targeted W (PEFT's merge_and_unload, unsafe merge: base_layer.weight.data += delta_weight)."""
    weights = {n: p.detach().clone() for n, p in trained.named_parameters() if ".lora_" not in n}
    for name, mod in trained.named_modules():
        if isinstance(mod, LoraLinear):
            with torch.no_grad():
                weights[f"{name}.weight"] = mod.weight.detach().clone() + mod.delta_weight()
    return weights


def lora_run(m, plain, x):
    """Forward/backward, three AdamW steps and the merge of LoRA model m (any float dtype); plain is the HF model of
    the same dtype that receives the merged weights. Returns {group: tensors} and the merged-vs-LoRA logits error."""
    trainable = [n for n, p in m.named_parameters() if p.requires_grad]
    fwd, grads = forward_tensors(m, x)
    adamw, trained = adamw_tensors(m, x, final_names=trainable)
    merged = merged_weights(trained)
    plain = copy.deepcopy(plain)
    plain.load_state_dict(merged, strict=True)
    with torch.no_grad():
        merged["merged_logits"] = run(plain, x)["logits"].detach().clone()
        lora_logits = run(trained, x)["logits"]
    err = ((merged["merged_logits"] - lora_logits).abs().max() / lora_logits.abs().max()).item()
    return {"forward": fwd, "grads": grads, "adamw": adamw, "merged": merged}, err


def lora_tensors(model, model_type, x):
    """The LoRA model built on the plain model and its reference tensors: the initial trainable tensors, forward,
    grads, AdamW and merged (asserting that the merged model reproduces the LoRA model's logits)."""
    m = lora_model(model, model_type)
    initial = {n: p.detach().clone() for n, p in m.named_parameters() if p.requires_grad}
    groups, err = lora_run(m, model, x)
    assert err < MERGE_TOLERANCE, f"{model_type}: merged model logits differ from the LoRA model's by {err:.2e}"
    return m, dict(groups, initial=initial, merge_error=err)


def adapter_config(model_type):
    """adapter_config.json as PEFT's save_pretrained writes it: LoraConfig.to_dict() (runtime_config dropped), sets as
    lists, inference_mode True, json.dumps(indent=2, sort_keys=True). Fields of the LoraConfig/PeftConfig versions
    read (huggingface/peft src/peft/tuners/lora/config.py, src/peft/config.py); newer PEFT versions add keys."""
    cfg = {"alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": f"tiny-{model_type}", "bias": "none",
           "exclude_modules": None, "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
           "layer_replication": None, "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
           "lora_alpha": LORA["lora_alpha"], "lora_dropout": LORA["lora_dropout"], "megatron_config": None,
           "megatron_core": "megatron.core", "modules_to_save": LORA_MODULES_TO_SAVE[model_type], "peft_type": "LORA",
           "r": LORA["r"], "rank_pattern": {}, "revision": None, "target_modules": LORA_TARGETS[model_type],
           "task_type": "SEQ_CLS", "use_dora": False, "use_rslora": False}
    return json.dumps(cfg, indent=2, sort_keys=True).encode("utf-8")


def lora_files(lora, model_type, meta):
    """The lora/ files of one model from lora_tensors' reference tensors."""
    adapter = {PEFT_PREFIX + n: t for n, t in lora["initial"].items()}
    lmeta = dict(meta, lora=f"r={LORA['r']} lora_alpha={LORA['lora_alpha']} lora_dropout={LORA['lora_dropout']} "
                            f"targets={','.join(LORA_TARGETS[model_type])}",
                 lora_init=f"A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ a=sqrt(5)), B ~ N(0, {LORA_B_STD}^2), "
                           f"generator seed {lora_seed(model_type)}",
                 trainable="lora_A, lora_B, " + ", ".join(LORA_HEAD[model_type]))
    return {
        "lora/adapter_config.json": adapter_config(model_type),
        "lora/adapter_model.safetensors": safetensors_bytes(adapter, {"format": "pt"}),
        "lora/forward.safetensors": safetensors_bytes(lora["forward"], dict(lmeta, mode="eval (dropout off)")),
        "lora/grads.safetensors": safetensors_bytes(lora["grads"], dict(
            lmeta, of="mean cross-entropy loss of lora/forward.safetensors, trainable parameters only")),
        "lora/adamw.safetensors": safetensors_bytes(lora["adamw"], dict(
            lmeta, optimizer="torch.optim.AdamW", lr=ADAMW["lr"], betas=list(ADAMW["betas"]), eps=ADAMW["eps"],
            weight_decay=f"{ADAMW['weight_decay']} except *.bias", steps=ADAMW_STEPS)),
        "lora/merged.safetensors": safetensors_bytes(lora["merged"], dict(
            lmeta, merged="W + (B @ A) * lora_alpha / r after the AdamW steps; merged_logits: this model's logits")),
    }


def build(model_type):
    """Returns ({file name: bytes}, float32 model, inputs) for one tiny model."""
    cfg = hf_config(model_type)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED + {"bert": 0, "roberta": 1, "distilbert": 2}[model_type])
    model = DistilBertForSequenceClassification(cfg) if model_type == "distilbert" else ForSequenceClassification(cfg)
    init_weights(model, cfg, generator)
    model.eval()  # dropout off everywhere
    x = make_inputs(cfg)
    fwd, grads = forward_tensors(model, x)
    adamw, _ = adamw_tensors(model, x)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    meta = {"generator": "tools/reference/make_fixtures.py", "torch": torch.__version__, "seed": str(SEED)}
    files = {
        "config.json": (json.dumps(cfg, indent=2) + "\n").encode("utf-8"),
        "model.safetensors": safetensors_bytes(weights, {"format": "pt"}),
        "forward.safetensors": safetensors_bytes(fwd, dict(meta, mode="eval (dropout off)", loss_shape="[] (0-d)")),
        "grads.safetensors": safetensors_bytes(grads, dict(meta, of="mean cross-entropy loss of forward.safetensors")),
        "adamw.safetensors": safetensors_bytes(adamw, dict(
            meta, optimizer="torch.optim.AdamW", lr=ADAMW["lr"], betas=list(ADAMW["betas"]), eps=ADAMW["eps"],
            weight_decay=f"{ADAMW['weight_decay']} except *.bias and *LayerNorm.weight", steps=ADAMW_STEPS)),
    }
    lora_m, lora = lora_tensors(model, model_type, x)
    files.update(lora_files(lora, model_type, meta))
    return files, model, x, {"forward": fwd, "grads": grads, "adamw": adamw, "weights": weights, "lora": lora,
                             "lora_model": lora_m}


def float64_check(model, x, ref):
    """Reruns forward, backward, AdamW (and the LoRA model's, with its merge) in float64; returns ({tensor: max|f32 -
    f64| / max|f64|}, [names of tensors that are zero in exact arithmetic]). LoRA groups are named lora/<group>."""
    m64 = copy.deepcopy(model).double()
    fwd64, grads64 = forward_tensors(m64, x)
    adamw64, _ = adamw_tensors(m64, x)
    lora64, _ = lora_run(copy.deepcopy(ref["lora_model"]).double(), m64, x)
    errors, zeros = {}, []
    groups = [("forward", fwd64, ref["forward"]), ("grads", grads64, ref["grads"]), ("adamw", adamw64, ref["adamw"])]
    groups += [(f"lora/{g}", lora64[g], ref["lora"][g]) for g in ("forward", "grads", "adamw", "merged")]
    for group, f64, f32 in groups:
        for name, e in f64.items():
            if not e.is_floating_point():
                continue
            a = f32[name].double()
            scale = e.abs().max().item()
            if scale < ZERO_SCALE_FLOOR:
                # Zero in exact arithmetic (key.bias gradients: softmax ignores a per-row shift of the scores), so
                # float32 holds rounding noise only: normalise by the largest value of the whole group instead.
                scale = max(t.abs().max().item() for t in f64.values() if t.is_floating_point())
                zeros.append(f"{group}/{name}")
            errors[f"{group}/{name}"] = (a - e).abs().max().item() / scale
    return errors, zeros


def distilbert_self_checks(model, x, ref, cfg):
    """DistilBERT's counterpart of self_checks: attention (with out_lin) against torch's MultiheadAttention, masked
    positions without influence, the word padding_idx row, the head reading position 0 through ReLU."""
    m = copy.deepcopy(model).double()
    mask = x["attention_mask"]
    att = m.distilbert.transformer.layer[0].attention
    c = cfg["dim"]
    mha = torch.nn.MultiheadAttention(c, cfg["n_heads"], batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([att.q_lin.weight, att.k_lin.weight, att.v_lin.weight]))
        mha.in_proj_bias.copy_(torch.cat([att.q_lin.bias, att.k_lin.bias, att.v_lin.bias]))
        mha.out_proj.weight.copy_(att.out_lin.weight)
        mha.out_proj.bias.copy_(att.out_lin.bias)
        h0 = ref["forward"]["hidden_states.0"].double()
        ours = att(h0, mask)
        theirs, _ = mha(h0, h0, h0, key_padding_mask=mask == 0, need_weights=False)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-12), f"attention differs from MultiheadAttention: " \
        f"{(ours - theirs).abs().max().item():.2e}"
    x2 = dict(x)
    x2["input_ids"] = torch.where(mask == 1, x["input_ids"], torch.full_like(mask, 5))
    with torch.no_grad():
        out2 = run(model, x2)
    assert torch.equal(out2["logits"], ref["forward"]["logits"]), "masked positions changed the logits"
    name, pad = "distilbert.embeddings.word_embeddings.weight", cfg["pad_token_id"]
    assert not ref["weights"][name][pad].any() and not ref["grads"][name][pad].any(), f"{name}[{pad}] not zero"
    with torch.no_grad():
        h = ref["forward"]["hidden_states.2"]
        logits = model.classifier(torch.relu(model.pre_classifier(h[:, 0])))
    assert torch.equal(logits, ref["forward"]["logits"]), "logits are not classifier(relu(pre_classifier(h[:, 0])))"


def self_checks(model, x, ref, cfg):
    """Assertions on the HF semantics of this re-implementation, independent of the fixtures' own numbers."""
    if cfg["model_type"] == "distilbert":
        return distilbert_self_checks(model, x, ref, cfg)
    m = copy.deepcopy(model).double()
    backbone = getattr(m, m.prefix)
    mask = x["attention_mask"]
    # 1. Head split, scaling and key-padding mask against torch's own MultiheadAttention (identity output projection).
    att = getattr(backbone.encoder.layer[0].attention, "self")
    c = cfg["hidden_size"]
    mha = torch.nn.MultiheadAttention(c, cfg["num_attention_heads"], batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([att.query.weight, att.key.weight, att.value.weight]))
        mha.in_proj_bias.copy_(torch.cat([att.query.bias, att.key.bias, att.value.bias]))
        mha.out_proj.weight.copy_(torch.eye(c, dtype=torch.float64))
        mha.out_proj.bias.zero_()
        h0 = ref["forward"]["hidden_states.0"].double()
        extended = (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
        ours = att(h0, extended)
        theirs, _ = mha(h0, h0, h0, key_padding_mask=mask == 0, need_weights=False)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-12), f"attention differs from MultiheadAttention: " \
        f"{(ours - theirs).abs().max().item():.2e}"
    # 2. Masked positions cannot influence attended ones: other ids and token types there change nothing, bitwise.
    x2 = dict(x)
    x2["input_ids"] = torch.where(mask == 1, x["input_ids"], torch.full_like(mask, 5))
    x2["token_type_ids"] = torch.where(mask == 1, x["token_type_ids"], torch.full_like(mask, cfg["type_vocab_size"] - 1))
    with torch.no_grad():
        out2 = run(model, x2)
    assert torch.equal(out2["logits"], ref["forward"]["logits"]), "masked positions changed the logits"
    for i, h in enumerate(out2["hidden"]):
        keep = mask.bool()
        assert torch.equal(h[keep], ref["forward"][f"hidden_states.{i}"][keep]), f"masked positions changed h{i}"
    # 3. padding_idx rows: zero weight and zero gradient (BERT row 0 even where id 0 sits at an attended position).
    p = m.prefix + ".embeddings."
    pad = cfg["pad_token_id"]
    tables = [p + "word_embeddings.weight"] + ([p + "position_embeddings.weight"] if m.prefix == "roberta" else [])
    for name in tables:
        assert not ref["weights"][name][pad].any() and not ref["grads"][name][pad].any(), f"{name}[{pad}] not zero"
    if m.prefix == "bert":
        assert bool(((x["input_ids"] == pad) & (mask == 1)).any()), "BERT inputs should hold an attended pad id"
    # 4. The pooler/head read position 0 of the last hidden state.
    if m.prefix == "bert":
        with torch.no_grad():
            pooled = model.bert.pooler(ref["forward"]["hidden_states.2"])
        assert torch.equal(pooled, ref["forward"]["pooled"]), "pooled is not tanh(dense(h[:, 0]))"


def lora_self_checks(model, model_type, x, ref):
    """Checks of the LoRA semantics independent of the fixtures' numbers: with PEFT's own B = 0 the LoRA model is the
    plain model bitwise and every lora_A gradient is exactly zero (hence B ≠ 0 in the fixture); the embeddings are
    untouched; in float64 the gradients of one target follow dB = s gᵀ (x Aᵀ) and dA = s (g B)ᵀ x, g = dL/dy."""
    m0 = copy.deepcopy(ref["lora_model"])
    with torch.no_grad():
        for mod in m0.modules():
            if isinstance(mod, LoraLinear):
                mod.lora_B.weight.zero_()
    fwd0, grads0 = forward_tensors(m0, x)
    assert torch.equal(fwd0["logits"], ref["forward"]["logits"]), f"{model_type}: LoRA with B = 0 changed the logits"
    assert all(not g.any() for n, g in grads0.items() if ".lora_A." in n), f"{model_type}: dA not 0 with B = 0"
    assert torch.equal(ref["lora"]["forward"]["hidden_states.0"], ref["forward"]["hidden_states.0"]), "embeddings"
    m = copy.deepcopy(ref["lora_model"]).double()
    name = next(n for n, mod in m.named_modules() if isinstance(mod, LoraLinear))
    target, seen = m.get_submodule(name), {}
    target.register_forward_hook(lambda mod, inp, out: seen.update(x=inp[0], y=out) or out.retain_grad())
    m.zero_grad(set_to_none=False)
    run(m, x)["loss"].backward()
    xs, g = seen["x"].reshape(-1, seen["x"].shape[-1]), seen["y"].grad.reshape(-1, seen["y"].shape[-1])
    a, b, s = target.lora_A.weight, target.lora_B.weight, target.scaling
    assert torch.allclose(b.grad, s * g.T @ (xs @ a.T), rtol=0, atol=1e-12), f"{name}: dB formula"
    assert torch.allclose(a.grad, s * (g @ b).T @ xs, rtol=0, atol=1e-12), f"{name}: dA formula"


# ---------------------------------------------------------------------------------------------------------------
# --check-export: run a directory written by varitune's ModelExport as the HF class its config.json names.
# ---------------------------------------------------------------------------------------------------------------
HF_CLASSES = {"BertForSequenceClassification": ("bert", ForSequenceClassification),
              "RobertaForSequenceClassification": ("roberta", ForSequenceClassification),
              "DistilBertForSequenceClassification": ("distilbert", DistilBertForSequenceClassification)}
BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")  # HF checkpoints may hold these; not parameters


def export_model(directory):
    """The plain-PyTorch module tree of the class that directory/config.json names, loaded from model.safetensors
    strictly (every parameter present with its shape, no tensor left over; HF would warn and initialise a missing one
    at random). Exits naming the file when the class is not one HF ships (varitune's own Varitune* names included) or
    the config asks for something these modules do not implement."""
    config_file = directory / "config.json"
    cfg = json.loads(config_file.read_text())
    arch = cfg.get("architectures") or []
    if len(arch) != 1 or arch[0] not in HF_CLASSES:
        sys.exit(f"{config_file}: architectures {arch} is not one of {sorted(HF_CLASSES)}; an export naming varitune's "
                 f"own architecture is not computed by any HF class: run it with `varitune predict`")
    model_type, cls = HF_CLASSES[arch[0]]
    if cfg.get("model_type") != model_type:
        sys.exit(f"{config_file}: {arch[0]} with model_type {cfg.get('model_type')!r}")
    act = cfg.get("activation" if model_type == "distilbert" else "hidden_act")
    unsupported = [f"activation {act!r}"] if act != "gelu" else []
    if model_type == "distilbert" and cfg.get("sinusoidal_pos_embds"):
        unsupported.append("sinusoidal_pos_embds")
    if model_type != "distilbert" and cfg.get("position_embedding_type", "absolute") != "absolute":
        unsupported.append(f"position_embedding_type {cfg['position_embedding_type']!r}")
    if unsupported:
        sys.exit(f"{config_file}: not implemented here: {', '.join(unsupported)}")
    model = cls(cfg)
    weights_file = directory / "model.safetensors"
    weights, _ = read_safetensors(weights_file)
    weights = {n: t for n, t in weights.items() if not n.endswith(BUFFERS)}
    expected = dict(model.named_parameters())
    missing = sorted(set(expected) - set(weights))
    unused = sorted(set(weights) - set(expected))
    misshapen = sorted(n for n in set(expected) & set(weights) if weights[n].shape != expected[n].shape)
    if missing or unused or misshapen:
        sys.exit(f"{weights_file}: not a {arch[0]} checkpoint: missing {missing}, unused {unused}, "
                 f"wrong shape {misshapen}")
    model.load_state_dict({n: t.to(torch.float32) for n, t in weights.items()}, strict=True)
    return model.eval(), cfg, arch[0]


def export_inputs(path, cfg):
    """The batch to run: a JSON file {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]
    (optional, default 0), "varitune_logits": [[...]] (optional)}, or a fixture's forward.safetensors (its
    input_ids, attention_mask, token_type_ids when present). Position ids are recomputed as HF does."""
    if path.suffix == ".safetensors":
        tensors, _ = read_safetensors(path)
        raw = {k: tensors[k].tolist() for k in ("input_ids", "attention_mask", "token_type_ids") if k in tensors}
    else:
        raw = json.loads(path.read_text())
    ids = torch.tensor(raw["input_ids"], dtype=torch.int64)
    x = {"input_ids": ids, "attention_mask": torch.tensor(raw["attention_mask"], dtype=torch.int64),
         "token_type_ids": torch.tensor(raw.get("token_type_ids", torch.zeros_like(ids).tolist()), dtype=torch.int64)}
    if cfg["model_type"] == "roberta":
        x["position_ids"] = create_position_ids_from_input_ids(ids, cfg["pad_token_id"])
    else:
        x["position_ids"] = torch.arange(ids.shape[1], dtype=torch.int64).expand_as(ids).contiguous()
    expected = raw.get("varitune_logits")
    return x, None if expected is None else torch.tensor(expected, dtype=torch.float64)


def normalised(a, e):
    """max|a - e| / max|e|, in float64."""
    return ((a.double() - e.double()).abs().max() / e.double().abs().max()).item()


def check_export(directory, inputs_path):
    """Prints the logits of the export under its named HF class, in float32 (as HF runs it) and float64, and, when
    the inputs carry varitune's logits, the normalised differences. Exits non-zero on a difference above 1e-4."""
    model, cfg, arch = export_model(directory)
    x, expected = export_inputs(inputs_path, cfg)
    with torch.no_grad():
        f32 = run(model, x)["logits"]
        f64 = run(copy.deepcopy(model).double(), x)["logits"]
    print(f"{directory}: {arch}, {cfg.get('num_hidden_layers', cfg.get('n_layers'))} layers, "
          f"torch {torch.__version__}")
    print("logits (float32):", json.dumps(f32.tolist()))
    print(f"float32 vs float64: {normalised(f32, f64):.2e}")
    if expected is not None:
        if expected.shape != f32.shape:
            sys.exit(f"{inputs_path}: varitune_logits has shape {list(expected.shape)}, the model gives {list(f32.shape)}")
        d32, d64 = normalised(expected, f32), normalised(expected, f64)
        print(f"varitune vs float32 PyTorch: {d32:.2e}; varitune vs float64 PyTorch: {d64:.2e} (max|a-e| / max|e|)")
        if max(d32, d64) > F64_TOLERANCE:
            sys.exit(f"{directory}: varitune's logits differ from {arch}'s by more than {F64_TOLERANCE}")


def write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixtures directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    parser.add_argument("--models", nargs="+", default=["bert", "roberta", "distilbert"],
                        choices=["bert", "roberta", "distilbert"], help="which fixtures (default: all)")
    parser.add_argument("--check-export", type=Path, metavar="DIR",
                        help="dev tool, writes nothing: run an exported directory (config.json + model.safetensors) "
                             "as the HF class its config.json names, on --inputs, and print the logits")
    parser.add_argument("--inputs", type=Path, metavar="FILE",
                        help="with --check-export: a JSON file (input_ids, attention_mask, optional token_type_ids "
                             "and varitune_logits) or a fixture's forward.safetensors")
    args = parser.parse_args()
    if args.check_export is not None:
        if args.inputs is None:
            parser.error("--check-export needs --inputs")
        check_export(args.check_export, args.inputs)
        return
    failures = []
    for model_type in args.models:
        name = f"tiny-{model_type}"
        files, model, x, ref = build(model_type)
        again, _, _, _ = build(model_type)
        assert files == again, f"{name}: two builds in one process gave different bytes"
        self_checks(model, x, ref, hf_config(model_type))
        lora_self_checks(model, model_type, x, ref)
        errors, zeros = float64_check(model, x, ref)
        worst = max(errors, key=errors.get)
        print(f"{name}: float64 check, worst normalised error {errors[worst]:.2e} ({worst}); "
              f"forward {max(v for k, v in errors.items() if k.startswith('forward')):.2e}, "
              f"grads {max(v for k, v in errors.items() if k.startswith('grads')):.2e}, "
              f"adamw {max(v for k, v in errors.items() if k.startswith('adamw')):.2e}")
        print(f"{name}: LoRA float64 check: " + ", ".join(
            f"{g} {max(v for k, v in errors.items() if k.startswith(f'lora/{g}/')):.2e}"
            for g in ("forward", "grads", "adamw", "merged"))
            + f"; merged vs LoRA logits (float32) {ref['lora']['merge_error']:.2e}")
        print(f"{name}: analytically zero (float32 holds rounding noise only): {', '.join(zeros)}")
        assert errors[worst] < F64_TOLERANCE, f"{name}: float32 fixture error {errors[worst]:.2e} at {worst}"
        print(f"{name}: loss {ref['forward']['loss'].item():.6f}, AdamW losses "
              + " ".join(f"{ref['adamw'][f'loss.{k}'].item():.6f}" for k in range(ADAMW_STEPS + 1)))
        print(f"{name}: LoRA loss {ref['lora']['forward']['loss'].item():.6f}, AdamW losses "
              + " ".join(f"{ref['lora']['adamw'][f'loss.{k}'].item():.6f}" for k in range(ADAMW_STEPS + 1)))
        for fname, data in files.items():
            path = args.out / name / fname
            if args.check:
                if not path.exists() or path.read_bytes() != data:
                    failures.append(str(path))
                continue
            write_atomic(path, data)
        for fname, data in files.items():  # round trip every file through our own reader
            path = args.out / name / fname
            if args.check and str(path) in failures:
                continue
            if fname.endswith(".json"):
                assert json.loads(path.read_text()) == json.loads(data), path
                continue
            tensors, _ = read_safetensors(path)
            lora = ref["lora"]
            expected = {"model.safetensors": ref["weights"], "grads.safetensors": ref["grads"],
                        "forward.safetensors": ref["forward"], "adamw.safetensors": ref["adamw"],
                        "lora/adapter_model.safetensors": {PEFT_PREFIX + n: t for n, t in lora["initial"].items()},
                        "lora/forward.safetensors": lora["forward"], "lora/grads.safetensors": lora["grads"],
                        "lora/adamw.safetensors": lora["adamw"], "lora/merged.safetensors": lora["merged"]}[fname]
            assert tensors.keys() == expected.keys(), f"{path}: names differ"
            for k, t in tensors.items():
                e = expected[k]
                assert t.dtype == e.dtype and t.shape == e.shape and torch.equal(t, e), f"{path}: {k} differs"
        total = sum(len(d) for d in files.values())
        print(f"{name}: {'checked' if args.check else 'wrote'} {len(files)} files, {total} bytes, round trip exact")
    if failures:
        sys.exit("differs from a fresh build: " + ", ".join(failures))


if __name__ == "__main__":
    main()
