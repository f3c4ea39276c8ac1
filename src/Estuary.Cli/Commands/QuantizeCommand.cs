// `estuary quantize`: writes a weight-only quantized copy of a model — INT8 per channel (our format) or AWQ INT4 (AutoAWQ GEMM).
// Invariant: the arguments, the input model and the output folder are all checked before calibration or writing starts, and the
// output folder appears only complete (QuantizedCheckpointWriter builds it beside the target and renames it into place).
using System.CommandLine;
using Estuary.Backend.Cpu;
using Estuary.Cli.Hosting;
using Estuary.Models;
using Estuary.Models.Quantization;
using Estuary.Tokenization;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds the quantize command.</summary>
internal static class QuantizeCommand
{
    /// <summary>The calibration text shipped beside the binary.</summary>
    public static string DefaultCalibration => Path.Combine(AppContext.BaseDirectory, "data", "calibration", "calibration.txt");

    public static Command Create()
    {
        var modelDir = new Option<string>("--model-dir") { Description = "Hugging Face model directory (F32/F16/BF16)", Required = true };
        var outputDir = new Option<string>("--output-dir") { Description = "Where to write the quantized model (must not exist or be empty unless --overwrite)", Required = true };
        var method = new Option<string>("--method") { Description = "int8 (per-channel, our format) or awq (INT4, AutoAWQ GEMM format)", Required = true };
        var wBit = new Option<int>("--w-bit") { Description = "AWQ weight bits (4)", DefaultValueFactory = _ => 4 };
        var groupSize = new Option<int>("--group-size") { Description = "AWQ input columns per scale", DefaultValueFactory = _ => 128 };
        var zeroPoint = new Option<bool>("--zero-point") { Description = "AWQ zero points (true)", DefaultValueFactory = _ => true };
        var calib = new Option<string?>("--calib") { Description = "Calibration text file (default: the shipped data/calibration/calibration.txt)" };
        var samples = new Option<int>("--calib-samples") { Description = "Calibration windows", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--calib-seqlen") { Description = "Tokens per calibration window (capped at the model's positions)", DefaultValueFactory = _ => 512 };
        var noClip = new Option<bool>("--no-clip") { Description = "Skip AWQ's clipping-range search" };
        var grid = new Option<int>("--scale-grid") { Description = "Grid points for the scaling exponent α (1 = α 0 only, i.e. plain RTN)", DefaultValueFactory = _ => 20 };
        var keepHead = new Option<bool>("--keep-lm-head") { Description = "INT8: leave lm_head in its float dtype (by default it is quantized too; it is ~6–12 % of the bytes read per token)" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for calibration (default: all cores)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder (only once the new model is complete)" };
        var command = new Command("quantize", "Write a weight-only INT8 or AWQ INT4 copy of a model");
        foreach (var o in new Option[] { modelDir, outputDir, method, wBit, groupSize, zeroPoint, calib, samples, seqLen, noClip, grid, keepHead, threads, overwrite }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string src = r.GetValue(modelDir)!, dst = r.GetValue(outputDir)!;
            bool replace = r.GetValue(overwrite);
            if (!Directory.Exists(src)) throw new UsageException($"--model-dir: '{src}' does not exist");
            AwqOptions? options = null;
            switch (r.GetValue(method))
            {
                case "int8":
                    break;
                case "awq":
                    options = new AwqOptions { Bits = r.GetValue(wBit), GroupSize = r.GetValue(groupSize), ZeroPoint = r.GetValue(zeroPoint), SearchClip = !r.GetValue(noClip), ScaleGrid = r.GetValue(grid) };
                    if (options.Validate() is { Count: > 0 } errors) throw new UsageException(string.Join("; ", errors));
                    break;
                case var other:
                    throw new UsageException($"--method must be int8 or awq (got '{other}')");
            }
            int layers = QuantizedCheckpointWriter.CheckInput(src, dst, replace, options).NumLayers;
            var started = System.Diagnostics.Stopwatch.StartNew();
            if (options is null)
                Progress("Quantizing layers (INT8)", layers, p => QuantizedCheckpointWriter.WriteInt8(src, dst, p, r.GetValue(keepHead), replace));
            else
                RunAwq(src, dst, options, r.GetValue(calib) ?? DefaultCalibration, r.GetValue(samples), r.GetValue(seqLen), r.GetValue(threads), layers, replace);
            Console.Error.WriteLine($"wrote {dst} in {started.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }

    private static void RunAwq(string src, string dst, AwqOptions options, string calibPath, int numSamples, int seqLen, int? threads, int layers, bool overwrite)
    {
        if (!File.Exists(calibPath))
            throw new UsageException(Directory.Exists(calibPath) ? $"--calib: '{calibPath}' is a folder, not a file" : $"--calib: file '{calibPath}' does not exist");
        if (numSamples < 1 || seqLen < 2) throw new UsageException("--calib-samples must be ≥ 1 and --calib-seqlen ≥ 2");
        using var backend = new CpuBackend(threads);
        using var model = ModelLoader.Load(src, backend);
        seqLen = Math.Min(seqLen, model.Config.MaxPositions);
        var ids = TextTokenizer.Load(src).Encode(File.ReadAllText(calibPath), addSpecialTokens: false);
        var windows = new List<int[]>();
        for (int start = 0; start + 2 <= ids.Length && windows.Count < numSamples; start += seqLen)
            windows.Add(ids[start..Math.Min(ids.Length, start + seqLen)]);
        if (windows.Count == 0) throw new UsageException($"--calib: '{calibPath}' encodes to fewer than 2 tokens");
        LayerActivations[]? stats = null;
        Progress("Calibrating", windows.Count, p => stats = AwqCalibrator.Collect(model, windows, options.MaxSampleRows, p));
        Progress("Searching scales and quantizing layers (AWQ)", layers, p => QuantizedCheckpointWriter.WriteAwq(src, dst, options, stats!, backend, p, overwrite));
    }

    private static void Progress(string what, int total, Action<IProgress<int>> work)
    {
        if (Console.IsErrorRedirected)
        {
            work(new SyncProgress<int>(n => { if (n == total || n % Math.Max(1, total / 10) == 0) Console.Error.WriteLine($"{what}: {n}/{total}"); }));
            return;
        }
        ModelLoading.ErrorConsole.Progress().AutoClear(false).Start(ctx =>
        {
            var task = ctx.AddTask(what, maxValue: total);
            work(new SyncProgress<int>(n => task.Value = n));
            task.Value = total;
        });
    }
}
