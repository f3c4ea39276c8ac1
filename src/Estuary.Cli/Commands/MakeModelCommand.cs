// `estuary make-model`: a random-weight checkpoint at a real model's shape, in the real Hugging Face layout, for benchmarks.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Engine.Synthetic;
using Estuary.Models.Synthetic;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds the make-model command.</summary>
internal static class MakeModelCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = "Shape preset: " + string.Join(", ", ModelShapes.Names), Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32, f16 or bf16", DefaultValueFactory = _ => "bf16" };
        var output = new Option<string>("--out", "-o") { Description = "Output directory (created; must be empty unless --overwrite)", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed of the weights", DefaultValueFactory = _ => 0 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace model files in a non-empty directory" };
        var command = new Command("make-model", "Write a random-weight model at a real shape (config, tokenizer, safetensors)");
        foreach (var o in new Option[] { shape, dtype, output, seed, overwrite }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            ModelShape? written = null;
            try
            {
                ModelLoading.ErrorConsole.Progress().AutoClear(true).Start(ctx =>
                {
                    var task = ctx.AddTask("Writing tensors");
                    written = MakeModel.Run(r.GetValue(shape)!, r.GetValue(dtype)!, r.GetValue(output)!, r.GetValue(seed), r.GetValue(overwrite),
                        new SyncProgress<(int Done, int Total)>(p =>
                        {
                            task.MaxValue = p.Total;
                            task.Value = p.Done;
                        }));
                });
            }
            catch (IOException e)
            {
                throw new UsageException(e.Message);
            }
            Console.Error.WriteLine($"wrote {written!.Name} ({written.ParameterCount / 1e6:F1}M parameters, {r.GetValue(dtype)}) to {r.GetValue(output)} in {started.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }
}
