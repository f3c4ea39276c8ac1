// `estuary merge-lora`: merges a PEFT LoRA adapter into its base model and writes a Hugging Face model folder (merge_lora.py's flags).
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Models.Lora;
using Estuary.Tensors;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds the merge-lora command.</summary>
internal static class MergeLoraCommand
{
    public static Command Create()
    {
        var lora = new Option<string>("--lora-model-dir") { Description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors/.bin)", Required = true };
        var baseDir = new Option<string?>("--base-model-dir") { Description = "Base model folder (default: the adapter's base_model_name_or_path, relative to the adapter folder's parent)" };
        var merged = new Option<string>("--merged-model-dir") { Description = "Output folder (must not exist or be empty unless --overwrite)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f16, bf16 or f32", DefaultValueFactory = _ => "f16" };
        var shardSize = new Option<string>("--shard-size") { Description = "Largest shard (e.g. 5GB, 500MB)", DefaultValueFactory = _ => "5GB" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace a non-empty output folder" };
        var command = new Command("merge-lora", "Merge a LoRA adapter into its base model (W' = W + s·B·A) and write the merged model");
        foreach (var o in new Option[] { lora, baseDir, merged, dtype, shardSize, overwrite }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var options = new LoraMergeOptions(r.GetValue(lora)!, r.GetValue(merged)!)
            {
                BaseDir = r.GetValue(baseDir),
                DType = ParseDType(r.GetValue(dtype)!),
                MaxShardBytes = ByteSize.Parse(r.GetValue(shardSize)!, "--shard-size"),
                Overwrite = r.GetValue(overwrite),
            };
            LoraMergeResult? result = null;
            try
            {
                if (Console.IsErrorRedirected) result = LoraMerger.Merge(options);
                else
                {
                    ModelLoading.ErrorConsole.Progress().AutoClear(true).Start(ctx =>
                    {
                        var task = ctx.AddTask("Merging tensors");
                        result = LoraMerger.Merge(options, new SyncProgress<LoraMergeProgress>(p =>
                        {
                            task.MaxValue = p.Total;
                            task.Value = p.Done;
                        }));
                    });
                }
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new UsageException(e.Message);
            }
            var m = result!;
            Console.Error.WriteLine($"checked adapter {options.LoraDir} against {m.BaseDir} in {m.LoadTime.TotalSeconds:F2} s; " +
                $"merged {m.NumMerged} modules, replaced {m.NumReplaced} tensors, wrote {m.NumTensors} tensors " +
                $"({m.DataBytes / 1e6:F1} MB {options.DType}, {m.Shards.Count} shard{(m.Shards.Count == 1 ? "" : "s")}) to {m.MergedDir} in {m.MergeTime.TotalSeconds:F2} s");
            return 0;
        });
        return command;
    }

    private static DType ParseDType(string text) => text.ToLowerInvariant() switch
    {
        "f16" or "fp16" or "float16" => DType.F16,
        "bf16" or "bfloat16" => DType.BF16,
        "f32" or "fp32" or "float32" => DType.F32,
        _ => throw new UsageException($"--dtype: '{text}' is not one of f16, bf16, f32"),
    };
}
