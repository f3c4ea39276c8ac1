// Shared, lazily loaded fixture tokenizers and reference JSON for the tokenization tests.
// Invariant: everything here is read-only once loaded, so tests may share it across threads.
using System.Collections.Concurrent;
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Tokenization.Tests;

internal static class TestData
{
    private static readonly ConcurrentDictionary<string, TextTokenizer> s_tokenizers = new();
    private static readonly ConcurrentDictionary<string, JsonDocument> s_json = new();

    /// <summary>The 41-string reference for the three tokenizers in fixtures/tokenizers.</summary>
    public static JsonElement TokenizerReference => Json("tokenizers", "reference.json").RootElement;

    public static JsonDocument Json(params string[] parts) =>
        s_json.GetOrAdd(string.Join('/', parts), _ => Fixtures.Json(parts));

    /// <summary>Tokenizer of fixtures/tokenizers/&lt;name&gt; with the reference's add_bos policy.</summary>
    public static TextTokenizer ReferenceTokenizer(string name) =>
        s_tokenizers.GetOrAdd("ref:" + name, n =>
        {
            var entry = ReferenceEntry(name);
            return TextTokenizer.FromModelFile(Fixtures.Path("tokenizers", entry.GetProperty("model_file").GetString()!),
                entry.GetProperty("add_bos").GetBoolean(), addEos: false);
        });

    /// <summary>Tokenizer loaded from a model folder with <see cref="TextTokenizer.Load"/>.</summary>
    public static TextTokenizer FolderTokenizer(string folder) =>
        s_tokenizers.GetOrAdd("dir:" + folder, _ => TextTokenizer.Load(Fixtures.Path(folder)));

    public static JsonElement ReferenceEntry(string name)
    {
        foreach (var t in TokenizerReference.GetProperty("tokenizers").EnumerateArray())
        {
            if (t.GetProperty("name").GetString() == name) return t;
        }
        throw new ArgumentException("no tokenizer named " + name);
    }

    public static JsonElement ReferenceCase(string tokenizer, string caseName)
    {
        foreach (var c in ReferenceEntry(tokenizer).GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("name").GetString() == caseName) return c;
        }
        throw new ArgumentException($"no case {caseName} for {tokenizer}");
    }

    public static int[] Ints(JsonElement array)
    {
        var result = new int[array.GetArrayLength()];
        var i = 0;
        foreach (var e in array.EnumerateArray()) result[i++] = e.GetInt32();
        return result;
    }
}
