#!/usr/bin/env python3
"""Mutation fuzzer of the release `cohort` binary.

Every case mutates one input a user could hand to cohort (an example config, a
checkpoint, an IDX/CSV/LEAF data set, a run directory's journal, a flag value) and runs
the command that reads it, each in its own directory, under a wall-clock limit and a
memory limit. The verdicts:

  ok       exit 0, or a small non-zero exit with something on stderr
  CRASH    exit 132/133/134/136/139, death by a signal we did not send, a Swift
           "Fatal error" or crash report on stderr
  HANG     still alive `--grace` seconds after the SIGTERM sent at the time limit
  SILENT   non-zero exit with nothing on stderr
  CORRUPT  a file of the run directory that was readable before the case is not after
  AUDIT    a run interrupted by a signal and resumed leaves a journal `tune --audit` refuses

Cases are drawn from one seed: case I of seed S is the same case on every machine
(`--seed S --case I` replays it). Every failing case is saved with the exact command
(`command.sh`), its input files and its output. The last line is
`fuzz: N cases, K findings (seed S)`; the exit status is non-zero on any finding.

    scripts/fuzz.py --budget-seconds 120
    scripts/fuzz.py --seed 7 --case 42 --verbose
"""

import argparse
import base64
import copy
import gzip
import json
import os
import random
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.setrecursionlimit(20000)   # some cases build values 5000 levels deep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, ".build", "release", "cohort")
MPIRUN = os.path.join(ROOT, "scripts", "mpirun.sh")
EXAMPLES = os.path.join(ROOT, "examples")
FASHION = "/usr/share/datasets/fashion-mnist"

# Numbers from outside that have broken parsers before: the edges of Int32, Int64,
# UInt64 and Double, non-finite values and a denormal-adjacent tiny one. YAML spellings.
EXTREME_NUMBERS = [
    "0", "-1", "1e19", "1.0e+19", "1.7976931348623157e308", "-1e308", "-1.0e+308",
    ".inf", "-.inf", ".nan", "2147483647", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "1e-300", "1.0e-300", "-0",
    "1e400", "0.5", "4294967296", "65537",
]
# The same edges as flag values (no YAML spellings), plus values that are not numbers.
EXTREME_FLAG_VALUES = [
    "0", "-1", "1e19", "1.7976931348623157e308", "-1e308", "inf", "-inf", "nan",
    "2147483647", "9223372036854775807", "9223372036854775808", "18446744073709551615",
    "18446744073709551616", "1e-300", "-0", "4294967296", "abc", "", " 1", "0x10",
    "1,2", "1.5", "1e400", "NaN", "Infinity", "+5", "١",
]
SIGNAL_VERDICT_EXITS = {132, 133, 134, 135, 136, 137, 139}
CRASH_PATTERNS = [
    "Fatal error", "*** Program crashed", "exited on signal", "Segmentation fault",
    "Illegal instruction", "core dumped", "Assertion failed", "Precondition failed",
    "Stack overflow", "*** Signal ",
]


# ---------------------------------------------------------------------------
# A small YAML reader and writer for the subset the examples use (block mappings,
# flow mappings and lists, plain scalars, comments), so configs can be mutated as
# trees and written back with any token in any place.

class Map(list):
    """A mapping as a list of [key, value] pairs, so keys can be duplicated."""

    def get(self, key, default=None):
        for k, v in self:
            if k == key:
                return v
        return default

    def set(self, key, value):
        for pair in self:
            if pair[0] == key:
                pair[1] = value
                return
        self.append([key, value])

    def has(self, key):
        return any(k == key for k, _ in self)


class Raw(str):
    """A scalar written verbatim (a YAML token such as `.inf`)."""


def strip_comment(line):
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def parse_scalar(text):
    t = text.strip()
    if t in ("null", "~", ""):
        return None
    if t in ("true", "false"):
        return t == "true"
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?", t):
        return float(t)
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        return t[1:-1]
    return t


def parse_flow(text):
    pos = 0

    def skip():
        nonlocal pos
        while pos < len(text) and text[pos] in " \t":
            pos += 1

    def value():
        nonlocal pos
        skip()
        if text[pos] == "[":
            pos += 1
            items = []
            skip()
            if text[pos] == "]":
                pos += 1
                return items
            while True:
                items.append(value())
                skip()
                ch = text[pos]
                pos += 1
                if ch == "]":
                    return items
        if text[pos] == "{":
            pos += 1
            pairs = Map()
            skip()
            if text[pos] == "}":
                pos += 1
                return pairs
            while True:
                skip()
                colon = text.index(":", pos)
                key = text[pos:colon].strip()
                pos = colon + 1
                pairs.append([key, value()])
                skip()
                ch = text[pos]
                pos += 1
                if ch == "}":
                    return pairs
        start = pos
        while pos < len(text) and text[pos] not in ",]}":
            pos += 1
        return parse_scalar(text[start:pos])

    return value()


def parse_yaml(text):
    lines = []
    for raw in text.splitlines():
        s = strip_comment(raw).rstrip()
        if s.strip():
            lines.append((len(s) - len(s.lstrip(" ")), s.strip()))
    pos = 0

    def block(indent):
        nonlocal pos
        pairs = Map()
        while pos < len(lines) and lines[pos][0] == indent:
            content = lines[pos][1]
            key, _, rest = content.partition(":")
            pos += 1
            rest = rest.strip()
            if rest:
                val = parse_flow(rest)
            elif pos < len(lines) and lines[pos][0] > indent:
                val = block(lines[pos][0])
            else:
                val = None
            pairs.append([key.strip(), val])
        return pairs

    return block(0)


PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_.\-/]*")
YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def emit_scalar(v):
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v:
            return ".nan"
        if v in (float("inf"), float("-inf")):
            return ".inf" if v > 0 else "-.inf"
        r = repr(v)
        if "e" in r and "." not in r.split("e")[0]:
            r = r.replace("e", ".0e", 1)
        return r
    s = str(v)
    if PLAIN.fullmatch(s) and s.lower() not in YAML_WORDS:
        return s
    return json.dumps(s)


def emit_flow(v):
    if isinstance(v, Map):
        return "{" + ", ".join(f"{emit_key(k)}: {emit_flow(x)}" for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(emit_flow(x) for x in v) + "]"
    return emit_scalar(v)


def emit_key(k):
    return k if isinstance(k, Raw) or PLAIN.fullmatch(k or "_") else json.dumps(k)


def emit_yaml(node, indent=0):
    out = []
    pad = " " * indent
    for k, v in node:
        if isinstance(v, Map) and len(v) > 0:
            out.append(f"{pad}{emit_key(k)}:")
            out.append(emit_yaml(v, indent + 2))
        else:
            out.append(f"{pad}{emit_key(k)}: {emit_flow(v)}")
    return "\n".join(out)


def to_json(node):
    """A tree as plain JSON data (for `cohort` configs given as JSON)."""
    if isinstance(node, Map):
        return {k: to_json(v) for k, v in node}
    if isinstance(node, list):
        return [to_json(x) for x in node]
    return node


def tree_paths(node, prefix=()):
    """Every (path, value) below node; a path is a tuple of keys and list indices."""
    found = []
    if isinstance(node, Map):
        for i, (k, v) in enumerate(node):
            p = prefix + (("pair", i),)
            found.append((p, v))
            found.extend(tree_paths(v, p))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = prefix + (("item", i),)
            found.append((p, v))
            found.extend(tree_paths(v, p))
    return found


def path_name(tree, path):
    names = []
    node = tree
    for kind, i in path:
        if kind == "pair":
            names.append(str(node[i][0]))
            node = node[i][1]
        else:
            names.append(f"[{i}]")
            node = node[i]
    return ".".join(names).replace(".[", "[")


def path_parent(tree, path):
    node = tree
    for kind, i in path[:-1]:
        node = node[i][1] if kind == "pair" else node[i]
    return node


def path_set(tree, path, value):
    parent = path_parent(tree, path)
    kind, i = path[-1]
    if kind == "pair":
        parent[i][1] = value
    else:
        parent[i] = value


def dotted_get(tree, dotted):
    node = tree
    for key in dotted.split("."):
        if not isinstance(node, Map) or not node.has(key):
            return None
        node = node.get(key)
    return node


def dotted_set(tree, dotted, value, only_if_present=True):
    keys = dotted.split(".")
    node = tree
    for key in keys[:-1]:
        if not isinstance(node, Map) or not node.has(key):
            return False
        node = node.get(key)
    if not isinstance(node, Map) or (only_if_present and not node.has(keys[-1])):
        return False
    node.set(keys[-1], value)
    return True


# ---------------------------------------------------------------------------
# Config mutations: each takes (rng, tree) and returns a description, or None when it
# does not apply. Text mutations take and return the YAML text.

def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def camel(name):
    parts = name.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:]) if len(parts) > 1 else name[:1].upper() + name[1:]


def typo(rng, name):
    if len(name) < 2:
        return name + "x"
    i = rng.randrange(len(name) - 1)
    choice = rng.randrange(4)
    if choice == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if choice == 1:
        return name[:i] + name[i + 1:]
    if choice == 2:
        return name[:i] + name[i] + name[i:]
    return name + "s"


def mutate_number(rng, tree):
    nums = [(p, v) for p, v in tree_paths(tree) if is_number(v)]
    if not nums:
        return None
    p, v = rng.choice(nums)
    new = Raw(rng.choice(EXTREME_NUMBERS))
    path_set(tree, p, new)
    return f"number {path_name(tree, p)}: {v!r} -> {new}"


def swap_type(rng, tree):
    leaves = [(p, v) for p, v in tree_paths(tree) if not isinstance(v, list)]
    if not leaves:
        return None
    p, v = rng.choice(leaves)
    replacements = [
        "a string", Raw('"12"'), Raw('"1e19"'), [1, 2], [], Map([["x", 1]]), Map(), None, True, False,
        Raw("yes"), Raw("''"), Raw("[[1], [2]]"), Raw("!!binary aGVsbG8="), Raw("!!float 1"),
        Raw("0x7fffffffffffffff"), Raw("1_000"), Raw("0o17"), Raw("12:30:00"), Raw("2001-12-14"),
    ]
    new = rng.choice(replacements)
    path_set(tree, p, new)
    return f"type {path_name(tree, p)}: {v!r} -> {emit_flow(new)}"


def mutate_list(rng, tree):
    lists = [(p, v) for p, v in tree_paths(tree) if isinstance(v, list) and not isinstance(v, Map)]
    if not lists:
        return None
    p, v = rng.choice(lists)
    options = [
        ("empty", []), ("one huge", [Raw(rng.choice(EXTREME_NUMBERS))]),
        ("10000 items", [1] * 10000), ("nested", [v]), ("strings", ["a", "b"]),
        ("nulls", [None, None]), ("negative", [-1] * max(1, len(v))),
        ("doubled", list(v) + list(v)), ("zeros", [0] * max(1, len(v))),
    ]
    name, new = rng.choice(options)
    path_set(tree, p, new)
    return f"list {path_name(tree, p)}: {emit_flow(v)} -> {name}"


def mutate_string(rng, tree):
    strs = [(p, v) for p, v in tree_paths(tree) if isinstance(v, str) and not isinstance(v, Raw)]
    if not strs:
        return None
    p, v = rng.choice(strs)
    options = ["", "x" * 100000, "unknown-value", v.upper(), v + " ", "../../../../etc/passwd", "/dev/zero",
               "/dev/null", "/", "naïve", "a\tb", "fraction:2:-1", "lognormal:nan", "-1", "1e19", v + v,
               "none", ".", "~"]
    new = rng.choice(options)
    path_set(tree, p, new)
    shown = new if len(new) < 40 else f"{new[:10]}... ({len(new)} chars)"
    return f"string {path_name(tree, p)}: {v!r} -> {shown!r}"


def drop_key(rng, tree):
    pairs = [(p, v) for p, v in tree_paths(tree) if p[-1][0] == "pair"]
    if not pairs:
        return None
    p, _ = rng.choice(pairs)
    name = path_name(tree, p)
    del path_parent(tree, p)[p[-1][1]]
    return f"drop key {name}"


def duplicate_key(rng, tree):
    pairs = [(p, v) for p, v in tree_paths(tree) if p[-1][0] == "pair"]
    if not pairs:
        return None
    p, v = rng.choice(pairs)
    parent = path_parent(tree, p)
    key, value = parent[p[-1][1]]
    other = copy.deepcopy(value)
    if is_number(value):
        other = Raw(rng.choice(EXTREME_NUMBERS))
    parent.insert(p[-1][1] + 1, [key, other])
    return f"duplicate key {path_name(tree, p)} (second value {emit_flow(other)})"


def misspell_key(rng, tree):
    pairs = [(p, v) for p, v in tree_paths(tree) if p[-1][0] == "pair"]
    if not pairs:
        return None
    p, _ = rng.choice(pairs)
    parent = path_parent(tree, p)
    old = parent[p[-1][1]][0]
    style = rng.choice(["camel", "typo", "upper", "dash", "space"])
    new = {"camel": camel(old), "typo": typo(rng, old), "upper": old.upper(), "dash": old.replace("_", "-") + ("" if "_" in old else "-x"),
           "space": old + " "}[style]
    parent[p[-1][1]][0] = new
    return f"misspell key {path_name(tree, p)} ({style}) -> {new!r}"


def empty_section(rng, tree):
    maps = [(p, v) for p, v in tree_paths(tree) if isinstance(v, Map)]
    if not maps:
        return None
    p, _ = rng.choice(maps)
    new = rng.choice([Map(), None, [], "", Raw("''"), 0])
    path_set(tree, p, new)
    return f"empty section {path_name(tree, p)} -> {emit_flow(new)}"


def add_unknown_key(rng, tree):
    maps = [(p, v) for p, v in tree_paths(tree) if isinstance(v, Map)] + [((), tree)]
    p, node = rng.choice(maps)
    node.append([rng.choice(["bogus", "extra_key", "seed", "type", "name", ""]), 1])
    return f"add key under {path_name(tree, p) if p else 'top level'}"


def alias_reference(rng, tree):
    """Anchors a value and refers to it elsewhere (a legal alias, typed as the original)."""
    pairs = [(p, v) for p, v in tree_paths(tree) if p[-1][0] == "pair" and not isinstance(v, (Map, list))]
    if len(pairs) < 2:
        return None
    (pa, va), (pb, vb) = rng.sample(pairs, 2)
    path_set(tree, pa, Raw(f"&anchor {emit_flow(va)}"))
    path_set(tree, pb, Raw("*anchor"))
    return f"alias {path_name(tree, pb)} = *anchor of {path_name(tree, pa)} ({emit_flow(va)})"


TREE_MUTATIONS = [
    (mutate_number, 8), (swap_type, 4), (mutate_list, 2), (mutate_string, 2), (drop_key, 3),
    (duplicate_key, 2), (misspell_key, 3), (empty_section, 2), (add_unknown_key, 1),
    (alias_reference, 1),
]


def alias_bomb(levels, width):
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return lines


def text_mutation(rng, text, tree):
    """A mutation of the config's text; returns (text, description)."""
    kinds = ["alias_bomb", "alias_bomb_in_key", "deep_flow", "deep_block", "deep_map", "truncate",
             "byte", "delete_char", "tabs", "nul", "non_utf8", "bom", "crlf", "empty", "comments_only",
             "multi_document", "list_document", "scalar_document", "json", "merge_key", "long_line",
             "huge_int_token", "json_duplicate"]
    kind = rng.choice(kinds)
    if kind == "alias_bomb":
        levels, width = rng.choice([(6, 9), (9, 9), (12, 10), (30, 2)])
        return "\n".join(alias_bomb(levels, width)) + "\n" + text, f"alias bomb ({levels} levels x {width}) as unknown top-level keys"
    if kind == "alias_bomb_in_key":
        levels, width = rng.choice([(8, 9), (10, 10)])
        top = [k for k, _ in tree]
        key = rng.choice(top) if top else "name"
        bomb = alias_bomb(levels, width)
        body = "\n".join(f"  {b}" for b in bomb)
        stripped = "\n".join(line for line in emit_yaml(Map([p for p in tree if p[0] != key])).splitlines())
        return f"{key}:\n{body}\n{stripped}\n", f"alias bomb ({levels} levels x {width}) as the value of {key}"
    if kind == "deep_flow":
        n = rng.choice([100, 1000, 10000, 100000])
        key = rng.choice([k for k, _ in tree] or ["name"])
        body = "[" * n + "]" * n
        return text + f"\n{key}_deep: {body}\n", f"{n}-deep flow list under {key}_deep"
    if kind == "deep_map":
        n = rng.choice([100, 1000, 10000])
        key = rng.choice([k for k, _ in tree] or ["name"])
        body = "{a: " * n + "1" + "}" * n
        rest = emit_yaml(Map([p for p in tree if p[0] != key]))
        return f"{key}: {body}\n{rest}\n", f"{n}-deep flow map as the value of {key}"
    if kind == "deep_block":
        n = rng.choice([100, 1000, 5000])
        lines = [" " * i + f"k{i}:" for i in range(n)] + [" " * n + "x: 1"]
        return text + "\ndeep:\n" + "\n".join(" " + line for line in lines) + "\n", f"{n}-deep block map under deep"
    if kind == "truncate":
        cut = rng.randrange(len(text) + 1)
        return text[:cut], f"text truncated at character {cut} of {len(text)}"
    if kind == "byte":
        i = rng.randrange(max(1, len(text)))
        ch = rng.choice(["{", "[", ":", "&", "*", "!", "|", ">", "%", "@", "`", "\"", "'", "-", "?", "\x7f"])
        return text[:i] + ch + text[i:], f"inserted {ch!r} at character {i}"
    if kind == "delete_char":
        i = rng.randrange(max(1, len(text)))
        return text[:i] + text[i + 1:], f"deleted character {i} ({text[i:i + 1]!r})"
    if kind == "tabs":
        return text.replace("  ", "\t"), "indentation by tabs"
    if kind == "nul":
        i = rng.randrange(max(1, len(text)))
        return text[:i] + "\x00" + text[i:], f"NUL at character {i}"
    if kind == "non_utf8":
        return text.encode() + b"\nname: \xff\xfe\xc3\x28\n", "bytes that are not UTF-8"
    if kind == "bom":
        return "\ufeff" + text, "byte-order mark"
    if kind == "crlf":
        return text.replace("\n", "\r\n"), "CRLF line ends"
    if kind == "empty":
        return rng.choice(["", "\n", "   ", "{}", "[]", "null", "~"]), "empty document"
    if kind == "comments_only":
        return "# nothing\n# here\n", "comments only"
    if kind == "multi_document":
        return text + "\n---\n" + text, "two YAML documents"
    if kind == "list_document":
        return "- " + "\n- ".join(text.splitlines()[:3]) + "\n", "a list at the top level"
    if kind == "scalar_document":
        return rng.choice(["42", "hello", ".inf", "!!binary aGVsbG8="]) + "\n", "a scalar document"
    if kind == "json":
        return json.dumps(to_json(tree), indent=1), "the config as JSON"
    if kind == "json_duplicate":
        data = to_json(tree)
        body = json.dumps(data)
        first_key = next(iter(data), "name")
        return body[:-1] + f', "{first_key}": {json.dumps(data.get(first_key))}' + "}", f"JSON with key {first_key} twice"
    if kind == "merge_key":
        maps = [k for k, v in tree if isinstance(v, Map)]
        if not maps:
            return text + "\n<<: {name: x}\n", "merge key at top level"
        key = rng.choice(maps)
        return f"base: &base {emit_flow(tree.get(key))}\n{text}\n", f"anchored copy of {key} as unknown key base"
    if kind == "long_line":
        return text + "\nname_long: " + "x" * 5_000_000 + "\n", "a 5 MB scalar"
    if kind == "huge_int_token":
        return text + "\nseed: " + "9" * 5000 + "\n", "a 5000-digit seed (duplicate key)"
    return text, "unchanged"


# ---------------------------------------------------------------------------
# Binary inputs: safetensors checkpoints, IDX and CSV data sets, LEAF JSON, journals.

def safetensors_split(data):
    if len(data) < 8:
        return None
    n = struct.unpack("<Q", data[:8])[0]
    if n > len(data) - 8:
        return None
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return n, header, data[8 + n:]


def safetensors_join(header, body, pad=True):
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def mutate_checkpoint(rng, data):
    """Returns (bytes, description) for a safetensors file (or a small JSON checkpoint)."""
    split = safetensors_split(data)
    if split is None:
        return mutate_json_bytes(rng, data)
    n, header, body = split
    tensors = [k for k in header if k != "__metadata__"]
    kind = rng.choice(["flip", "flip_header", "flip_data", "truncate", "header_length", "shape", "dtype",
                       "offsets", "drop_tensor", "add_tensor", "metadata", "drop_metadata", "header_not_object",
                       "append", "empty", "header_not_json", "duplicate_key"])
    if kind == "flip":
        out = bytearray(data)
        spots = []
        for _ in range(rng.choice([1, 1, 4, 64])):
            i = rng.randrange(len(out))
            out[i] ^= rng.randrange(1, 256)
            spots.append(i)
        return bytes(out), f"flipped bytes at {sorted(spots)[:8]}{'...' if len(spots) > 8 else ''} of {len(data)}"
    if kind == "flip_header":
        out = bytearray(data)
        i = 8 + rng.randrange(n)
        out[i] ^= rng.randrange(1, 256)
        return bytes(out), f"flipped header byte {i} ({chr(data[i])!r})"
    if kind == "flip_data":
        if not body:
            return data + b"x", "appended a byte"
        out = bytearray(data)
        i = 8 + n + rng.randrange(len(body))
        out[i] ^= rng.randrange(1, 256)
        return bytes(out), f"flipped data byte {i}"
    if kind == "truncate":
        cut = rng.choice([0, 4, 8, 9, 8 + n // 2, 8 + n, 8 + n + len(body) // 2, len(data) - 1, rng.randrange(len(data))])
        return data[:cut], f"truncated to {cut} of {len(data)} bytes"
    if kind == "header_length":
        value = rng.choice([0, 1, n - 1, n + 1, len(data), 2**31, 2**32, 2**63 - 1, 2**64 - 1, 100_000_000])
        value = max(0, min(value, 2**64 - 1))
        return struct.pack("<Q", value) + data[8:], f"header length {n} -> {value}"
    if kind == "shape" and tensors:
        t = rng.choice(tensors)
        old = header[t].get("shape")
        new = rng.choice([[-1], [], [0], [2**62, 4], [2**63], [2**31, 2**31], [2**64], [1] * 40, "9",
                          [(old or [1])[0] + 1] + list((old or [1])[1:]), list(reversed(old or [1])), [1.5], None])
        header[t]["shape"] = new
        return safetensors_join(header, body), f"tensor {t} shape {old} -> {new}"
    if kind == "dtype" and tensors:
        t = rng.choice(tensors)
        old = header[t].get("dtype")
        new = rng.choice(["F64", "F16", "BF16", "I64", "I8", "U8", "BOOL", "XYZ", "", 5, None])
        header[t]["dtype"] = new
        return safetensors_join(header, body), f"tensor {t} dtype {old} -> {new}"
    if kind == "offsets" and tensors:
        t = rng.choice(tensors)
        old = header[t].get("data_offsets")
        a, b = (old if isinstance(old, list) and len(old) == 2 else [0, 0])
        new = rng.choice([[b, a], [0, 0], [a, b + 4], [a, len(body) + 100], [-1, b], [0, 2**63], [a, 2**64 - 1],
                          [a], [a, b, 0], [a + 1, b + 1], "0-4", None, [1e19, 2e19]])
        header[t]["data_offsets"] = new
        return safetensors_join(header, body), f"tensor {t} data_offsets {old} -> {new}"
    if kind == "drop_tensor" and tensors:
        t = rng.choice(tensors)
        del header[t]
        return safetensors_join(header, body), f"dropped tensor {t}"
    if kind == "add_tensor":
        header["param.999.weight"] = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
        return safetensors_join(header, body), "added an unknown tensor param.999.weight"
    if kind == "metadata" and isinstance(header.get("__metadata__"), dict) and header["__metadata__"]:
        meta = header["__metadata__"]
        k = rng.choice(list(meta))
        old = meta[k]
        new = rng.choice(["", "-1", "1e19", "9223372036854775808", "18446744073709551616", "nan", "garbage",
                          "{", "0", "2147483648", 5, None, "cohort-checkpoint-999"])
        if isinstance(old, str) and old.startswith("{") and rng.random() < 0.5:
            try:
                inner = json.loads(old)
                ik = rng.choice(list(inner)) if isinstance(inner, dict) and inner else None
                if ik is not None:
                    inner[ik] = rng.choice([-1, 1e19, 2**63, None, "x", [], 1e308])
                    meta[k] = json.dumps(inner)
                    return safetensors_join(header, body), f"metadata {k}.{ik} -> {inner[ik]!r}"
            except json.JSONDecodeError:
                pass
        if rng.random() < 0.2:
            del meta[k]
            return safetensors_join(header, body), f"dropped metadata {k}"
        meta[k] = new
        return safetensors_join(header, body), f"metadata {k}: {str(old)[:40]!r} -> {new!r}"
    if kind == "drop_metadata":
        header.pop("__metadata__", None)
        return safetensors_join(header, body), "dropped __metadata__"
    if kind == "header_not_object":
        text = rng.choice([b"[]", b"null", b"1", b'"x"', b"{}"])
        return struct.pack("<Q", len(text)) + text + body, f"header is {text.decode()}"
    if kind == "append":
        return data + bytes(rng.randrange(256) for _ in range(rng.choice([1, 7, 4096]))), "garbage appended"
    if kind == "empty":
        return b"", "empty file"
    if kind == "header_not_json":
        text = b"{" * n
        return struct.pack("<Q", n) + text + body, "header of n '{' bytes"
    if kind == "duplicate_key" and tensors:
        t = tensors[0]
        raw = data[8:8 + n].rstrip(b" ")
        extra = b',"' + t.encode() + b'":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
        text = raw[:-1] + extra
        return struct.pack("<Q", len(text)) + text + body, f"tensor {t} twice in the header"
    return data[: len(data) // 2], f"truncated to {len(data) // 2} bytes"


def mutate_json_value(rng, value):
    """Changes one scalar inside parsed JSON; returns a description."""
    spots = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                spots.append((node, k, path + [k]))
                walk(v, path + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                spots.append((node, i, path + [i]))
                walk(v, path + [i])

    walk(value, [])
    if not spots:
        return None
    parent, key, path = rng.choice(spots)
    old = parent[key]
    new = rng.choice([-1, 0, 1e19, 2**63, 2**64, -2**63 - 1, 1e308, 1e-300, "x", "", None, True, [], {},
                      [1] * 3, "NaN", 9007199254740993, 2147483648, 1.5])
    parent[key] = new
    return f"{'.'.join(map(str, path))}: {json.dumps(old)[:40]} -> {json.dumps(new)}"


def mutate_json_bytes(rng, data):
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    r = rng.random()
    if value is not None and r < 0.6:
        desc = mutate_json_value(rng, value)
        if desc:
            text = json.dumps(value)
            if rng.random() < 0.2:
                text = text.replace("-1", "NaN", 1) if "-1" in text else text.replace("0", "Infinity", 1)
                desc += " (a NaN/Infinity token)"
            return text.encode(), desc
    if r < 0.75:
        cut = rng.randrange(len(data) + 1)
        return data[:cut], f"truncated to {cut} of {len(data)} bytes"
    if r < 0.85:
        return rng.choice([b"", b"{", b"[]", b"null", b"\xff\xfe", b"{}" ]), "replaced by a fragment"
    if r < 0.92:
        depth = rng.choice([1000, 100000])
        return b"[" * depth + b"]" * depth, f"{depth}-deep JSON list"
    out = bytearray(data or b"{}")
    i = rng.randrange(len(out))
    out[i] ^= rng.randrange(1, 256)
    return bytes(out), f"flipped byte {i}"


def mutate_journal(rng, data):
    """Returns (bytes, description) for a JSON Lines file."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    kind = rng.choice(["truncate_line", "truncate_mid", "garbage", "swap", "reverse", "duplicate", "duplicate_all",
                       "delete", "delete_first", "field", "empty", "only_first", "huge_line", "non_utf8",
                       "blank_lines", "crlf", "drop_tail"])
    if not lines:
        return b"garbage\n", "garbage line in an empty journal"
    join = lambda ls: b"\n".join(ls) + b"\n"
    if kind == "truncate_line":
        i = rng.randrange(len(lines))
        cut = rng.randrange(len(lines[i]) + 1)
        return b"\n".join(lines[:i] + [lines[i][:cut]]), f"cut inside line {i + 1} at byte {cut} (no lines after)"
    if kind == "truncate_mid":
        i = rng.randrange(len(lines))
        cut = rng.randrange(1, max(2, len(lines[i])))
        lines[i] = lines[i][:cut]
        return join(lines), f"line {i + 1} of {len(lines)} torn at byte {cut}, later lines kept"
    if kind == "garbage":
        i = rng.randrange(len(lines) + 1)
        g = rng.choice([b"garbage", b"{", b"[]", b"null", b"42", b'{"event":"bogus"}', b'{"event":"start"}',
                        b'{"event":"result","trial":99999999999}', b'{"event":"round","arm":-1,"round":1e19}',
                        b"\x00\x01\x02", b'{"event":"end"}', b'{"event":"resume","requeued":-5}',
                        b'{"event":"result","trial":0,"rung":0,"resource":1,"metric":NaN}'])
        lines.insert(i, g)
        return join(lines), f"inserted {g[:50]!r} before line {i + 1}"
    if kind == "swap" and len(lines) > 1:
        i, j = sorted(rng.sample(range(len(lines)), 2))
        lines[i], lines[j] = lines[j], lines[i]
        return join(lines), f"swapped lines {i + 1} and {j + 1}"
    if kind == "reverse":
        return join(lines[::-1]), "lines in reverse order"
    if kind == "duplicate":
        i = rng.randrange(len(lines))
        lines.insert(i + 1, lines[i])
        return join(lines), f"line {i + 1} twice"
    if kind == "duplicate_all":
        return join(lines + lines), "every line twice (appended again)"
    if kind == "delete" and len(lines) > 1:
        i = rng.randrange(len(lines))
        del lines[i]
        return join(lines), f"deleted line {i + 1}"
    if kind == "delete_first":
        return join(lines[1:]), "deleted the first line"
    if kind == "field":
        for _ in range(10):
            i = rng.randrange(len(lines))
            try:
                value = json.loads(lines[i])
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            desc = mutate_json_value(rng, value)
            if desc:
                lines[i] = json.dumps(value, separators=(",", ":")).encode()
                return join(lines), f"line {i + 1}: {desc}"
        return join(lines), "unchanged"
    if kind == "empty":
        return rng.choice([b"", b"\n", b"   \n"]), "empty journal"
    if kind == "only_first":
        return join(lines[:1]), "only the first line"
    if kind == "huge_line":
        i = rng.randrange(len(lines) + 1)
        lines.insert(i, b'{"event":"note","x":"' + b"y" * 3_000_000 + b'"}')
        return join(lines), f"a 3 MB line before line {i + 1}"
    if kind == "non_utf8":
        i = rng.randrange(len(lines))
        lines[i] = lines[i][:10] + b"\xff\xfe" + lines[i][10:]
        return join(lines), f"bytes that are not UTF-8 in line {i + 1}"
    if kind == "blank_lines":
        return b"\n\n".join(lines) + b"\n\n", "a blank line after every line"
    if kind == "crlf":
        return b"\r\n".join(lines) + b"\r\n", "CRLF line ends"
    keep = rng.randrange(1, len(lines) + 1)
    return join(lines[:keep]), f"kept the first {keep} of {len(lines)} lines"


def idx_bytes(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def write_idx_dataset(directory, rng, train=1200, test=300, side=28, classes=10):
    """A small MNIST-like IDX directory: class-dependent stripes plus noise."""
    os.makedirs(directory, exist_ok=True)
    for split, count in (("train", train), ("t10k", test)):
        labels = bytes(rng.randrange(classes) for _ in range(count))
        pixels = bytearray()
        for label in labels:
            row = bytearray(rng.randrange(60) for _ in range(side * side))
            for r in range(label, side, classes):
                for c in range(side):
                    row[r * side + c] = 200 + rng.randrange(50)
            pixels += row
        with open(os.path.join(directory, f"{split}-images-idx3-ubyte"), "wb") as f:
            f.write(idx_bytes(0x08, [count, side, side], bytes(pixels)))
        with open(os.path.join(directory, f"{split}-labels-idx1-ubyte"), "wb") as f:
            f.write(idx_bytes(0x08, [count], labels))


def mutate_idx_directory(rng, directory):
    """Mutates one file of an IDX directory in place; returns a description."""
    names = sorted(os.listdir(directory))
    name = rng.choice(names)
    path = os.path.join(directory, name)
    data = open(path, "rb").read()
    ndim = data[3]
    dims = [struct.unpack(">I", data[4 + 4 * i: 8 + 4 * i])[0] for i in range(ndim)]
    payload = data[4 + 4 * ndim:]
    kind = rng.choice(["type", "ndim", "dim", "count_mismatch", "truncate", "extra", "labels_range", "swap",
                       "empty", "delete", "gzip_garbage", "gzip_truncated", "magic", "header_only", "gzip_ok_huge_dims"])
    desc = f"{name}: "
    if kind == "type":
        code = rng.choice([0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF])
        out = data[:2] + bytes([code]) + data[3:]
        desc += f"type code 0x08 -> 0x{code:02X}"
    elif kind == "ndim":
        nd = rng.choice([0, 1, 2, 4, 255])
        out = data[:3] + bytes([nd]) + data[4:]
        desc += f"dimension count {ndim} -> {nd}"
    elif kind == "dim":
        i = rng.randrange(ndim)
        value = rng.choice([0, 1, 2**31 - 1, 2**32 - 1, 65536, 100000, dims[i] + 1, dims[i] - 1])
        dims[i] = value
        out = idx_bytes(data[2], dims, payload)
        desc += f"dimension {i} -> {value}"
    elif kind == "count_mismatch":
        dims[0] += rng.choice([1, -1, 1000])
        dims[0] = max(dims[0], 0)
        out = idx_bytes(data[2], dims, payload)
        desc += f"sample count -> {dims[0]} (the other file disagrees)"
    elif kind == "truncate":
        cut = rng.choice([0, 3, 4 + 4 * ndim - 1, 4 + 4 * ndim, len(data) // 2, len(data) - 1])
        out = data[:cut]
        desc += f"truncated to {cut} of {len(data)} bytes"
    elif kind == "extra":
        out = data + b"\x00" * rng.choice([1, 784, 100000])
        desc += "bytes appended"
    elif kind == "labels_range":
        if "labels" not in name:
            path = os.path.join(directory, name.replace("images-idx3", "labels-idx1"))
            data = open(path, "rb").read()
            desc = f"{os.path.basename(path)}: "
        value = rng.choice([10, 11, 255, 128])
        out = bytearray(data)
        out[8 + rng.randrange(len(data) - 8)] = value
        out = bytes(out)
        desc += f"one label -> {value}"
    elif kind == "swap":
        other = rng.choice([n for n in names if n != name])
        os.replace(path, path + ".tmp")
        os.replace(os.path.join(directory, other), path)
        os.replace(path + ".tmp", os.path.join(directory, other))
        return f"swapped {name} and {other}"
    elif kind == "empty":
        out = b""
        desc += "empty file"
    elif kind == "delete":
        os.remove(path)
        return f"deleted {name}"
    elif kind == "magic":
        out = bytes([rng.randrange(1, 256), 0]) + data[2:]
        desc += "first magic byte not zero"
    elif kind == "header_only":
        out = data[: 4 + 4 * ndim]
        desc += "header only"
    elif kind in ("gzip_garbage", "gzip_truncated", "gzip_ok_huge_dims"):
        os.remove(path)
        path = path + ".gz"
        if kind == "gzip_garbage":
            z = bytearray(gzip.compress(data))
            i = 10 + rng.randrange(len(z) - 10)
            z[i] ^= 0xFF
            out = bytes(z)
            desc += f"gzip with byte {i} flipped"
        elif kind == "gzip_truncated":
            z = gzip.compress(data)
            out = z[: len(z) // 2]
            desc += "gzip cut in half"
        else:
            dims = [1] + [2**16] * (ndim - 1) if ndim > 1 else [2**31 - 1]
            out = gzip.compress(idx_bytes(data[2], dims, b"\x00" * 1000))
            desc += f"gzip of a header claiming dims {dims}"
    else:
        out = data
    with open(path, "wb") as f:
        f.write(out)
    return desc


def csv_rows(rng, rows=160, features=5, classes=3):
    out = []
    for _ in range(rows):
        label = rng.randrange(classes)
        out.append([f"{rng.gauss(label, 1):.4f}" for _ in range(features)] + [str(label)])
    return out


def mutated_csv(rng):
    """A CSV data set with one defect; returns (bytes, file name, description)."""
    rows = csv_rows(rng)
    header = None
    name = "data.csv"
    kind = rng.choice(["huge_label", "negative_label", "nan_feature", "inf_feature", "nan_label", "ragged_more",
                       "ragged_less", "empty", "header_only", "blank", "one_row", "one_column", "text_feature",
                       "unterminated_quote", "long_line", "crlf", "nul", "bom", "fraction_label", "one_class",
                       "gzip_garbage", "gzip_ok", "all_same", "semicolons", "header", "exp_label", "huge_feature"])
    i = rng.randrange(len(rows))
    desc = kind
    if kind == "huge_label":
        rows[i][-1] = rng.choice(["1e19", "9223372036854775807", "9223372036854775808", "2147483647", "1000000",
                                  "18446744073709551616", "1.7976931348623157e308"])
        desc = f"label of row {i + 1} -> {rows[i][-1]}"
    elif kind == "negative_label":
        rows[i][-1] = rng.choice(["-1", "-0", "-9223372036854775808"])
        desc = f"label of row {i + 1} -> {rows[i][-1]}"
    elif kind == "nan_feature":
        rows[i][0] = rng.choice(["nan", "NaN", "-nan"])
        desc = f"feature of row {i + 1} -> {rows[i][0]}"
    elif kind == "inf_feature":
        rows[i][1] = rng.choice(["inf", "-inf", "Infinity", "1e39"])
        desc = f"feature of row {i + 1} -> {rows[i][1]}"
    elif kind == "huge_feature":
        rows[i][1] = rng.choice(["3.4e38", "1e308", "1e-320"])
        desc = f"feature of row {i + 1} -> {rows[i][1]}"
    elif kind == "nan_label":
        rows[i][-1] = rng.choice(["nan", "inf", ""])
        desc = f"label of row {i + 1} -> {rows[i][-1]!r}"
    elif kind == "ragged_more":
        rows[i].append("1.0")
        desc = f"row {i + 1} has one more field"
    elif kind == "ragged_less":
        rows[i] = rows[i][:-2]
        desc = f"row {i + 1} has two fewer fields"
    elif kind == "fraction_label":
        rows[i][-1] = "1.5"
        desc = f"label of row {i + 1} -> 1.5"
    elif kind == "exp_label":
        rows[i][-1] = "1e2"
        desc = f"label of row {i + 1} -> 1e2"
    elif kind == "text_feature":
        rows[i][2] = "abc"
        desc = f"feature of row {i + 1} -> abc"
    elif kind == "one_class":
        for r in rows:
            r[-1] = "0"
        desc = "every label 0"
    elif kind == "all_same":
        rows = [rows[0]] * len(rows)
        desc = "every row identical"
    elif kind == "header":
        header = [f"f{j}" for j in range(len(rows[0]) - 1)] + ["label"]
        rows[i][-1] = "label"
        desc = f"header row, and row {i + 1}'s label is the word label"
    text = "\n".join(",".join(r) for r in ([header] if header else []) + rows) + "\n"
    if kind == "empty":
        text = ""
    elif kind == "header_only":
        text = "a,b,c,label\n"
    elif kind == "blank":
        text = "\n\n  \n"
    elif kind == "one_row":
        text = ",".join(rows[0]) + "\n"
    elif kind == "one_column":
        text = "\n".join(r[-1] for r in rows) + "\n"
    elif kind == "unterminated_quote":
        text = text.replace(",", ',"', 1)
    elif kind == "long_line":
        text = ",".join(["0.5"] * 200000) + ",1\n" + text
        desc = "a first row of 200001 fields"
    elif kind == "crlf":
        text = text.replace("\n", "\r\n")
    elif kind == "nul":
        text = text[:50] + "\x00" + text[50:]
    elif kind == "bom":
        text = "\ufeff" + text
    elif kind == "semicolons":
        text = text.replace(",", ";")
    data = text.encode()
    if kind == "gzip_garbage":
        z = bytearray(gzip.compress(data))
        z[len(z) // 2] ^= 0xFF
        data, name = bytes(z), "data.csv.gz"
        desc = "gzip with a flipped byte"
    elif kind == "gzip_ok":
        data, name = gzip.compress(data), "data.csv.gz"
        desc = "a valid gzip CSV"
    return data, name, desc


def leaf_document(rng, users=4, samples=12, features=6, classes=3):
    names = [f"u{i}" for i in range(users)]
    user_data = {}
    for u in names:
        ys = [rng.randrange(classes) for _ in range(samples)]
        user_data[u] = {"x": [[round(rng.gauss(y, 1), 3) for _ in range(features)] for y in ys], "y": ys}
    return {"users": names, "num_samples": [samples] * users, "user_data": user_data}


def mutated_leaf(rng):
    """Train and test LEAF documents, one of them defective: (train, test, description)."""
    train, test = leaf_document(rng), leaf_document(rng, samples=5)
    target = train if rng.random() < 0.7 else test
    which = "train" if target is train else "test"
    kind = rng.choice(["users_mismatch", "num_samples", "ragged_x", "x_not_list", "y_range", "y_negative", "y_fraction",
                       "missing_user", "empty_users", "duplicate_user", "deep_x", "huge_number", "missing_key",
                       "y_length", "json_value", "no_samples", "string_x"])
    u = rng.choice(target["users"])
    if kind == "users_mismatch":
        target["users"].append("ghost")
        desc = "a user in users without user_data"
    elif kind == "num_samples":
        v = rng.choice([-1, 0, 2**63, 1e19, 10**6, "x"])
        target["num_samples"][0] = v
        desc = f"num_samples[0] -> {v}"
    elif kind == "ragged_x":
        target["user_data"][u]["x"][0].append(1.0)
        desc = f"{u}: one row of x longer"
    elif kind == "x_not_list":
        target["user_data"][u]["x"] = rng.choice([5, "x", None, {}])
        desc = f"{u}: x is {target['user_data'][u]['x']!r}"
    elif kind == "y_range":
        v = rng.choice([3, 1000, 2**31, 2**63, 1e19, 10**30])
        target["user_data"][u]["y"][0] = v
        desc = f"{u}: y[0] -> {v}"
    elif kind == "y_negative":
        target["user_data"][u]["y"][0] = -1
        desc = f"{u}: y[0] -> -1"
    elif kind == "y_fraction":
        target["user_data"][u]["y"][0] = 1.5
        desc = f"{u}: y[0] -> 1.5"
    elif kind == "missing_user":
        del target["user_data"][u]
        desc = f"user_data lacks {u}"
    elif kind == "empty_users":
        target.update(users=[], num_samples=[], user_data={})
        desc = "no users"
    elif kind == "duplicate_user":
        target["users"].append(u)
        target["num_samples"].append(target["num_samples"][0])
        desc = f"{u} twice in users"
    elif kind == "deep_x":
        x = 1.0
        for _ in range(rng.choice([50, 5000])):
            x = [x]
        target["user_data"][u]["x"][0] = x
        desc = f"{u}: x[0] deeply nested"
    elif kind == "huge_number":
        target["user_data"][u]["x"][0][0] = "HUGE"
        desc = f"{u}: x[0][0] -> 1e999"
    elif kind == "missing_key":
        k = rng.choice(["users", "num_samples", "user_data"])
        del target[k]
        desc = f"no {k}"
    elif kind == "y_length":
        target["user_data"][u]["y"].pop()
        desc = f"{u}: y one shorter than x"
    elif kind == "no_samples":
        target["user_data"][u] = {"x": [], "y": []}
        target["num_samples"][target["users"].index(u)] = 0
        desc = f"{u} has no samples"
    elif kind == "string_x":
        target["user_data"][u]["x"][0][0] = "1.0"
        desc = f"{u}: x[0][0] is a string"
    else:
        target["user_data"][u]["x"][0][0] = "NAN"
        desc = f"{u}: x[0][0] -> NaN token"
    dump = lambda d: json.dumps(d).replace('"HUGE"', "1e999").replace('"NAN"', "NaN").encode()
    return dump(train), dump(test), f"{which}: {desc}"


# ---------------------------------------------------------------------------
# Files a run directory must keep readable.

def file_problem(path):
    """Why a run-directory file is unreadable, or None."""
    try:
        data = open(path, "rb").read()
    except OSError as e:
        return f"cannot read: {e}"
    name = os.path.basename(path)
    if name.endswith(".jsonl"):
        lines = data.split(b"\n")
        complete = lines[:-1]
        for i, line in enumerate(complete):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return f"line {i + 1} is not JSON: {line[:80]!r}"
        return None
    if name.endswith(".json"):
        try:
            json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return f"not JSON: {e}"
        return None
    if name.endswith(".safetensors") or name.endswith(".ckpt"):
        if data[:1] == b"{":
            try:
                json.loads(data)
                return None
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                return f"not JSON: {e}"
        split = safetensors_split(data)
        if split is None:
            return "not a safetensors file (header)"
        n, header, body = split
        for k, v in header.items():
            if k == "__metadata__":
                continue
            try:
                a, b = v["data_offsets"]
            except (TypeError, KeyError, ValueError):
                return f"tensor {k} has no offsets"
            if not 0 <= a <= b <= len(body):
                return f"tensor {k} offsets {a}..{b} beyond {len(body)} data bytes"
        return None
    return None


def readable_files(directory, skip=()):
    found = {}
    for base, _, files in os.walk(directory):
        for f in files:
            p = os.path.join(base, f)
            rel = os.path.relpath(p, directory)
            if rel in skip or f == ".lock":
                continue
            if file_problem(p) is None:
                found[rel] = True
    return found


def integrity_problems(directory, before):
    """Files that were readable before and are missing or unreadable now."""
    problems = []
    for rel in before:
        p = os.path.join(directory, rel)
        if not os.path.exists(p):
            if os.path.basename(rel) in ("events.jsonl", "config.yaml", "best.json", "summary.json"):
                problems.append(f"{rel} disappeared")
            continue
        why = file_problem(p)
        if why:
            problems.append(f"{rel}: {why}")
    return problems


# ---------------------------------------------------------------------------
# Cases.

class Step:
    """One process to run: args after `cohort`, how many ranks (0 = no mpirun)."""

    def __init__(self, args, np=0, kill_after=None, kill_signal=None, expect_ok=False):
        self.args = args
        self.np = np
        self.kill_after = kill_after
        self.kill_signal = kill_signal
        self.expect_ok = expect_ok

    def argv(self, binary):
        if self.np:
            return [MPIRUN, "-np", str(self.np), "cohort"] + self.args
        return [binary] + self.args


class Case:
    def __init__(self, kind, description, steps, files=None, setup=None, run_dir=None, skip_integrity=(),
                 audit=False, nonfinite=False):
        self.kind = kind
        self.description = description
        self.steps = steps
        self.files = files or {}          # relative path -> bytes
        self.setup = setup                # callable(case_dir) for copies and mutations in place
        self.run_dir = run_dir            # relative path whose files must stay readable
        self.skip_integrity = set(skip_integrity)
        self.audit = audit                # run `tune --audit` on run_dir after a clean resume
        self.nonfinite = nonfinite

    @property
    def slots(self):
        return 2 if any(s.np for s in self.steps) else 1


def shrink(tree, command, shared):
    """Budgets small enough that a case ends in seconds; fashion-mnist swapped for a tiny copy."""
    def cap(dotted, limit):
        v = dotted_get(tree, dotted)
        if is_number(v) and v > limit:
            dotted_set(tree, dotted, limit)

    tiny = "shared/idx"
    if command == "tune":
        cap("scheduler.max_trials", 6)
        if not tree.get("scheduler", Map()).has("max_trials"):
            dotted_set(tree, "scheduler.max_trials", 6, only_if_present=False)
        if is_number(dotted_get(tree, "scheduler.min_resource")) and dotted_get(tree, "scheduler.min_resource") >= 10:
            dotted_set(tree, "scheduler.min_resource", 5)
            dotted_set(tree, "scheduler.max_resource", 15)
        else:
            cap("scheduler.max_resource", 9 if dotted_get(tree, "trainable.type") == "surrogate" else 3)
        cap("scheduler.time_limit", 8)
        cap("farm.job_timeout", 15)
        dotted_set(tree, "trainable.seconds_per_unit", 0)
        if dotted_get(tree, "trainable.dataset") in ("fashion-mnist", "mnist"):
            dotted_set(tree, "trainable.dataset", tiny)
    elif command == "fed":
        cap("rounds", 2)
        cap("data.clients", 20)
        cap("data.held_out_clients", 2)
        cap("sampling.clients_per_round", 4)
        cap("local.epochs", 1)
        cap("evaluation.every", 1)
        cap("search.arms", 2)
        cap("fedex.sample.configurations", 4)
        for space in ("search.space", "fedex.sample.space"):
            for key in ("local.epochs", "epochs"):
                node = dotted_get(tree, space)
                if isinstance(node, Map) and isinstance(node.get(key), Map):
                    node.get(key).set("high", 2)
        if dotted_get(tree, "data.source") in ("fashion-mnist", "mnist"):
            dotted_set(tree, "data.source", tiny)
    elif command == "nas":
        cap("search.samples", 300)
        cap("search.epochs", 1)
        cap("strategy.warmup_epochs", 0)
        cap("strategy.architectures", 4)
        cap("strategy.score_batches", 1)
        cap("strategy.score_batch_size", 32)
        cap("strategy.rescore_top", 2)
        cap("retrain.top", 1)
        cap("retrain.samples", 300)
        cap("retrain.epochs", 1)
        if tree.get("dataset") in ("fashion-mnist", "mnist"):
            tree.set("dataset", tiny)
    elif command == "train":
        cap("epochs", 1)
        if tree.get("dataset") in ("fashion-mnist", "mnist"):
            tree.set("dataset", tiny)
    return tree


def example_command(tree):
    keys = {k for k, _ in tree}
    if "rounds" in keys or "data" in keys:
        return "fed"
    if "network" in keys or "strategy" in keys:
        return "nas"
    if "scheduler" in keys or "trainable" in keys:
        return "tune"
    return "train"


ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def config_steps(rng, command, config, name):
    """How a config of this command is run."""
    r = rng.random()
    if command == "tune":
        surrogate = "type: surrogate" in open(os.path.join(EXAMPLES, name)).read()
        if r < 0.65:
            return [Step(["tune", "--config", config, "--out", "run", "--workers", "1", "--quiet", "--no-fsync"])]
        if r < 0.75:
            return [Step(["tune", "--config", config, "--out", "run", "--quiet"], np=2)]
        if r < 0.8:
            return [Step(["tune", "--config", config, "--out", "run", "--quiet"], np=3)]
        if r < 0.92 and surrogate:
            return [Step(["tune", "--config", config, "--simulate-workers", "3", "--out", "run", "--quiet"])]
        if surrogate:
            return [Step(["bench", "sim-compare", "--config", config, "--schedulers", "asha", "--workers", "3",
                          "--seeds", "1", "--time-limit", "2"])]
        return [Step(["tune", "--config", config, "--out", "run", "--workers", "2", "--quiet"])]
    if command == "fed":
        if r < 0.7:
            return [Step(["fed", "--config", config, "--out", "run", "--quiet", "--no-fsync"], np=2)]
        if r < 0.8:
            return [Step(["fed", "--config", config, "--out", "run", "--quiet"], np=3)]
        if r < 0.92:
            return [Step(["fed", "--config", config, "--out", "run", "--quiet"])]
        return [Step(["fed", "--config", config, "--export-leaf", "leaf"])]
    if command == "nas":
        if r < 0.45:
            return [Step(["nas", "search", "--config", config, "--out", "run", "--quiet", "--skip-retrain"], np=2)]
        if r < 0.65:
            return [Step(["nas", "search", "--config", config, "--out", "run", "--quiet"], np=2)]
        if r < 0.7:
            return [Step(["nas", "search", "--config", config, "--out", "run", "--quiet", "--workers", "1"])]
        if r < 0.85:
            return [Step(["nas", "retrain", "--config", config, "--arch", ARCH, "--epochs", "1", "--quiet"])]
        return [Step(["nas", "bench", "--config", config, "--steps", "2"])]
    if r < 0.75:
        return [Step(["train", "--config", config, "--quiet"])]
    if r < 0.9:
        return [Step(["train", "--config", config, "--quiet", "--checkpoint-out", "ck.safetensors"])]
    return [Step(["train", "--config", config, "--quiet"], np=2)]


def config_case(rng, examples):
    name = rng.choice(sorted(examples))
    text = open(os.path.join(EXAMPLES, name)).read()
    tree = parse_yaml(text)
    command = example_command(tree)
    shrink(tree, command, None)
    descriptions = []
    if rng.random() < 0.25:
        body, desc = text_mutation(rng, emit_yaml(tree) + "\n", tree)
        descriptions.append(desc)
    else:
        ops, weights = zip(*TREE_MUTATIONS)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            for _attempt in range(5):
                desc = rng.choices(ops, weights)[0](rng, tree)
                if desc:
                    descriptions.append(desc)
                    break
        body = emit_yaml(tree) + "\n"
    data = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    ext = "json" if "as JSON" in " ".join(descriptions) or "JSON with" in " ".join(descriptions) else "yaml"
    config = f"config.{ext}"
    steps = config_steps(rng, command, config, name)
    nonfinite = any(t in " ".join(descriptions) for t in (".inf", ".nan", "1e400"))
    return Case("config", f"{name} ({command}): " + "; ".join(descriptions), steps, files={config: data},
                nonfinite=nonfinite)


def copy_prepared(shared_name, destination):
    def setup(case_dir):
        shutil.copytree(os.path.join(case_dir, "shared", shared_name), os.path.join(case_dir, destination), symlinks=True)
    return setup


def resume_truncation(lines, predicate):
    """Journal lines before the first line that predicate accepts (so a resume has work left)."""
    for i, line in enumerate(lines):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if predicate(event):
            return lines[:i]
    return lines


def checkpoint_case(rng, prepared):
    target = rng.choice(["train", "train", "train_cnn", "tune", "tune", "fed", "fed", "nas_retrained"])
    if target in ("train", "train_cnn"):
        source = prepared[f"{target}_checkpoint"]
        data, desc = mutate_checkpoint(rng, source)
        model = ["--model", "cnn", "--filters", "4,8"] if target == "train_cnn" else []
        step = Step(["train", "--dataset", "digits", *model, "--epochs", "2", "--resume-from", "ck.safetensors",
                     "--checkpoint-out", "out.safetensors", "--quiet"], np=2 if rng.random() < 0.15 else 0)
        return Case("checkpoint", f"train --resume-from ({target}): {desc}", [step], files={"ck.safetensors": data})
    if target == "nas_retrained":
        data, desc = mutate_checkpoint(rng, prepared["nas_retrained"])
        return Case("checkpoint", f"nas retrained.safetensors for report: {desc}",
                    [Step(["report", "run", "--out", "report.html"])],
                    setup=lambda d: (copy_prepared("nas-run", "run")(d),
                                     open(os.path.join(d, "run", "retrained.safetensors"), "wb").write(data)),
                    run_dir="run", skip_integrity={"retrained.safetensors"})
    if target == "tune":
        journal = prepared["tune_journal"].splitlines(keepends=True)
        # Resume just before trial 1's promotion, so its rung-0 checkpoint is read.
        kept = resume_truncation(journal, lambda e: e.get("event") == "start" and e.get("rung", 0) > 0)
        ckpts = prepared["tune_checkpoints"]
        rel = rng.choice([p for p in ckpts if p.endswith("r-1.ckpt")])
        data, desc = mutate_checkpoint(rng, ckpts[rel])

        def setup(d):
            copy_prepared("tune-run", "run")(d)
            with open(os.path.join(d, "run", "events.jsonl"), "wb") as f:
                f.write(b"".join(kept))
            for p in ckpts:
                if not p.endswith("r-1.ckpt"):
                    os.remove(os.path.join(d, "run", p))
            with open(os.path.join(d, "run", rel), "wb") as f:
                f.write(data)
        np = rng.choice([0, 0, 0, 2, 3])
        args = ["tune", "--resume", "--out", "run", "--quiet", "--no-fsync"] + (["--workers", "1"] if not np else [])
        return Case("checkpoint", f"tune --resume, {rel}: {desc}", [Step(args, np=np)], setup=setup, run_dir="run",
                    skip_integrity={rel})
    journal = prepared["fed_journal"].splitlines(keepends=True)
    keep_rounds = rng.choice([1, 2, 3])
    kept = resume_truncation(journal, lambda e: e.get("event") in ("result", "end")
                             or (e.get("event") == "round" and e.get("round", 0) > keep_rounds))
    data, desc = mutate_checkpoint(rng, prepared["fed_checkpoint"])

    def setup(d):
        copy_prepared("fed-run", "run")(d)
        with open(os.path.join(d, "run", "events.jsonl"), "wb") as f:
            f.write(b"".join(kept))
        with open(os.path.join(d, "run", "checkpoints", "arm-0000.safetensors"), "wb") as f:
            f.write(data)
    return Case("checkpoint", f"fed --resume after {keep_rounds} journaled rounds, arm-0000.safetensors: {desc}",
                [Step(["fed", "--resume", "--out", "run", "--quiet", "--no-fsync"], np=2)], setup=setup,
                run_dir="run", skip_integrity={"checkpoints/arm-0000.safetensors"})


def data_case(rng, prepared):
    kind = rng.choice(["idx", "idx", "csv", "csv", "csv", "leaf", "leaf"])
    if kind == "idx":
        holder = {}

        def setup(d):
            shutil.copytree(os.path.join(d, "shared", "idx"), os.path.join(d, "idx"))
            holder["desc"] = mutate_idx_directory(random.Random(seed_text), os.path.join(d, "idx"))
        seed_text = f"{rng.random()}"
        desc = mutate_idx_directory(random.Random(seed_text), _scratch_idx(prepared))
        use = rng.random()
        if use < 0.6:
            steps = [Step(["train", "--dataset", "idx", "--epochs", "1", "--quiet"])]
        elif use < 0.75:
            steps = [Step(["train", "--dataset", "idx", "--model", "cnn", "--filters", "2,2", "--epochs", "1", "--quiet"])]
        elif use < 0.9:
            files = {"fed.yaml": f"name: f\nseed: 1\nrounds: 1\ndata: {{source: idx, clients: 8, partition: iid}}\n"
                                 f"model: {{type: mlp, hidden: [8]}}\nsampling: {{clients_per_round: 2}}\n"
                                 f"local: {{epochs: 1, batch_size: 16, learning_rate: 0.1}}\n".encode()}
            return Case("data", f"IDX via fed: {desc}", [Step(["fed", "--config", "fed.yaml", "--out", "run", "--quiet"], np=2)],
                        files=files, setup=setup)
        else:
            files = {"tune.yaml": b"name: t\nseed: 1\nmetric: val_accuracy\nmode: max\n"
                                  b"scheduler: {type: asha, eta: 3, min_resource: 1, max_resource: 1, max_trials: 2}\n"
                                  b"trainable: {type: mlp, dataset: idx, resource: epochs, validation_fraction: 0.2}\n"
                                  b"space:\n  learning_rate: {type: loguniform, low: 1.0e-3, high: 1.0}\n"}
            return Case("data", f"IDX via tune: {desc}", [Step(["tune", "--config", "tune.yaml", "--out", "run", "--workers", "1", "--quiet"])],
                        files=files, setup=setup)
        return Case("data", f"IDX: {desc}", steps, setup=setup)
    if kind == "csv":
        data, name, desc = mutated_csv(rng)
        use = rng.random()
        if use < 0.7:
            steps = [Step(["train", "--dataset", name, "--epochs", "1", "--quiet"])]
            return Case("data", f"CSV {name}: {desc}", steps, files={name: data})
        fed = (f"name: f\nseed: 1\nrounds: 1\ndata: {{source: {name}, clients: 4, partition: iid}}\n"
               f"model: {{type: logistic}}\nsampling: {{clients_per_round: 2}}\n"
               f"local: {{epochs: 1, batch_size: 8, learning_rate: 0.1}}\n").encode()
        return Case("data", f"CSV {name} via fed: {desc}", [Step(["fed", "--config", "fed.yaml", "--out", "run", "--quiet"], np=2)],
                    files={name: data, "fed.yaml": fed})
    train, test, desc = mutated_leaf(rng)
    extra = rng.choice(["", "  classes: 3\n", "  sample_shape: [6]\n", "  sample_shape: [1, 28, 28]\n", "  classes: 2\n",
                        "  classes: 9223372036854775807\n", "  sample_shape: [-6]\n", "  sample_shape: [0]\n",
                        "  sample_shape: [2147483648, 2147483648]\n"])
    model = rng.choice(["{type: logistic}", "{type: mlp, hidden: [4]}", "{type: cnn}"])
    fed = (f"name: leaf\nseed: 1\nrounds: 2\ndata:\n  source: leaf\n  train: leaf/train\n  test: leaf/test\n{extra}"
           f"model: {model}\nsampling: {{clients_per_round: 2}}\n"
           f"local: {{epochs: 1, batch_size: 4, learning_rate: 0.1}}\nevaluation: {{every: 1}}\n").encode()
    files = {"leaf/train/data.json": train, "leaf/test/data.json": test, "fed.yaml": fed}
    steps = [Step(["fed", "--config", "fed.yaml", "--out", "run", "--quiet"], np=rng.choice([2, 2, 0]))]
    return Case("data", f"LEAF ({extra.strip() or 'no classes/shape'}; model {model}): {desc}", steps, files=files)


_scratch_lock = threading.Lock()


def _scratch_idx(prepared):
    """A throwaway copy of the IDX set, only to describe a mutation before its case runs."""
    with _scratch_lock:
        scratch = os.path.join(prepared["work"], "scratch-idx")
        remove_tree(scratch, ignore_errors=True)
        shutil.copytree(prepared["idx"], scratch)
        return scratch


def journal_case(rng, prepared):
    target = rng.choice(["tune", "tune", "tune", "fed", "fed", "nas"])
    if target == "tune":
        files = ["events.jsonl", "events.jsonl", "events.jsonl", "best.json", "config.yaml"]
        rel = rng.choice(files)
        source_dir = "tune-run"
        commands = [
            (["tune", "--resume", "--out", "run", "--workers", "1", "--quiet", "--no-fsync"], 0),
            (["tune", "--resume", "--out", "run", "--quiet"], 2),
            (["tune", "--audit", "--out", "run"], 0),
            (["report", "run", "--out", "report.html"], 0),
            (["bench", "agreement", "--simulated", "sim", "--real", "run"], 0),
            (["bench", "scaling", "run", "sim", "--target", "0.5"], 0),
        ]
    elif target == "fed":
        rel = rng.choice(["events.jsonl", "events.jsonl", "summary.json", "config.yaml"])
        source_dir = "fed-run"
        commands = [
            (["fed", "--resume", "--out", "run", "--quiet", "--no-fsync"], 2),
            (["fed", "--resume", "--out", "run", "--quiet"], 0),
            (["report", "run", "--out", "report.html"], 0),
            (["fed", "--compare", "run", "shared/fed-run", "--tolerance", "0"], 0),
            (["bench", "scaling", "run", "--target", "0.3"], 0),
        ]
    else:
        rel = rng.choice(["supernet.jsonl", "scores.jsonl", "sampled-architectures.jsonl", "candidates.json", "chosen.json",
                          "retrained.json", "summary.json", "config.yaml", "retrain/events.jsonl"])
        source_dir = "nas-run"
        commands = [(["report", "run", "--out", "report.html"], 0)]
        if rel == "chosen.json":
            commands.append((["nas", "show", "--arch", "run/chosen.json"], 0))
            commands.append((["nas", "retrain", "--config", "shared/nas.yaml", "--arch", "run/chosen.json", "--epochs", "1",
                              "--quiet"], 0))
    original = open(os.path.join(prepared["work"], "shared", source_dir, rel), "rb").read()
    if rel.endswith(".jsonl"):
        if target in ("tune", "fed") and "events" in rel and rng.random() < 0.5:
            # Drop the run's end first, so a resume has something to continue.
            lines = original.splitlines(keepends=True)
            lines = resume_truncation(lines, lambda e: e.get("event") in ("end", "result") and e.get("arm", 0) >= 0
                                      and not (target == "tune" and e.get("event") == "result"))
            original = b"".join(lines)
        data, desc = mutate_journal(rng, original)
    elif rel.endswith(".yaml"):
        tree = parse_yaml(original.decode())
        desc = None
        for _ in range(5):
            op = rng.choices(*zip(*TREE_MUTATIONS))[0]
            desc = op(rng, tree)
            if desc:
                break
        data = (emit_yaml(tree) + "\n").encode()
    else:
        data, desc = mutate_json_bytes(rng, original)
    args, np = rng.choice(commands)

    def setup(d):
        copy_prepared(source_dir, "run")(d)
        if "sim" in args:
            copy_prepared("tune-sim", "sim")(d)
        with open(os.path.join(d, "run", rel), "wb") as f:
            f.write(data)
    return Case("journal", f"{source_dir}/{rel}: {desc}", [Step(args, np=np)], setup=setup, run_dir="run",
                skip_integrity={rel})


# Flags of every subcommand: base arguments that make a fast valid run, and the flags
# whose values are mutated (None: the value is a path or word, mutated as such).
def flag_table(prepared):
    return [
        (["train", "--dataset", "digits", "--epochs", "1", "--quiet"], 0,
         ["--epochs", "--batch-size", "--dropout", "--learning-rate", "--momentum", "--weight-decay", "--seed",
          "--threads", "--hidden", "--stop-after"]),
        (["train", "--dataset", "digits", "--model", "cnn", "--filters", "2,2", "--epochs", "1", "--quiet"], 0,
         ["--filters", "--batch-size", "--dropout"]),
        (["train", "--dataset", "digits", "--epochs", "1", "--quiet", "--checkpoint-out", "ck.safetensors"], 0,
         ["--stop-after", "--epochs", "--checkpoint-out"]),
        (["train", "--dataset", "digits", "--epochs", "1", "--quiet"], 2, ["--batch-size", "--threads", "--epochs"]),
        (["train", "--dataset", "digits", "--epochs", "1", "--quiet", "--optimizer", "adam", "--schedule", "cosine"], 0,
         ["--optimizer", "--schedule", "--model", "--dataset", "--data-dir", "--learning-rate"]),
        (["tune", "--config", "shared/surrogate.yaml", "--out", "run", "--quiet", "--workers", "1"], 0, ["--workers", "--out"]),
        (["tune", "--config", "shared/surrogate.yaml", "--out", "run", "--quiet", "--simulate-workers", "3"], 0,
         ["--simulate-workers", "--stragglers", "--drop-probability", "--job-overhead"]),
        (["fed", "--compare", "shared/fed-run", "shared/fed-run", "--tolerance", "0"], 0, ["--tolerance"]),
        (["fed", "--config", "shared/fed.yaml", "--export-leaf", "leaf"], 0, ["--export-leaf"]),
        (["nas", "search", "--config", "shared/nas.yaml", "--out", "run", "--quiet", "--skip-retrain"], 2, ["--seed"]),
        (["nas", "search", "--config", "shared/nas.yaml", "--out", "run", "--quiet"], 0, ["--workers", "--seed"]),
        (["nas", "retrain", "--config", "shared/nas.yaml", "--arch", ARCH, "--epochs", "1", "--quiet"], 0,
         ["--epochs", "--seed", "--arch", "--checkpoint-out"]),
        (["nas", "bench", "--config", "shared/nas.yaml", "--steps", "2"], 0, ["--steps"]),
        (["nas", "sample", "--count", "3"], 0, ["--count", "--seed"]),
        (["nas", "show", "--arch", ARCH], 0, ["--arch"]),
        (["bench", "allreduce", "--samples", "1", "--max-bytes", "64"], 2, ["--samples", "--max-bytes"]),
        (["bench", "idle", "--seconds", "0.1"], 2, ["--seconds", "--max-core-share"]),
        (["bench", "tensor", "--threads", "1", "--sizes", "8", "--repeats", "1", "--workloads", "sgemm"], 0,
         ["--threads", "--sizes", "--repeats", "--workloads"]),
        (["bench", "sim-compare", "--config", "shared/surrogate.yaml", "--schedulers", "asha", "--workers", "3", "--seeds", "1",
          "--time-limit", "2"], 0,
         ["--workers", "--seeds", "--target-quantile", "--target", "--time-limit", "--stragglers", "--drop-probability",
          "--schedulers"]),
        (["bench", "scaling", "shared/tune-run", "--target", "0.5"], 0, ["--target", "--experiment", "--csv"]),
        (["report", "shared/tune-run", "--out", "report.html"], 0, ["--out"]),
        (["info"], 2, []),
    ]


PATH_VALUES = ["/dev/full", "/dev/null", "/dev/null/sub", "existing-file", "x" * 300, "/".join(["d"] * 2000), "",
               ".", "shared", "no/such/dir/file"]
ARCH_VALUES = [
    "", "|", "|+|", ARCH.replace("nor_conv_3x3", "bogus"), ARCH.replace("~0", "~5", 1), ARCH.replace("~0", "~-1", 1),
    ARCH.replace("~0", "~9223372036854775807", 1), ARCH.replace("~0", "~99999999999999999999", 1),
    ARCH.replace("|+|", "|", 1), ARCH + "+|none~0|", ARCH * 50, "[[]]", "{}", '{"cell": 5}', "[" * 10000,
    '[["none", 0], ["none", 0]]', "no/such/arch.json", "/dev/zero", "shared",
]
WORD_VALUES = ["", "unknown", "ASHA", "asha,asha", ",", "lognormal:-1", "lognormal:nan", "lognormal:1e308",
               "fraction:2:3", "fraction:0.5:-1", "fraction:0.5:1e19", "fraction:0.5", "fraction:nan:nan", "none,none",
               "1-9223372036854775807", "9223372036854775807-9223372036854775807", "0-0", "1-", "-5", "1,,2",
               "18446744073709551615", "sgemm,sgemm", "mlp,cnn,conv", "1,2,3,4,5,6,7,8,9,10,11,12",
               "2147483647", "0,0", "65536,65536", "1" * 30, "x" * 10000]


def flag_case(rng, prepared):
    table = [t for t in flag_table(prepared) if t[2]]
    base, np, flags = rng.choice(table)
    args = list(base)
    changes = []
    for flag in rng.sample(flags, min(len(flags), rng.choice([1, 1, 1, 2]))):
        if flag in ("--out", "--checkpoint-out", "--export-leaf", "--csv", "--data-dir"):
            value = rng.choice(PATH_VALUES)
        elif flag == "--arch":
            value = rng.choice(ARCH_VALUES)
        elif flag in ("--stragglers", "--seeds", "--workloads", "--schedulers", "--sizes", "--threads", "--hidden",
                      "--filters", "--workers") and rng.random() < 0.5:
            value = rng.choice(WORD_VALUES)
        elif flag in ("--optimizer", "--schedule", "--model", "--dataset", "--experiment"):
            value = rng.choice(WORD_VALUES + ["digits", "mlp", "resnet", "cnn", "sgd", "step", "existing-file",
                                              "/dev/zero", "/dev/null", "shared/idx", "mnist"])
        else:
            value = rng.choice(EXTREME_FLAG_VALUES)
            if flag in ("--hidden", "--filters", "--sizes", "--threads") and rng.random() < 0.3:
                value = f"{value},{value}"
        style = rng.choice(["separate", "equals"])
        if flag in args:
            i = args.index(flag)
            del args[i:i + 2]
        args += [f"{flag}={value}"] if style == "equals" else [flag, value]
        shown = value if len(value) < 40 else f"{value[:12]}... ({len(value)} chars)"
        changes.append(f"{flag} {shown!r}")
    files = {"existing-file": b"not a directory\n"}
    nonfinite = any(v in " ".join(changes) for v in ("inf", "nan", "NaN", "Infinity", "1e400"))
    return Case("flags", f"cohort {' '.join(base[:2])}: " + ", ".join(changes), [Step(args, np=np)], files=files,
                nonfinite=nonfinite)


def kill_case(rng, prepared):
    """A fresh run interrupted by a signal at a random moment, then resumed."""
    target = rng.choice(["tune", "tune", "fed", "train"])
    sig = rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
    delay = round(rng.uniform(0.05, 2.0), 2)
    np = rng.choice([0, 2, 2, 3]) if target != "train" else rng.choice([0, 0, 2])
    if target == "tune":
        extra = [] if np else ["--workers", rng.choice(["1", "2"])]
        first = Step(["tune", "--config", "shared/slow-surrogate.yaml", "--out", "run", "--quiet"] + extra, np=np,
                     kill_after=delay, kill_signal=sig)
        again = Step(["tune", "--resume", "--out", "run", "--quiet"] + extra, np=np, expect_ok=True)
        return Case("kill", f"tune on {np or 'no'} mpirun ranks, {signal.Signals(sig).name} after {delay} s, then --resume",
                    [first, again], run_dir="run", audit=True)
    if target == "fed":
        first = Step(["fed", "--config", "shared/fed-long.yaml", "--out", "run", "--quiet"], np=np, kill_after=delay,
                     kill_signal=sig)
        again = Step(["fed", "--resume", "--out", "run", "--quiet"], np=np, expect_ok=True)
        return Case("kill", f"fed on {np or 'no'} mpirun ranks, {signal.Signals(sig).name} after {delay} s, then --resume",
                    [first, again, Step(["report", "run", "--out", "report.html"], expect_ok=True)], run_dir="run")
    first = Step(["train", "--dataset", "digits", "--epochs", "300", "--checkpoint-out", "run/ck.safetensors", "--quiet"],
                 np=np, kill_after=delay, kill_signal=sig)
    again = Step(["train", "--dataset", "digits", "--epochs", "300", "--resume-from", "run/ck.safetensors",
                  "--checkpoint-out", "run/ck.safetensors", "--quiet"], np=np)
    return Case("kill", f"train on {np or 'no'} mpirun ranks, {signal.Signals(sig).name} after {delay} s, then --resume-from",
                [first, again], files={"run/.keep": b""}, run_dir="run")


CASE_KINDS = [(config_case, 34), (flag_case, 20), (data_case, 16), (checkpoint_case, 12), (journal_case, 12),
              (kill_case, 6)]


def make_case(seed, index, prepared, examples, only=None):
    rng = random.Random(f"{seed}:{index}")
    kinds = [(k, w) for k, w in CASE_KINDS if not only or k.__name__.replace("_case", "") in only]
    maker = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
    if maker is config_case:
        return maker(rng, examples)
    return maker(rng, prepared)


# ---------------------------------------------------------------------------
# Running a process and judging it.

class Outcome:
    def __init__(self):
        self.rc = None
        self.signal_death = None
        self.timed_out = False
        self.killed = False
        self.stray = False
        self.stdout = b""
        self.stderr = b""
        self.seconds = 0.0


def read_capped(stream, sink, cap=65536):
    """Keeps the first and last `cap` bytes of a stream (some commands print forever)."""
    head = bytearray()
    tail = bytearray()
    total = 0
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        total += len(chunk)
        if len(head) < cap:
            take = chunk[: cap - len(head)]
            head += take
            chunk = chunk[len(take):]
        if chunk:
            tail += chunk
            if len(tail) > cap:
                del tail[: len(tail) - cap]
    if tail:
        sink.append(bytes(head) + f"\n[... {total - len(head) - len(tail)} bytes left out ...]\n".encode() + bytes(tail))
    else:
        sink.append(bytes(head))


def process_group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def remove_tree(path, ignore_errors=True):
    """rm -rf: cases make directory trees deeper than Python's recursion limit."""
    subprocess.run(["rm", "-rf", "--", path], check=False)


def processes_in(directory):
    """Pids whose working directory is `directory`: MPI ranks live in process groups
    of their own, so a SIGKILL to mpirun's group leaves them running until they notice."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd") == directory:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def wait_for_ranks(directory, seconds):
    """True when every process working in `directory` has ended within `seconds`."""
    deadline = time.monotonic() + seconds
    while processes_in(directory):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def run_step(step, case_dir, options):
    argv = step.argv(options.binary)
    wrapped = ["bash", "-c", f'ulimit -v {options.memory_mb * 1024}; ulimit -c 0; exec "$@"', "fuzz"] + argv
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", TMPDIR=case_dir,
               SWIFT_BACKTRACE="enable=yes,interactive=no,color=no,threads=crashed,registers=none,images=none,sanitize=no")
    out = Outcome()
    start = time.monotonic()
    proc = subprocess.Popen(wrapped, cwd=case_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    sinks = ([], [])
    readers = [threading.Thread(target=read_capped, args=(proc.stdout, sinks[0]), daemon=True),
               threading.Thread(target=read_capped, args=(proc.stderr, sinks[1]), daemon=True)]
    for r in readers:
        r.start()
    deadline = options.timeout
    sent_own_signal = False
    if step.kill_after is not None:
        try:
            proc.wait(step.kill_after)
        except subprocess.TimeoutExpired:
            sent_own_signal = True
            if step.kill_signal == signal.SIGKILL:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.send_signal(step.kill_signal)
        deadline = max(0.0, options.timeout - (time.monotonic() - start))
    try:
        proc.wait(deadline)
    except subprocess.TimeoutExpired:
        out.timed_out = True
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(options.grace)
        except subprocess.TimeoutExpired:
            out.killed = True
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out.seconds = time.monotonic() - start
    if process_group_alive(proc.pid) and not (sent_own_signal and step.kill_signal == signal.SIGKILL):
        time.sleep(1.0)
        if process_group_alive(proc.pid):
            out.stray = True
    if process_group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    # Ranks orphaned by a killed mpirun end once they notice; one that does not is stray.
    if not wait_for_ranks(os.path.realpath(case_dir), 15):
        out.stray = True
        for pid in processes_in(os.path.realpath(case_dir)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    for r in readers:
        r.join(5)
    out.stdout = sinks[0][0] if sinks[0] else b""
    out.stderr = sinks[1][0] if sinks[1] else b""
    if proc.returncode < 0:
        out.signal_death = -proc.returncode
    else:
        out.rc = proc.returncode
    out.own_signal = step.kill_signal if sent_own_signal else None
    return out


def normalize(text):
    text = re.sub(r"/tmp/[^\s'\"]*", "<path>", text)
    text = re.sub(r"0x[0-9a-fA-F]+", "<hex>", text)
    text = re.sub(r"\d+", "N", text)
    return text.strip()[:200]


def crash_cause(stderr):
    """A stable name for a crash: the fatal message and the first frame in cohort's code."""
    text = stderr.decode("utf-8", "replace")
    message = ""
    for line in text.splitlines():
        if "Fatal error" in line or "Precondition failed" in line or "Assertion failed" in line:
            message = line.strip()
            break
    if not message:
        m = re.search(r"\*\*\* Program crashed: ([^\n]*)", text)
        message = m.group(1) if m else ""
    frame = ""
    for line in text.splitlines():
        m = re.match(r"\s*\d+\s+(?:\[\w+\]\s+)?0x[0-9a-f]+\s+(?:\[\w+\]\s+)?(.+?)\s+in\s+(\S+)", line)
        if not m:
            continue
        symbol, image = m.groups()
        if image != "cohort" or re.search(r"swift_|_assertionFailure|fatalError|\$ss|Swift\.|_swift|precondition", symbol):
            continue
        frame = re.sub(r"\s*\+\s*\d+$", "", symbol)
        break
    return normalize(message.split(":", 1)[-1] if "Fatal error" in message else message) + (f" @ {frame[:160]}" if frame else "")


def judge(step, out):
    """(verdict, cause, notes) of one step."""
    err = out.stderr.decode("utf-8", "replace")
    notes = []
    if out.killed:
        return "HANG", f"alive {int(out.seconds)} s after SIGTERM at the time limit", notes
    if out.stray:
        return "HANG", "processes left running after the command exited", notes
    crashed_text = any(p in err for p in CRASH_PATTERNS)
    own = out.own_signal
    if out.signal_death is not None:
        if own and out.signal_death == own:
            return "ok", "stopped by the fuzzer's signal", notes
        if out.timed_out and out.signal_death == signal.SIGTERM:
            notes.append("timed out (ended by SIGTERM)")
            return "ok", "timeout", notes
        return "CRASH", f"{signal.Signals(out.signal_death).name}: {crash_cause(out.stderr)}", notes
    if out.rc in SIGNAL_VERDICT_EXITS or crashed_text:
        if own and out.rc in (128 + own,) and not crashed_text:
            return "ok", "stopped by the fuzzer's signal", notes
        return "CRASH", f"exit {out.rc}: {crash_cause(out.stderr)}", notes
    if out.timed_out:
        notes.append(f"timed out, exit {out.rc} after SIGTERM")
        return "ok", "timeout", notes
    if out.rc == 0:
        return "ok", "exit 0", notes
    if own:
        return "ok", f"exit {out.rc} after the fuzzer's signal", notes
    lines = [line for line in err.splitlines() if line.strip()]
    if not lines:
        return "SILENT", f"exit {out.rc} with nothing on stderr", notes
    if len(lines) != 1:
        notes.append(f"{len(lines)} lines on stderr")
    if not lines[0].startswith("Error:"):
        notes.append("stderr does not start with 'Error:'")
    return "ok", f"exit {out.rc}", notes


# ---------------------------------------------------------------------------
# Preparation: small real runs whose files the cases mutate.

NAS_CONFIG = """name: fuzz-nas
seed: 2
dataset: digits
network: {channels: 4, cells: [1, 1]}
search:
  samples: 300
  epochs: 1
  batch_size: 32
  verify_every: 1
  record_every: 3
strategy:
  type: rsws
  architectures: 4
  score_batches: 1
  score_batch_size: 50
  rescore_top: 2
retrain:
  top: 1
  samples: 300
  epochs: 1
  batch_size: 32
"""


def prepare(work, options):
    shared = os.path.join(work, "shared")
    os.makedirs(shared)
    rng = random.Random(1)
    write_idx_dataset(os.path.join(shared, "idx"), rng)
    surrogate = open(os.path.join(EXAMPLES, "surrogate.yaml")).read()
    surrogate = surrogate.replace("seconds_per_unit: 0.01", "seconds_per_unit: 0").replace("max_trials: 81", "max_trials: 9")
    open(os.path.join(shared, "surrogate.yaml"), "w").write(surrogate)
    slow = open(os.path.join(EXAMPLES, "surrogate.yaml")).read().replace("seconds_per_unit: 0.01", "seconds_per_unit: 0.005")
    open(os.path.join(shared, "slow-surrogate.yaml"), "w").write(slow)
    fed = open(os.path.join(EXAMPLES, "fedavg-synthetic.yaml")).read()
    open(os.path.join(shared, "fed.yaml"), "w").write(fed.replace("rounds: 200", "rounds: 4").replace("every: 10", "every: 1"))
    open(os.path.join(shared, "fed-long.yaml"), "w").write(fed.replace("rounds: 200", "rounds: 40").replace("epochs: 20", "epochs: 5"))
    open(os.path.join(shared, "nas.yaml"), "w").write(NAS_CONFIG)
    digits = open(os.path.join(EXAMPLES, "digits-asha.yaml")).read()
    digits = digits.replace("max_trials: 243", "max_trials: 4").replace("max_resource: 27", "max_resource: 3")
    open(os.path.join(shared, "digits-asha.yaml"), "w").write(digits)

    def must(step, what):
        out = run_step(step, shared, options)
        if out.rc != 0:
            sys.exit(f"fuzz: preparing {what} failed (exit {out.rc}, signal {out.signal_death}):\n"
                     + out.stderr.decode("utf-8", "replace")[-2000:])

    must(Step(["tune", "--config", "digits-asha.yaml", "--out", "tune-run", "--workers", "1", "--quiet"]), "a tuning run")
    must(Step(["tune", "--config", "surrogate.yaml", "--out", "tune-sim", "--simulate-workers", "2", "--quiet"]),
         "a simulated tuning run")
    must(Step(["fed", "--config", "fed.yaml", "--out", "fed-run", "--quiet"], np=2), "a federated run")
    must(Step(["nas", "search", "--config", "nas.yaml", "--out", "nas-run", "--quiet"], np=2), "a NAS run")
    must(Step(["train", "--dataset", "digits", "--epochs", "1", "--checkpoint-out", "train.safetensors", "--quiet"]),
         "a training checkpoint")
    must(Step(["train", "--dataset", "digits", "--model", "cnn", "--filters", "4,8", "--epochs", "1", "--checkpoint-out",
               "train-cnn.safetensors", "--quiet"]), "a CNN checkpoint")
    for d in ("tune-run", "fed-run", "nas-run", "tune-sim"):
        lock = os.path.join(shared, d, ".lock")
        if os.path.exists(lock):
            os.remove(lock)
    read = lambda *p: open(os.path.join(shared, *p), "rb").read()
    tune_ckpts = {}
    for base, _, files in os.walk(os.path.join(shared, "tune-run", "checkpoints")):
        for f in files:
            p = os.path.join(base, f)
            tune_ckpts[os.path.relpath(p, os.path.join(shared, "tune-run"))] = open(p, "rb").read()
    return {
        "work": work,
        "idx": os.path.join(shared, "idx"),
        "train_checkpoint": read("train.safetensors"),
        "train_cnn_checkpoint": read("train-cnn.safetensors"),
        "tune_journal": read("tune-run", "events.jsonl"),
        "tune_checkpoints": tune_ckpts,
        "fed_journal": read("fed-run", "events.jsonl"),
        "fed_checkpoint": read("fed-run", "checkpoints", "arm-0000.safetensors"),
        "nas_retrained": read("nas-run", "retrained.safetensors"),
    }


# ---------------------------------------------------------------------------
# One case from start to verdict, and what a finding keeps.

def shell_line(step, binary):
    return " ".join(shlex.quote(a) for a in step.argv(binary))


def command_script(case, options):
    lines = ["#!/usr/bin/env bash",
             f"# {case.kind}: {case.description}",
             "# Runs in a copy of inputs/ (the files as they were before the case).",
             'here="$(cd "$(dirname "$0")" && pwd)"',
             'work="$(mktemp -d)"; cp -a "$here/inputs/." "$work/"; cd "$work"',
             'ln -sfn "$here/../shared" shared 2>/dev/null || true',
             f"ulimit -v {options.memory_mb * 1024}",
             "export OPENBLAS_NUM_THREADS=1"]
    for step in case.steps:
        line = shell_line(step, options.binary)
        if step.kill_after is not None:
            target = "-$!" if step.kill_signal == signal.SIGKILL else "$!"
            lines.append(f"setsid {line} & sleep {step.kill_after}; kill -{signal.Signals(step.kill_signal).name[3:]} -- {target}; wait")
        else:
            lines.append(f"{line}; echo \"exit $?\"")
    return "\n".join(lines) + "\n"


def run_case(index, case, options, scratch_root):
    case_dir = os.path.join(scratch_root, "cases", f"{index:06d}")
    os.makedirs(case_dir)
    os.symlink("../../shared", os.path.join(case_dir, "shared"))
    for rel, data in case.files.items():
        p = os.path.join(case_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    if case.setup:
        case.setup(case_dir)
    pristine = os.path.join(scratch_root, "pristine", f"{index:06d}")
    shutil.copytree(case_dir, pristine, symlinks=True)
    run_dir = os.path.join(case_dir, case.run_dir) if case.run_dir else None
    results = []
    verdict, cause, notes = "ok", "", []
    for n, step in enumerate(case.steps):
        before = readable_files(run_dir, case.skip_integrity) if run_dir and os.path.isdir(run_dir) else {}
        out = run_step(step, case_dir, options)
        v, c, ns = judge(step, out)
        results.append((step, out, v, c))
        notes += ns
        if v == "ok" and run_dir and os.path.isdir(run_dir):
            problems = integrity_problems(run_dir, before)
            if step.kill_after is not None:
                # After a kill every complete file must be readable, not only the earlier ones.
                problems += [f"{rel}: {file_problem(os.path.join(run_dir, rel))}"
                             for rel in sorted(set(_all_files(run_dir)) - set(before))
                             if file_problem(os.path.join(run_dir, rel))]
            if problems:
                v, c = "CORRUPT", "; ".join(problems[:3])
        if v == "ok" and step.expect_ok and out.rc not in (0, None) and not out.timed_out:
            err = out.stderr.decode("utf-8", "replace").strip().splitlines()
            first = err[0] if err else ""
            # Killed before its creation was complete: the run never existed (creation is atomic).
            if "cannot be resumed: no config.yaml" in first and not (run_dir and os.path.isfile(os.path.join(run_dir, "config.yaml"))):
                continue
            v, c = "RESUME", f"resume after an interruption failed: exit {out.rc}: {normalize(first)}"
        if v != "ok":
            verdict, cause = v, c
            break
    if verdict == "ok" and case.audit and run_dir and os.path.exists(os.path.join(run_dir, "events.jsonl")) \
            and all(o.rc == 0 for s, o, _, _ in results[1:]):
        step = Step(["tune", "--audit", "--out", case.run_dir])
        out = run_step(step, case_dir, options)
        v, c, _ = judge(step, out)
        results.append((step, out, v, c))
        if v != "ok" or out.rc != 0:
            verdict = v if v != "ok" else "AUDIT"
            lines = out.stderr.decode("utf-8", "replace").strip().splitlines()
            cause = c if v != "ok" else f"journal refused after kill and resume: {normalize(lines[0] if lines else '')}"
    if verdict == "ok" and case.nonfinite and results and all(o.rc == 0 for _, o, _, _ in results):
        notes.append("accepted a non-finite or overflowing value")
    record = {"index": index, "kind": case.kind, "description": case.description, "verdict": verdict, "cause": cause,
              "notes": notes,
              "steps": [{"command": shell_line(s, options.binary), "exit": o.rc, "signal": o.signal_death,
                         "timed_out": o.timed_out, "seconds": round(o.seconds, 2), "verdict": v, "cause": c,
                         "stderr_head": o.stderr.decode("utf-8", "replace")[:600]} for s, o, v, c in results]}
    if verdict != "ok" or options.keep_all:
        save_finding(index, case, record, results, pristine, options)
    remove_tree(case_dir, ignore_errors=True)
    remove_tree(pristine, ignore_errors=True)
    return record


def _all_files(directory):
    for base, _, files in os.walk(directory):
        for f in files:
            if f != ".lock":
                yield os.path.relpath(os.path.join(base, f), directory)


_shared_saved = threading.Lock()


def save_finding(index, case, record, results, pristine, options):
    root = options.findings
    with _shared_saved:
        if not os.path.exists(os.path.join(root, "shared")):
            shutil.copytree(os.path.join(options.scratch_root, "shared"), os.path.join(root, "shared"), symlinks=True)
    d = os.path.join(root, f"{index:06d}-{record['verdict'].lower()}")
    remove_tree(d, ignore_errors=True)
    os.makedirs(d)
    shutil.copytree(pristine, os.path.join(d, "inputs"), symlinks=True)
    with open(os.path.join(d, "command.sh"), "w") as f:
        f.write(command_script(case, options))
    os.chmod(os.path.join(d, "command.sh"), 0o755)
    for n, (step, out, _, _) in enumerate(results):
        open(os.path.join(d, f"stdout-{n}.txt"), "wb").write(out.stdout)
        open(os.path.join(d, f"stderr-{n}.txt"), "wb").write(out.stderr)
    record = dict(record, replay=f"scripts/fuzz.py --seed {options.seed} --case {index}")
    with open(os.path.join(d, "result.json"), "w") as f:
        json.dump(record, f, indent=1)


# ---------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=None, help="the seed of every case (default: FUZZ_SEED or the clock)")
    p.add_argument("--budget-seconds", type=float, default=120, help="stop starting cases after this long")
    p.add_argument("--case", type=int, action="append", help="run only this case index (repeatable)")
    p.add_argument("--max-cases", type=int, default=None, help="stop after this many cases")
    p.add_argument("--only", action="append", help="case kinds: config, flag, data, checkpoint, journal, kill")
    p.add_argument("--timeout", type=float, default=20, help="seconds per process before SIGTERM")
    p.add_argument("--grace", type=float, default=10, help="seconds after SIGTERM before SIGKILL (a hang)")
    p.add_argument("--memory-mb", type=int, default=4096, help="address-space limit of every process")
    p.add_argument("--slots", type=int, default=2, help="cores to use (an mpirun case takes two)")
    p.add_argument("--findings", default=None, help="where failing cases go (default .build/fuzz/seed-S)")
    p.add_argument("--binary", default=BINARY)
    p.add_argument("--keep-all", action="store_true", help="save every case, not only failing ones")
    p.add_argument("--log", default=None, help="append one JSON line per case here")
    p.add_argument("--verbose", action="store_true", help="one line per case")
    return p.parse_args()


def main():
    options = parse_args()
    if options.seed is None:
        env = os.environ.get("FUZZ_SEED")
        options.seed = int(env) if env else int(time.time() * 1000) % 1_000_000_007
    options.binary = os.path.abspath(options.binary)
    options.findings = os.path.abspath(options.findings or os.path.join(ROOT, ".build", "fuzz", f"seed-{options.seed}"))
    print(f"fuzz: seed {options.seed}, budget {options.budget_seconds:g} s, findings go to {options.findings}", flush=True)
    if not os.access(options.binary, os.X_OK):
        print("fuzz: building cohort (release) first", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "cohort"], cwd=ROOT, check=True)
    started = time.monotonic()
    scratch_root = tempfile.mkdtemp(prefix="cohort-fuzz-")
    options.scratch_root = scratch_root
    os.makedirs(os.path.join(scratch_root, "cases"))
    os.makedirs(os.path.join(scratch_root, "pristine"))
    examples = [f for f in os.listdir(EXAMPLES) if f.endswith(".yaml")]
    records = []
    lock = threading.Condition()
    free = [options.slots]
    log = open(options.log, "a") if options.log else None
    try:
        prepared = prepare(scratch_root, options)
        print(f"fuzz: prepared run directories and data in {time.monotonic() - started:.1f} s", flush=True)
        indices = options.case if options.case else range(10**9)
        threads = []
        for count, index in enumerate(indices):
            if options.max_cases is not None and count >= options.max_cases:
                break
            if not options.case and time.monotonic() - started > options.budget_seconds:
                break
            case = make_case(options.seed, index, prepared, examples, options.only)
            need = min(case.slots, options.slots)
            with lock:
                while free[0] < need:
                    lock.wait()
                free[0] -= need

            def work(index=index, case=case, need=need):
                try:
                    record = run_case(index, case, options, scratch_root)
                except Exception as e:  # a fuzzer bug must not pass for a clean run
                    record = {"index": index, "kind": case.kind, "description": case.description, "verdict": "ERROR",
                              "cause": f"fuzzer error: {e!r}", "notes": [], "steps": []}
                with lock:
                    records.append(record)
                    free[0] += need
                    lock.notify_all()
                    if log:
                        log.write(json.dumps(record) + "\n")
                        log.flush()
                    if options.verbose or record["verdict"] != "ok":
                        print(f"  case {index} [{record['kind']}] {record['verdict']}"
                              f"{': ' + record['cause'] if record['verdict'] != 'ok' else ''} -- {record['description'][:160]}",
                              flush=True)
            t = threading.Thread(target=work)
            t.start()
            threads.append(t)
            threads = [t for t in threads if t.is_alive()]
        for t in threads:
            t.join()
    finally:
        remove_tree(scratch_root, ignore_errors=True)
        if log:
            log.close()
    summarize(records, options)
    findings = [r for r in records if r["verdict"] != "ok"]
    print(f"fuzz: {len(records)} cases, {len(findings)} findings (seed {options.seed})")
    return 1 if findings else 0


def summarize(records, options):
    findings = [r for r in records if r["verdict"] != "ok"]
    groups = {}
    for r in findings:
        groups.setdefault((r["verdict"], r["cause"]), []).append(r)
    for (verdict, cause), rs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        first = min(rs, key=lambda r: r["index"])
        print(f"{verdict} x{len(rs)}: {cause}")
        print(f"    e.g. case {first['index']}: {first['description'][:200]}")
        print(f"    replay: scripts/fuzz.py --seed {options.seed} --case {first['index']}   "
              f"saved: {os.path.join(options.findings, '%06d-%s' % (first['index'], verdict.lower()))}")
    notes = {}
    for r in records:
        for n in r["notes"]:
            notes.setdefault(n, []).append(r["index"])
    for n, idx in sorted(notes.items(), key=lambda kv: -len(kv[1])):
        print(f"note x{len(idx)}: {n} (e.g. cases {', '.join(map(str, idx[:5]))})")
    kinds = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    print("fuzz: cases by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    sys.exit(main())
