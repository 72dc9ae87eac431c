#!/usr/bin/env python3
"""Reads a Cohort checkpoint with the reference `safetensors` package and NumPy.

Shows that the files are standard safetensors: every tensor loads by name with its
dtype and shape, the metadata map is readable, and the CRC-32 Cohort records over the
tensor data (in file order) matches what zlib computes. Needs `pip install safetensors
numpy`; the Swift tests do not depend on it.

    cohort train --dataset digits --epochs 2 --checkpoint-out /tmp/digits.safetensors
    python3 scripts/checkpoint_interop.py /tmp/digits.safetensors
"""
import json
import struct
import sys
import zlib

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def main(path):
    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][0])
    crc = 0
    for _, v in entries:
        begin, end = v["data_offsets"]
        crc = zlib.crc32(data[begin:end], crc)
    print(f"{path}: {len(tensors)} tensors, format {metadata.get('format')}, step {metadata.get('step')}, epoch {metadata.get('epoch')}")
    for name, _ in entries:
        t = tensors[name]
        print(f"  {name:40} {str(t.dtype):8} {list(t.shape)}  mean {float(np.mean(t)) if t.dtype == np.float32 else '-'}")
    expected = metadata.get("crc32")
    print(f"crc32 recorded {expected}, computed {crc:x}: {'match' if expected == f'{crc:x}' else 'MISMATCH'}")
    return 0 if expected == f"{crc:x}" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
