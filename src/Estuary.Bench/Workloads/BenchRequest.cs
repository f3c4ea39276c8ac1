// One request of a benchmark workload: the prompt as text and ids, and how many tokens to generate.
namespace Estuary.Bench.Workloads;

/// <summary>A workload item.</summary>
/// <param name="Index">Position in the workload.</param>
/// <param name="Prompt">Prompt text.</param>
/// <param name="PromptIds">The prompt encoded by the target model's tokenizer (no special tokens).</param>
/// <param name="OutputLength">Tokens to generate (sent as max_tokens with ignore_eos).</param>
public sealed record BenchRequest(int Index, string Prompt, int[] PromptIds, int OutputLength);
