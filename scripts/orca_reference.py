#!/usr/bin/env python3
"""A BERT forward pass in NumPy (float64) from the same safetensors file Cohort reads,
compared with `cohort orca encode` on a few sentences.

Usage: orca_reference.py COHORT_BINARY MODEL_DIR
Reads the token ids Cohort produced (so the tokenizer is checked separately against
known ids), recomputes each sentence's last hidden states alone (no padding), and fails
unless every value agrees to 1e-4. Then checks the mean-pooled embeddings rank similar
sentences above dissimilar ones, as the model card describes.
"""
import json
import math
import struct
import subprocess
import sys

import numpy as np

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "Héllo, WORLD! Tokenizers split punctuation-marks; don't they?",
]
# Known ids of the uncased BERT vocabulary, fixed by hand from vocab.txt.
EXPECTED_IDS = {0: [101, 1037, 2158, 2003, 5983, 2833, 1012, 102]}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return out


def layer_norm(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def bert(w, cfg, ids):
    eps = cfg["layer_norm_eps"]
    t = len(ids)
    h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t] \
        + w["embeddings.token_type_embeddings.weight"][0]
    h = layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda x, n: x @ w[p + n + ".weight"].T + w[p + n + ".bias"]
        q, k, v = (lin(h, "attention.self." + n).reshape(t, heads, d).transpose(1, 0, 2) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(t, heads * d)
        h = layer_norm(h + lin(a, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        f = lin(gelu(lin(h, "intermediate.dense")), "output.dense")
        h = layer_norm(h + f, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return h


def main():
    binary, model = sys.argv[1], sys.argv[2]
    out = subprocess.run([binary, "orca", "encode", "--model", model, *SENTENCES], check=True, capture_output=True, text=True)
    got = json.loads(out.stdout)
    cfg = json.load(open(f"{model}/config.json"))
    w = read_safetensors(f"{model}/model.safetensors")
    worst = 0.0
    for i, s in enumerate(got["sentences"]):
        ids = s["ids"]
        if i in EXPECTED_IDS and ids != EXPECTED_IDS[i]:
            sys.exit(f"sentence {i}: token ids {ids}, expected {EXPECTED_IDS[i]}")
        ref = bert(w, cfg, ids)
        mine = np.array(s["hidden"]).reshape(len(ids), got["width"])
        worst = max(worst, float(np.abs(ref - mine).max()))
    print(f"largest difference from the NumPy reference: {worst:.2e}")
    if worst > 1e-4:
        sys.exit(f"hidden states differ by {worst:.2e} > 1e-4")
    e = np.array([s["mean"] for s in got["sentences"]])
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    sim = e @ e.T
    print(f"cosine: eating/eating {sim[0, 1]:.3f}, eating/baby {sim[0, 2]:.3f}, eating/horse {sim[0, 3]:.3f}")
    if not (sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3]):
        sys.exit("the mean-pooled embeddings do not rank the similar sentence first")


if __name__ == "__main__":
    main()
