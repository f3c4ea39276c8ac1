// Reads prompt ids and greedy continuations from a fixture's reference.json.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

internal sealed record ReferenceCase(string Name, int[] PromptIds, int[] GreedyIds, string GreedyText);

internal static class ReferenceCases
{
    public static IReadOnlyList<ReferenceCase> Load(string model)
    {
        using var doc = Fixtures.Json(model, "reference.json");
        var result = new List<ReferenceCase>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            result.Add(new ReferenceCase(c.GetProperty("name").GetString()!, Ints(c.GetProperty("prompt_ids")),
                Ints(c.GetProperty("greedy").GetProperty("generated_ids")),
                c.GetProperty("greedy").GetProperty("generated_text").GetString()!));
        return result;
    }

    public static int[] Ints(JsonElement e) => Fixtures.Ints(e);
}
