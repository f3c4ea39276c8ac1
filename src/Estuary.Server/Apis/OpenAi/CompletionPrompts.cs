// Reads /v1/completions' "prompt": a string, a list of strings, a list of token ids, or a list of token-id lists.
// Invariant: returns 1..max prompts, each with ids and the text echo would show; anything else is a 400 on "prompt".
using System.Text.Json;
using Estuary.Server.Http;
using Estuary.Server.Generation;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.OpenAi;

internal static class CompletionPrompts
{
    private const string Shape = "'prompt' must be a string, a list of strings, a list of token ids, or a list of token-id lists";

    public static List<(int[] Ids, string Text)> Parse(JsonElement? prompt, TextTokenizer tokenizer, int max)
    {
        if (prompt is not { } p || p.ValueKind == JsonValueKind.Null) throw RequestException.BadRequest("'prompt' is required", "prompt");
        if (p.ValueKind == JsonValueKind.String) return [FromText(JsonText.Read(p, "prompt"), tokenizer)];
        if (p.ValueKind != JsonValueKind.Array || p.GetArrayLength() == 0) throw RequestException.BadRequest(Shape, "prompt");
        var result = new List<(int[], string)>();
        var first = p[0].ValueKind;
        if (first == JsonValueKind.Number) return [FromIds(p, tokenizer)];
        foreach (var item in p.EnumerateArray())
        {
            if (item.ValueKind != first) throw RequestException.BadRequest(Shape, "prompt");
            if (item.ValueKind == JsonValueKind.String) result.Add(FromText(JsonText.Read(item, $"prompt[{result.Count}]"), tokenizer));
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() > 0) result.Add(FromIds(item, tokenizer));
            else throw RequestException.BadRequest(Shape, "prompt");
        }
        if (result.Count > max) throw RequestException.BadRequest($"at most {max} prompts per request (got {result.Count})", "prompt");
        return result;
    }

    private static (int[], string) FromText(string text, TextTokenizer tokenizer) => (tokenizer.Encode(text), text);

    private static (int[], string) FromIds(JsonElement array, TextTokenizer tokenizer)
    {
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i])) throw RequestException.BadRequest(Shape, "prompt");
            if ((uint)ids[i] >= (uint)tokenizer.VocabSize)
                throw RequestException.BadRequest($"prompt token id {ids[i]} is outside the vocabulary [0, {tokenizer.VocabSize})", "prompt");
            i++;
        }
        return (ids, tokenizer.Decode(ids));
    }
}
