// Stopwatch microbenchmarks of the CPU backend: memory bandwidth, FMA peak, decode matvec and prefill GEMM throughput.
// Run in Release on an idle machine: dotnet run -c Release --project bench/Estuary.Kernels.Benchmarks [-- threads]
using System.Runtime.Intrinsics;
using Estuary.Backend.Cpu;
using Estuary.Kernels.Benchmarks;
using Estuary.Tensors;

// Arguments: [threads] [sections...] with sections among peak, decode, prefill, head, packed, quant, quant1, attention, layers, lora (default: all) and micro, gemm, overhead, t16 (only when named).
int threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : Environment.ProcessorCount;
var only = args.Skip(1).ToHashSet();
bool Run(string section) => only.Count == 0 || only.Contains(section);
Console.WriteLine($"threads {threads}, Vector256 accelerated {Vector256.IsHardwareAccelerated}, FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported}");
var rows = new List<(string Name, string Value)>();

double copy = Bench.MemcpyGBs(256 << 20);
rows.Add(("memcpy 256 MiB (read+write GB/s)", $"{copy:F1}"));
double read1 = Bench.ReadGBs(256 << 20, 1), readN = Bench.ReadGBs(256 << 20, threads);
rows.Add(("stream read 256 MiB, 1 thread (GB/s)", $"{read1:F1}"));
rows.Add(($"stream read 256 MiB, {threads} threads (GB/s)", $"{readN:F1}"));
double fma1 = Bench.FmaPeakGFlops(1), fmaN = Bench.FmaPeakGFlops(threads);
rows.Add(("FMA peak Vector256, 1 thread (GFLOP/s)", $"{fma1:F1}"));
rows.Add(($"FMA peak Vector256, {threads} threads (GFLOP/s)", $"{fmaN:F1}"));

using var cpu = new CpuBackend(threads);
using var cpu1 = new CpuBackend(1);
foreach (var (n, k) in Run("decode") ? new[] { (5632, 2048), (2048, 5632), (32000, 2048) } : [])
{
    // Cold: cycling through copies (≥ 384 MiB) streams every call from DRAM. Warm: one copy, partly cache-resident.
    var ws = Bench.Copies(n, k, DType.BF16);
    // Other tenants share the memory system: alternate read-bandwidth and matvec rounds and compare the best of each.
    double t1 = double.MaxValue, read = 0;
    for (int round = 0; round < 5; round++)
    {
        read = Math.Max(read, Bench.ReadGBs(256 << 20, threads));
        t1 = Math.Min(t1, Bench.MatMulSeconds(cpu, ws, 1));
    }
    double t8 = Bench.MatMulSeconds(cpu, ws, 8);
    double warm = Bench.MatMulSeconds(cpu, ws[..1], 1);
    double bytes = ws[0].ByteLength;
    double gbs = bytes / t1 / 1e9;
    rows.Add(($"BF16 matvec T=1 w[{n},{k}] cold (GB/s, % of read bw)", $"{gbs:F1} ({100 * gbs / read:F0}% of {read:F1})  {t1 * 1e3:F2} ms"));
    rows.Add(($"  same, warm single copy (GB/s)", $"{bytes / warm / 1e9:F1}  {warm * 1e3:F2} ms"));
    rows.Add(($"  T=8 cold (speedup vs 8×T=1)", $"{8 * t1 / t8:F2}x  {t8 * 1e3:F2} ms"));
    foreach (var wi in ws) wi.Storage.Dispose();
}
foreach (var dt in Run("prefill") ? new[] { DType.BF16, DType.F32 } : [])
{
    foreach (var (n, k) in new[] { (2048, 2048), (5632, 2048) })
    {
        Weight[] w = [Bench.Weight(n, k, dt)];
        double s = Bench.MatMulSeconds(cpu, w, 512);
        double gf = 2.0 * 512 * n * k / s / 1e9;
        rows.Add(($"{dt} prefill T=512 w[{n},{k}] (GFLOP/s, % of FMA peak)", $"{gf:F1} ({100 * gf / fmaN:F0}%)  {s * 1e3:F1} ms"));
        s = Bench.MatMulSeconds(cpu1, w, 512);
        gf = 2.0 * 512 * n * k / s / 1e9;
        rows.Add(($"  same, 1 thread (GFLOP/s, % of 1-thread peak)", $"{gf:F1} ({100 * gf / fma1:F0}%)  {s * 1e3:F1} ms"));
        w[0].Storage.Dispose();
    }
}

if (Run("head"))
{
    // The output projection [32000, 2048] prepared (Interleaved16), T = 1, with a trained head's value scale (uniform ±0.035, so
    // ≈ 0.2 % of the F16 values are subnormals): BF16 against F16 as prepared (shifted-F16 codes) and on the two plain F16 loads
    // (timed on the checkpoint's F16 bits viewed as interleaved: the same access pattern and value mix, outputs not meaningful).
    foreach (var dt in new[] { DType.BF16, DType.F16 })
    {
        var raw = Bench.Weight(32000, 2048, dt);
        unsafe
        {
            var rng = new Random(3);
            for (long i = 0; i < raw.Shape.NumElements; i++)
            {
                float v = (float)((rng.NextDouble() - 0.5) * 0.07);
                if (dt == DType.BF16) ((ushort*)raw.Pointer)[i] = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
                else ((Half*)raw.Pointer)[i] = (Half)v;
            }
        }
        var p = cpu.PrepareLinear(raw);
        var variants = new List<(string, Weight)> { (dt == DType.BF16 ? "" : p.IsShiftedHalf ? " shifted codes" : " as prepared", p) };
        if (dt == DType.F16)
        {
            variants.Add((" plain, finite path", new Weight("finite", dt, raw.Shape, raw.Storage, 0, WeightLayout.Interleaved16) { KnownFinite = true }));
            variants.Add((" plain, general path", new Weight("unknown", dt, raw.Shape, raw.Storage, 0, WeightLayout.Interleaved16)));
        }
        foreach (var (path, w) in variants)
        {
            double s = Bench.MatMulSeconds(cpu, [w], 1);
            rows.Add(($"head {dt}{path} T=1 w[32000,2048] (GB/s)", $"{w.ByteLength / s / 1e9:F1}  {s * 1e3:F2} ms"));
        }
    }
}

if (Run("packed"))
{
    // Interleaved16 weights (what the engine's linear layers use): outer-product kernels, Vector512 where accelerated.
    double fma512 = Bench.FmaPeak512GFlops(threads);
    double peak = Math.Max(fma512, fmaN);
    rows.Add(($"FMA peak Vector512, {threads} threads (GFLOP/s)", $"{fma512:F1}"));
    foreach (var (n, k) in new[] { (2048, 2048), (5632, 2048), (2048, 5632), (256, 2048) })
    {
        var raw = Bench.Weight(n, k, DType.BF16);
        Weight[] w = [cpu.PrepareLinear(raw)];
        foreach (int tokens in new[] { 512, 128 })
        {
            double s = Bench.MatMulSeconds(cpu, w, tokens);
            double gf = 2.0 * tokens * n * k / s / 1e9;
            rows.Add(($"packed BF16 T={tokens} w[{n},{k}] (GFLOP/s, % of widest peak)", $"{gf:F1} ({100 * gf / peak:F0}%)  {s * 1e3:F1} ms"));
        }
        foreach (int tokens in new[] { 1, 8, 16 })
        {
            double s = Bench.MatMulSeconds(cpu, w, tokens);
            double gf = 2.0 * tokens * n * k / s / 1e9;
            rows.Add(($"packed BF16 T={tokens} w[{n},{k}] warm (GFLOP/s; GB/s)", $"{gf:F1}; {raw.ByteLength / s / 1e9:F1}  {s * 1e3:F2} ms"));
        }
        w[0].Storage.Dispose();
        raw.Storage.Dispose();
    }
}

if (Run("quant") || only.Contains("quant1"))
{
    // quant1: single-token rows only (quicker).
    int[] quantTokens = only.Contains("quant1") ? [1] : [1, 4, 16, 128];
    // Quantized weights (INT8 per channel, INT4 g128) against packed BF16, decode shapes of TinyLlama-1.1B, streamed from DRAM
    // (copies cycled); G weights/s is what single-sequence decode needs: about 1 G weights per token.
    foreach (var dt in only.Contains("quant1") ? [] : new[] { DType.BF16, DType.F16 })
    {
        // The head [V, H] stays in its float dtype (AutoAWQ checkpoints store it as F16): what every decode step adds.
        var head = Bench.Copies(32000, 2048, dt).Select(cpu.PrepareLinear).ToArray();
        double th = Bench.MatMulSeconds(cpu, head, 1);
        rows.Add(($"quant: lm_head {dt} T=1 w[32000,2048] interleaved cold (GB/s)", $"{2.0 * 32000 * 2048 / th / 1e9:F1}  {th * 1e3:F3} ms"));
        foreach (var wi in head) wi.Storage.Dispose();
    }
    foreach (var (n, k) in new[] { (5632, 2048), (2048, 5632), (2048, 2048), (256, 2048) })
    {
        var bf16 = Bench.Copies(n, k, DType.BF16).Select(cpu.PrepareLinear).ToArray();
        double tb = Bench.MatMulSeconds(cpu, bf16, 1);
        rows.Add(($"quant: BF16 T=1 w[{n},{k}] cold (G weights/s; GB/s)", $"{(double)n * k / tb / 1e9:F1}; {2.0 * n * k / tb / 1e9:F1}  {tb * 1e3:F3} ms"));
        foreach (var wi in bf16) wi.Storage.Dispose();
        foreach (var scheme in new[] { Estuary.Tensors.Quantization.QuantScheme.Int8PerChannel, Estuary.Tensors.Quantization.QuantScheme.Int4Group })
        {
            var ws = QuantBench.Copies(scheme, n, k);
            foreach (int tokens in quantTokens)
            {
                double t = QuantBench.MatMulSeconds(cpu, ws, tokens);
                string label = scheme == Estuary.Tensors.Quantization.QuantScheme.Int8PerChannel ? "INT8" : "INT4";
                rows.Add(($"quant: {label} T={tokens} w[{n},{k}] cold (G weights/s; GB/s; GFLOP/s)",
                    $"{(double)n * k / t / 1e9:F1}; {ws[0].ByteLength / t / 1e9:F1}; {2.0 * tokens * n * k / t / 1e9:F1}  {t * 1e3:F3} ms ({tb / t * tokens:F2}x BF16 T=1 per token)"));
            }
            // Warm (one copy, cache-resident after the first call): the kernel's compute rate without DRAM.
            double warm = QuantBench.MatMulSeconds(cpu, ws[..1], 1);
            rows.Add(($"quant:   same, T=1 warm single copy (G weights/s)", $"{(double)n * k / warm / 1e9:F1}  {warm * 1e3:F3} ms"));
        }
    }
}

if (only.Contains("micro")) rows.AddRange(MicroBench.Run());
if (only.Contains("gemm")) rows.AddRange(GemmBreakdownBench.Run());
if (only.Contains("overhead")) rows.AddRange(OverheadBench.Run(cpu, cpu1));
if (only.Contains("t16")) rows.AddRange(BatchDecodeBench.Run());
if (Run("attention")) rows.AddRange(AttentionBench.Run(cpu, cpu1));

if (Run("layers")) rows.AddRange(LayerMixBench.Run(cpu, rounds: 12));

if (Run("lora"))
{
    // LoRA factor shapes at decode (4 rows per adapter, rank 64): down-projection by A, up-projection by B.
    foreach (var (n, k) in new[] { (64, 2048), (2048, 64), (64, 5632), (5632, 64), (256, 64) })
    {
        var raw = Bench.Weight(n, k, DType.BF16);
        Weight[] w = [cpu.PrepareLinear(raw)];
        foreach (int tokens in new[] { 4, 16 })
        {
            double s = Bench.MatMulSeconds(cpu, w, tokens);
            double s1 = Bench.MatMulSeconds(cpu1, w, tokens);
            rows.Add(($"lora BF16 T={tokens} w[{n},{k}] 2 threads / 1 thread (µs)", $"{s * 1e6:F1} / {s1 * 1e6:F1}"));
        }
    }
}

int width = rows.Max(r => r.Name.Length);
Console.WriteLine();
Console.WriteLine($"| {"measurement".PadRight(width)} | value |");
Console.WriteLine($"| {new string('-', width)} | ----- |");
foreach (var (name, value) in rows) Console.WriteLine($"| {name.PadRight(width)} | {value} |");
