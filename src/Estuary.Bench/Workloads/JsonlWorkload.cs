// Prompts from a JSONL file: one {"prompt": "...", "output_len": N} object per line (output_len optional).
using System.Text.Json;
using Estuary.Tokenization;

namespace Estuary.Bench.Workloads;

/// <summary>Reads workloads from JSON Lines.</summary>
public static class JsonlWorkload
{
    /// <summary>Reads up to <paramref name="limit"/> prompts; lines without output_len use <paramref name="defaultOutputLength"/>.</summary>
    public static IReadOnlyList<BenchRequest> Read(string path, TextTokenizer tokenizer, int defaultOutputLength, int limit)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"prompt file '{path}' does not exist", path);
        var result = new List<BenchRequest>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (result.Count >= limit) break;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var prompt = doc.RootElement.GetProperty("prompt").GetString() ?? throw new FormatException("prompt is null");
                int output = doc.RootElement.TryGetProperty("output_len", out var o) ? o.GetInt32() : defaultOutputLength;
                result.Add(new BenchRequest(result.Count, prompt, tokenizer.Encode(prompt, addSpecialTokens: false), output));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw new FormatException($"{path}:{lineNumber}: expected {{\"prompt\": string, \"output_len\"?: int}} ({e.Message})", e);
            }
        }
        if (result.Count == 0) throw new FormatException($"{path}: no prompts found");
        return result;
    }
}
