#!/usr/bin/env python3
"""Tiny random Qwen2 / Qwen3 / Mistral / biased-Llama / Phi-3 checkpoints and their float64 reference logits (standard library only).

For each model this writes config.json, model.safetensors (F32 or BF16) and reference.json into
tests/Estuary.Models.Tests/Data/qwen-mistral/<name>/. The forward pass below is written from the formulas of Hugging Face
transformers' modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py, modeling_mistral.py and modeling_phi3.py (no code copied):

  x = embed[ids]
  per layer:  h = rmsnorm(x) * g_in
              q = h Wq^T (+ bq), k = h Wk^T (+ bk), v = h Wv^T (+ bv)
              Qwen3: q, k per head: rmsnorm over head_dim * q_norm / k_norm     (before RoPE)
              RoPE rotate_half with inv_freq_j = theta^(-2j/D)
              a = softmax(q k^T / sqrt(D), causal; sliding layers also need key > query - W) v   (GQA: kv head = head // (Hq/Hkv))
              x += a Wo^T (+ bo)
              h = rmsnorm(x) * g_post;  x += (silu(h Wg^T (+ bg)) * (h Wu^T (+ bu))) Wd^T (+ bd)
  logits = rmsnorm(x) * g_final · head^T   (head = embed when tie_word_embeddings and no lm_head)

Phi-3: q, k, v are rows [0, Hq·D), [Hq·D, Hq·D + Hkv·D) and the rest of one qkv_proj; gate and up the first and second I rows of
gate_up_proj; RoPE turns only the first R = D·partial_rotary_factor dimensions of each head, with inv_freq_j = theta^(-2j/R), and
longrope divides inv_freq_j by short_factor[j] at positions below original_max_position_embeddings and by long_factor[j] from there
on (Estuary's per-position rule; transformers' own for every sequence that stays below that length), cos and sin multiplied by
sqrt(1 + ln(max_position_embeddings / original) / ln(original)).

All arithmetic is float64 on the stored weights (BF16 ones rounded to BF16 first, as the checkpoint holds them). Greedy
continuations take the argmax (lowest id on a tie) of the last position and feed it back. Run from the repository root:

  python3 scripts/qwen-mistral-references.py
"""
import json
import math
import os
import random
import struct

OUT = os.path.join("tests", "Estuary.Models.Tests", "Data", "qwen-mistral")
NUM_GENERATED = 6


# ---- storage: F32 / BF16 rounding and the safetensors format -------------------------------------------------------------

def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def bf16_bits(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) & 0xFFFF  # round to nearest even


def bf16(x):
    return struct.unpack("<f", struct.pack("<I", bf16_bits(x) << 16))[0]


def write_safetensors(path, tensors, dtype):
    """tensors: list of (name, shape, flat values already rounded to dtype)."""
    header, blobs, offset = {}, [], 0
    for name, shape, values in tensors:
        if dtype == "F32":
            data = struct.pack("<%df" % len(values), *values)
        else:
            data = struct.pack("<%dH" % len(values), *[bf16_bits(v) for v in values])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


# ---- the forward pass ----------------------------------------------------------------------------------------------------

def matvec(w, x, bias=None):
    """w: list of rows [N][K]; returns w·x (+ bias)."""
    out = [sum(a * b for a, b in zip(row, x)) for row in w]
    if bias is not None:
        out = [o + b for o, b in zip(out, bias)]
    return out


def rmsnorm(x, g, eps):
    inv = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + eps)
    return [v * inv * gi for v, gi in zip(x, g)]


def rope(vec, pos, inv_freq, scale=1.0):
    """rotate_half RoPE of the first 2·len(inv_freq) dimensions of one head vector at position pos (the rest pass through)."""
    half = len(inv_freq)
    out = list(vec)
    for j in range(half):
        angle = pos * inv_freq[j]
        c, s = math.cos(angle) * scale, math.sin(angle) * scale
        a, b = vec[j], vec[j + half]
        out[j] = a * c - b * s
        out[j + half] = b * c + a * s
    return out


def rope_frequencies(cfg, pos):
    """(inv_freq over the rotary dimensions, cos/sin scale) at position pos."""
    R = cfg.get("rotary_dim") or cfg["head_dim"]
    base = [cfg["rope_theta"] ** (-(2.0 * j) / R) for j in range(R // 2)]
    longrope = cfg.get("longrope")
    if not longrope:
        return base, 1.0
    factors = longrope["short_factor"] if pos < longrope["original"] else longrope["long_factor"]
    scale = math.sqrt(1 + math.log(longrope["max_positions"] / longrope["original"]) / math.log(longrope["original"]))
    return [f / e for f, e in zip(base, factors)], scale


def silu(v):
    return v / (1.0 + math.exp(-v))


def forward(cfg, w, ids):
    """Logits [len(ids)][V] for every position (teacher forcing)."""
    H, Hq, Hkv, D = cfg["hidden"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    group = Hq // Hkv
    phi3 = cfg.get("phi3", False)
    xs = [list(w["model.embed_tokens.weight"][t]) for t in ids]
    n = len(ids)
    for l in range(cfg["layers"]):
        p = "model.layers.%d." % l
        window = cfg["layer_windows"][l]
        qs, ks, vs = [], [], []
        for t in range(n):
            h = rmsnorm(xs[t], w[p + "input_layernorm.weight"], eps)
            if phi3:
                qkv = matvec(w[p + "self_attn.qkv_proj.weight"], h)
                q, k, v = qkv[:Hq * D], qkv[Hq * D:(Hq + Hkv) * D], qkv[(Hq + Hkv) * D:]
            else:
                q = matvec(w[p + "self_attn.q_proj.weight"], h, w.get(p + "self_attn.q_proj.bias"))
                k = matvec(w[p + "self_attn.k_proj.weight"], h, w.get(p + "self_attn.k_proj.bias"))
                v = matvec(w[p + "self_attn.v_proj.weight"], h, w.get(p + "self_attn.v_proj.bias"))
            qh = [q[i * D:(i + 1) * D] for i in range(Hq)]
            kh = [k[i * D:(i + 1) * D] for i in range(Hkv)]
            if cfg["qk_norm"]:
                qh = [rmsnorm(x, w[p + "self_attn.q_norm.weight"], eps) for x in qh]
                kh = [rmsnorm(x, w[p + "self_attn.k_norm.weight"], eps) for x in kh]
            inv_freq, scale = rope_frequencies(cfg, t)
            qs.append([rope(x, t, inv_freq, scale) for x in qh])
            ks.append([rope(x, t, inv_freq, scale) for x in kh])
            vs.append([v[i * D:(i + 1) * D] for i in range(Hkv)])
        scale = 1.0 / math.sqrt(D)
        for t in range(n):
            first = max(0, t - window + 1) if window else 0  # keys j with j > t - W
            attn = []
            for hh in range(Hq):
                kv = hh // group
                scores = [sum(a * b for a, b in zip(qs[t][hh], ks[j][kv])) * scale for j in range(first, t + 1)]
                m = max(scores)
                e = [math.exp(s - m) for s in scores]
                total = sum(e)
                out = [0.0] * D
                for pj, j in zip(e, range(first, t + 1)):
                    for c in range(D):
                        out[c] += pj / total * vs[j][kv][c]
                attn.extend(out)
            o = matvec(w[p + "self_attn.o_proj.weight"], attn, w.get(p + "self_attn.o_proj.bias"))
            xs[t] = [a + b for a, b in zip(xs[t], o)]
            h = rmsnorm(xs[t], w[p + "post_attention_layernorm.weight"], eps)
            if phi3:
                gu = matvec(w[p + "mlp.gate_up_proj.weight"], h)
                g, u = gu[:len(gu) // 2], gu[len(gu) // 2:]
            else:
                g = matvec(w[p + "mlp.gate_proj.weight"], h, w.get(p + "mlp.gate_proj.bias"))
                u = matvec(w[p + "mlp.up_proj.weight"], h, w.get(p + "mlp.up_proj.bias"))
            d = matvec(w[p + "mlp.down_proj.weight"], [silu(a) * b for a, b in zip(g, u)], w.get(p + "mlp.down_proj.bias"))
            xs[t] = [a + b for a, b in zip(xs[t], d)]
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return [matvec(head, rmsnorm(x, w["model.norm.weight"], eps)) for x in xs]


def argmax(v):
    best = 0
    for i in range(1, len(v)):
        if v[i] > v[best]:
            best = i
    return best


def margin(v):
    s = sorted(v, reverse=True)
    return s[0] - s[1]


# ---- the models ----------------------------------------------------------------------------------------------------------

def make_model(spec):
    rng = random.Random(spec["seed"])
    H, Hq, Hkv, D, I, V, L = (spec[k] for k in ("hidden", "heads", "kv_heads", "head_dim", "intermediate", "vocab", "layers"))
    rnd = f32 if spec["dtype"] == "F32" else bf16
    tensors, w = [], {}

    def add(name, shape, std, mean=0.0):
        count = 1
        for s in shape:
            count *= s
        values = [rnd(rng.gauss(mean, std)) for _ in range(count)]
        tensors.append((name, shape, values))
        w[name] = values if len(shape) == 1 else [values[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]

    add("model.embed_tokens.weight", [V, H], 1.0)
    for l in range(L):
        p = "model.layers.%d." % l
        add(p + "input_layernorm.weight", [H], 0.1, 1.0)
        add(p + "post_attention_layernorm.weight", [H], 0.1, 1.0)
        attention = (("q_proj", Hq * D, H, spec["qkv_bias"]), ("k_proj", Hkv * D, H, spec["qkv_bias"]),
                     ("v_proj", Hkv * D, H, spec["qkv_bias"]), ("o_proj", H, Hq * D, spec["o_bias"]))
        if spec.get("phi3"):
            attention = (("qkv_proj", (Hq + 2 * Hkv) * D, H, False), ("o_proj", H, Hq * D, False))
        for name, rows, cols, bias in attention:
            add(p + "self_attn." + name + ".weight", [rows, cols], 1.0 / math.sqrt(cols))
            if bias:
                add(p + "self_attn." + name + ".bias", [rows], 0.5)
        if spec["qk_norm"]:
            add(p + "self_attn.q_norm.weight", [D], 0.2, 1.0)
            add(p + "self_attn.k_norm.weight", [D], 0.2, 1.0)
        mlp = (("gate_up_proj", 2 * I, H), ("down_proj", H, I)) if spec.get("phi3") else (("gate_proj", I, H), ("up_proj", I, H), ("down_proj", H, I))
        for name, rows, cols in mlp:
            add(p + "mlp." + name + ".weight", [rows, cols], 1.0 / math.sqrt(cols))
            if spec["mlp_bias"]:
                add(p + "mlp." + name + ".bias", [rows], 0.5)
    add("model.norm.weight", [H], 0.1, 1.0)
    if not spec["tie"]:
        add("lm_head.weight", [V, H], 1.0 / math.sqrt(H))
    return tensors, w


def config_json(spec):
    c = {
        "architectures": [spec["arch"]],
        "model_type": spec["model_type"],
        "hidden_act": "silu",
        "hidden_size": spec["hidden"],
        "intermediate_size": spec["intermediate"],
        "num_hidden_layers": spec["layers"],
        "num_attention_heads": spec["heads"],
        "num_key_value_heads": spec["kv_heads"],
        "max_position_embeddings": spec.get("max_positions", 64),
        "rms_norm_eps": spec["rms_norm_eps"],
        "rope_theta": spec["rope_theta"],
        "tie_word_embeddings": spec["tie"],
        "torch_dtype": "float32" if spec["dtype"] == "F32" else "bfloat16",
        "vocab_size": spec["vocab"],
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    c.update(spec["extra"])
    return c


def spec(name, arch, model_type, dtype, seed, head_dim=8, heads=4, kv_heads=2, tie=False, qkv_bias=False, o_bias=False,
         mlp_bias=False, qk_norm=False, layer_windows=(0, 0), rope_theta=1e6, extra=None):
    return dict(name=name, arch=arch, model_type=model_type, dtype=dtype, seed=seed, hidden=32, heads=heads, kv_heads=kv_heads,
                head_dim=head_dim, intermediate=48, vocab=96, layers=2, tie=tie, qkv_bias=qkv_bias, o_bias=o_bias, mlp_bias=mlp_bias,
                qk_norm=qk_norm, layer_windows=list(layer_windows), rope_theta=rope_theta, rms_norm_eps=1e-6, extra=extra or {})


SPECS = [
    # Qwen2.5-0.5B's shape in small: q/k/v biases, tied embeddings, rope_theta 1e6, no window (use_sliding_window false).
    spec("qwen2-tiny", "Qwen2ForCausalLM", "qwen2", "F32", 11, tie=True, qkv_bias=True,
         extra={"use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 21}),
    # Qwen2 with use_sliding_window: layers from max_window_layers (1) on attend through a window of 5 (prompts are longer).
    spec("qwen2-tiny-window", "Qwen2ForCausalLM", "qwen2", "BF16", 12, qkv_bias=True, layer_windows=(0, 5),
         extra={"use_sliding_window": True, "sliding_window": 5, "max_window_layers": 1}),
    # Qwen3-0.6B's shape in small: head_dim 16 with hidden 32 and 4 heads (q is 64 wide), q_norm/k_norm, tied, no biases.
    spec("qwen3-tiny", "Qwen3ForCausalLM", "qwen3", "BF16", 13, head_dim=16, tie=True, qk_norm=True,
         extra={"head_dim": 16, "attention_bias": False, "use_sliding_window": False, "sliding_window": None, "max_window_layers": 2}),
    # Qwen3 with attention_bias: q, k, v and o biases, F32.
    spec("qwen3-tiny-bias", "Qwen3ForCausalLM", "qwen3", "F32", 14, head_dim=16, qk_norm=True, qkv_bias=True, o_bias=True,
         extra={"head_dim": 16, "attention_bias": True, "use_sliding_window": False, "sliding_window": None}),
    # Mistral v0.1's shape in small: a sliding window (5) on every layer, explicit head_dim 16 (≠ hidden / heads = 8).
    spec("mistral-tiny", "MistralForCausalLM", "mistral", "BF16", 25, head_dim=16, layer_windows=(5, 5), rope_theta=10000.0,
         extra={"head_dim": 16, "sliding_window": 5}),
    # Llama with attention_bias and mlp_bias (q, k, v, o, gate, up, down biases), multi-head (kv heads = heads).
    spec("llama-tiny-bias", "LlamaForCausalLM", "llama", "BF16", 26, kv_heads=4, qkv_bias=True, o_bias=True, mlp_bias=True,
         rope_theta=10000.0, extra={"attention_bias": True, "mlp_bias": True}),
]

SPECS += [
    # Phi-3-mini-4k's shape in small: fused qkv_proj and gate_up_proj, multi-head, a sliding window (5) on every layer, F32.
    dict(spec("phi3-tiny", "Phi3ForCausalLM", "phi3", "F32", 35, kv_heads=4, layer_windows=(5, 5), rope_theta=10000.0,
              extra={"sliding_window": 5, "original_max_position_embeddings": 64, "rope_scaling": None}), phi3=True),
    # Phi-4-mini's in small: GQA, tied, partial_rotary_factor 0.75 (6 of 8 dimensions turn), longrope whose original context (16)
    # covers every sequence here, so only the short factors and the attention factor sqrt(1 + ln 4 / ln 16) act (transformers'
    # reading exactly), no window, BF16.
    dict(spec("phi4-mini-tiny", "Phi3ForCausalLM", "phi3", "BF16", 40, tie=True, rope_theta=10000.0,
              extra={"partial_rotary_factor": 0.75, "original_max_position_embeddings": 16, "sliding_window": None,
                     "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.25, 1.5], "long_factor": [2.0, 4.0, 8.0]}}),
         phi3=True, rotary_dim=6, max_positions=64,
         longrope={"short_factor": [1.0, 1.25, 1.5], "long_factor": [2.0, 4.0, 8.0], "original": 16, "max_positions": 64}),
    # The same with an original context of 8: the nine-token prompt and the continuations cross it, so positions from 8 on turn
    # by the long factors (Estuary's per-position rule; see the docstring).
    dict(spec("phi3-tiny-longrope-switch", "Phi3ForCausalLM", "phi3", "F32", 33, tie=False, rope_theta=10000.0,
              extra={"partial_rotary_factor": 0.75, "original_max_position_embeddings": 8, "sliding_window": None,
                     "rope_scaling": {"rope_type": "longrope", "short_factor": [1.0, 1.25, 1.5], "long_factor": [2.0, 4.0, 8.0]}}),
         phi3=True, rotary_dim=6, max_positions=64,
         longrope={"short_factor": [1.0, 1.25, 1.5], "long_factor": [2.0, 4.0, 8.0], "original": 8, "max_positions": 64}),
]

PROMPT_LENGTHS = (9, 4)


def main():
    import sys
    only = set(sys.argv[1:])  # model names to write (default: all)
    for s in SPECS:
        if only and s["name"] not in only:
            continue
        folder = os.path.join(OUT, s["name"])
        os.makedirs(folder, exist_ok=True)
        tensors, w = make_model(s)
        cfg = dict(s)
        rng = random.Random(1000 + s["seed"])
        cases, worst = [], float("inf")
        for ci, length in enumerate(PROMPT_LENGTHS):
            prompt = [rng.randrange(3, s["vocab"]) for _ in range(length)]
            ids = list(prompt)
            for _ in range(NUM_GENERATED):
                last = forward(cfg, w, ids)[-1]
                worst = min(worst, margin(last))
                ids.append(argmax(last))
            logits = forward(cfg, w, ids)
            worst = min(worst, min(margin(row) for row in logits))
            cases.append({
                "name": "case%d" % ci,
                "prompt_ids": prompt,
                "generated_ids": ids[length:],
                "argmax_all_positions": [argmax(row) for row in logits],
                "logits_all_positions": [[float("%.6g" % v) for v in row] for row in logits],
            })
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors, s["dtype"])
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config_json(s), f, indent=2)
            f.write("\n")
        reference = {
            "format": "qwen-mistral-reference/1",
            "model": s["name"],
            "architecture": s["arch"],
            "compute": "float64 pure-Python forward (scripts/qwen-mistral-references.py) on the stored weights",
            "layer_windows": s["layer_windows"],
            "min_top2_margin": round(worst, 6),
            "cases": cases,
        }
        with open(os.path.join(folder, "reference.json"), "w") as f:
            json.dump(reference, f, separators=(",", ":"))
            f.write("\n")
        print("%-18s %s %s  smallest top-2 logit margin %.4f" % (s["name"], s["arch"], s["dtype"], worst))


if __name__ == "__main__":
    main()
