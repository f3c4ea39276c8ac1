#!/usr/bin/env python3
"""Prints the reference numbers of tests/Estuary.Models.Tests/Config/RopeScalingReferenceTests.cs: RoPE inverse frequencies with
Llama 3 ("llama3") scaling for Llama-3.1-8B (theta 500000, head dim 128, factor 8) and Llama-3.2-1B (head dim 64, factor 32), and
cos/sin of a few of them at positions 1, 1000 and 100000. Standard library only (no torch, no numpy), written from the formula of
Hugging Face transformers' modeling_rope_utils.py (_compute_default_rope_parameters, _compute_llama3_parameters), independently of
Estuary's C# code, so that a wrong C# formula fails the test.

Precision, as transformers does it: the scaling runs on the float32 inv_freq tensor, every step rounded to float32 (Python scalars
such as 2*pi, old_context_len/low_freq_factor and factor are converted to float32 when they meet the tensor). Each step is emulated
here by computing in double and rounding to float32, which gives the correctly rounded float32 result of + - * / on float32 inputs.
The unscaled inv_freq is the float32 rounding of 1/theta^(2i/d) computed in double; transformers computes theta^(2i/d) with a float32
pow and then a float32 reciprocal, which can differ from that by one float32 ulp in some frequencies (Estuary uses the correctly
rounded value, as this script does). cos/sin are of p*inv_freq computed in double (as Estuary's RopeTable does), rounded to float32.

Usage: python3 scripts/rope-scaling-references.py
"""
import math
import struct


def f32(x):
    """x rounded to the nearest float32 (ties to even), as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def default_inv_freq(theta, dim):
    return [f32(1.0 / math.pow(theta, (2 * i) / dim)) for i in range(dim // 2)]


def llama3_inv_freq(inv_freq, factor, low_freq_factor, high_freq_factor, old_context_len):
    """Each frequency: wavelength longer than old_context_len/low_freq_factor -> divided by factor; shorter than
    old_context_len/high_freq_factor -> kept; otherwise (both ends included) a blend of the two with
    smooth = (old_context_len/wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor). Returns (values, band names)."""
    two_pi = f32(2 * math.pi)
    low_freq_wavelen = f32(old_context_len / low_freq_factor)
    high_freq_wavelen = f32(old_context_len / high_freq_factor)
    factor32, low32, old32 = f32(factor), f32(low_freq_factor), f32(old_context_len)
    span32 = f32(high_freq_factor - low_freq_factor)  # the Python-side difference, then converted
    values, bands = [], []
    for inv in inv_freq:
        wavelen = f32(two_pi / inv)
        if wavelen > low_freq_wavelen:
            values.append(f32(inv / factor32))
            bands.append("low")
        elif wavelen < high_freq_wavelen:
            values.append(inv)
            bands.append("high")
        else:
            smooth = f32(f32(f32(old32 / wavelen) - low32) / span32)
            scaled = f32(f32(f32(1.0 - smooth) * inv) / factor32)
            values.append(f32(scaled + f32(smooth * inv)))
            bands.append("medium")
    return values, bands


def literal(x):
    return "%.9gf" % x  # nine significant digits round-trip a float32


def emit(name, theta, dim, factor, low, high, old, positions, picks):
    base = default_inv_freq(theta, dim)
    scaled, bands = llama3_inv_freq(base, factor, low, high, old)
    counts = {b: bands.count(b) for b in ("high", "medium", "low")}
    print(f"    // {name}: theta {theta:g}, head dim {dim}, factor {factor:g}, low {low:g}, high {high:g}, original {old}; "
          f"bands by frequency index: {counts['high']} high (kept), {counts['medium']} medium (blended), {counts['low']} low (/factor)")
    print(f"    // medium band: indices {[i for i, b in enumerate(bands) if b == 'medium']}")
    print(f"    private static readonly float[] s_{name}InvFreq =")
    print("    [")
    for row in range(0, len(scaled), 6):
        print("        " + ", ".join(literal(v) for v in scaled[row:row + 6]) + ",")
    print("    ];")
    print()
    print(f"    // (frequency index, position, cos, sin) for {name}; indices {picks} span the bands.")
    print(f"    private static readonly (int J, int P, float Cos, float Sin)[] s_{name}Rotations =")
    print("    [")
    for j in picks:
        for p in positions:
            angle = p * scaled[j]
            print(f"        ({j}, {p}, {literal(f32(math.cos(angle)))}, {literal(f32(math.sin(angle)))}), // {bands[j]}")
    print("    ];")
    print()


if __name__ == "__main__":
    positions = [1, 1000, 100000]
    # Llama-3.1-8B: hidden 4096 / 32 heads = head dim 128.
    emit("Llama31", 500000.0, 128, 8.0, 1.0, 4.0, 8192, positions, [0, 20, 29, 31, 34, 40, 63])
    # Llama-3.2-1B: hidden 2048 / 32 heads = head dim 64.
    emit("Llama32", 500000.0, 64, 32.0, 1.0, 4.0, 8192, positions, [0, 14, 15, 16, 17, 18, 31])
