// `estuary make-lora`: a random PEFT adapter for a model folder, for LoRA serving and merge benchmarks.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Models.Synthetic;

namespace Estuary.Cli.Commands;

/// <summary>Builds the make-lora command.</summary>
internal static class MakeLoraCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Base model directory (default: the embedded model)" };
        var output = new Option<string>("--out", "-o") { Description = "Adapter directory to write (must be empty or absent)", Required = true };
        var rank = new Option<int>("--rank", "-r") { Description = "LoRA rank", DefaultValueFactory = _ => 8 };
        var alpha = new Option<float>("--alpha") { Description = "lora_alpha", DefaultValueFactory = _ => 16 };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var command = new Command("make-lora", "Write a random PEFT LoRA adapter for a model (all attention and MLP projections)");
        foreach (var o in new Option[] { model, output, rank, alpha, seed }) command.Options.Add(o);
        command.SetAction(r =>
        {
            try
            {
                int n = RandomLoraWriter.Write(DefaultModel.Resolve(r.GetValue(model)), r.GetValue(output)!, r.GetValue(rank), r.GetValue(alpha), r.GetValue(seed));
                Console.Error.WriteLine($"wrote a rank-{r.GetValue(rank)} adapter on {n} modules to {r.GetValue(output)}");
            }
            catch (IOException e)
            {
                throw new UsageException(e.Message);
            }
            return 0;
        });
        return command;
    }
}
