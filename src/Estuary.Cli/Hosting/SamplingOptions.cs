// Sampling options shared by generate and chat; unset options keep the generation_config.json defaults.
using System.CommandLine;
using Estuary.Engine;

namespace Estuary.Cli.Hosting;

/// <summary>--max-tokens, --temperature, --top-k, … mapped onto the model's default SamplingParams.</summary>
internal sealed class SamplingOptions
{
    public Option<int?> MaxTokens { get; } = new("--max-tokens", "-n") { Description = "Most new tokens (default: generation_config.json, else 256)" };
    public Option<float?> Temperature { get; } = new("--temperature", "-t") { Description = "Sampling temperature; 0 = greedy (default: generation_config.json)" };
    public Option<int?> TopK { get; } = new("--top-k") { Description = "Keep the k most likely tokens" };
    public Option<float?> TopP { get; } = new("--top-p") { Description = "Nucleus sampling mass" };
    public Option<float?> MinP { get; } = new("--min-p") { Description = "Drop tokens below min_p × the best probability" };
    public Option<float?> RepetitionPenalty { get; } = new("--repetition-penalty") { Description = "HF repetition penalty (1 = off)" };
    public Option<long?> Seed { get; } = new("--seed") { Description = "Random seed of each request" };
    public Option<bool> IgnoreEos { get; } = new("--ignore-eos") { Description = "Keep generating past the end-of-sequence token" };
    public Option<string[]> Stop { get; } = new("--stop") { Description = "Stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
    public Option<string?> UseLora { get; } = new("--use-lora") { Description = "Generate with this loaded adapter (see --lora NAME=DIR)" };
    public StructuredOutputOptions Structured { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { MaxTokens, Temperature, TopK, TopP, MinP, RepetitionPenalty, Seed, IgnoreEos, Stop, UseLora })
            command.Options.Add(o);
        Structured.AddTo(command);
    }

    public SamplingParams Build(ParseResult r, LlmEngine engine)
    {
        var p = engine.DefaultSamplingParams(r.GetValue(MaxTokens) ?? engine.Generation.MaxNewTokens ?? 256);
        if (r.GetValue(Temperature) is { } t) p = p with { Temperature = t };
        if (r.GetValue(TopK) is { } k) p = p with { TopK = k };
        if (r.GetValue(TopP) is { } tp) p = p with { TopP = tp };
        if (r.GetValue(MinP) is { } mp) p = p with { MinP = mp };
        if (r.GetValue(RepetitionPenalty) is { } rp) p = p with { RepetitionPenalty = rp };
        p = p with { Seed = r.GetValue(Seed), IgnoreEos = r.GetValue(IgnoreEos), Stop = r.GetValue(Stop) ?? [], LoraName = r.GetValue(UseLora) };
        if (Structured.Read(r) is { } structured)
        {
            if (engine.ValidateStructuredOutput(structured) is { } problem) throw new UsageException(problem);
            p = p with { StructuredOutput = structured };
        }
        var errors = p.Validate();
        if (errors.Count > 0) throw new UsageException(string.Join("; ", errors));
        return p;
    }
}
