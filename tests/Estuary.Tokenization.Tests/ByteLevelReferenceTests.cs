// Exactness of byte-level BPE (tokenizer.json) against Data/byte_level_references.json, computed by Hugging Face's
// tokenizers.js from the two test tokenizers (scripts/byte-level-tokenizer-references.sh): ids with and without the
// surrounding special tokens, pieces, decodings with and without special tokens, and streaming decodes.
using System.Text.Json;

namespace Estuary.Tokenization.Tests;

public class ByteLevelReferenceTests
{
    private static readonly Lazy<JsonDocument> s_references = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "byte_level_references.json"))));

    internal static string TokenizerDir(string name) => Path.Combine(AppContext.BaseDirectory, "Data", "byte-level", name);

    private static readonly Dictionary<string, TextTokenizer> s_tokenizers = new()
    {
        ["llama3-style"] = TextTokenizer.Load(TokenizerDir("llama3-style")),
        ["gpt2-style"] = TextTokenizer.Load(TokenizerDir("gpt2-style")),
        ["qwen2-style"] = TextTokenizer.Load(TokenizerDir("qwen2-style")),
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var t in s_references.Value.RootElement.GetProperty("tokenizers").EnumerateArray())
            for (var i = 0; i < t.GetProperty("cases").GetArrayLength(); i++) data.Add(t.GetProperty("name").GetString()!, i);
        return data;
    }

    private static (TextTokenizer Tokenizer, JsonElement Case) Get(string name, int index)
    {
        foreach (var t in s_references.Value.RootElement.GetProperty("tokenizers").EnumerateArray())
            if (t.GetProperty("name").GetString() == name) return (s_tokenizers[name], t.GetProperty("cases")[index]);
        throw new ArgumentException("no tokenizer named " + name);
    }

    private static int[] Ints(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_matches_tokenizers_js(string name, int index)
    {
        var (tokenizer, c) = Get(name, index);
        var text = c.GetProperty("text").GetString()!;
        Assert.Equal(Ints(c.GetProperty("ids")), tokenizer.Encode(text, addSpecialTokens: false));
        Assert.Equal(Ints(c.GetProperty("ids_with_special")), tokenizer.Encode(text));
        Assert.Equal(Ints(c.GetProperty("ids")), tokenizer.EncodeWithSpecialTokens(text));
        // A normalized added token's piece is its content; tokenizers.js gives the content normalized (qwen2-style writes one
        // as "\u212Bngström"). Byte-level pieces are NFC already (no combining marks in the alphabet), so NFC compares both.
        static string Nfc(string s) => UnicodeNormalizer.Normalize(s, System.Text.NormalizationForm.FormC);
        Assert.Equal(c.GetProperty("pieces").EnumerateArray().Select(p => Nfc(p.GetString()!)), Ints(c.GetProperty("ids")).Select(id => Nfc(tokenizer.IdToPiece(id))));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_matches_tokenizers_js_and_streams_the_same_text(string name, int index)
    {
        var (tokenizer, c) = Get(name, index);
        var ids = Ints(c.GetProperty("ids"));
        Assert.Equal(c.GetProperty("decoded").GetString(), tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal(c.GetProperty("decoded_skip_special").GetString(), tokenizer.Decode(ids));

        foreach (var skip in new[] { true, false })
        {
            var detokenizer = tokenizer.CreateDetokenizer(skip);
            var streamed = string.Concat(ids.Select(detokenizer.Add)) + detokenizer.Flush();
            Assert.Equal(tokenizer.Decode(ids, skip), streamed);
        }
    }

    [Fact]
    public void The_cases_exercise_what_they_are_for()
    {
        // Guards against a regenerated reference that no longer reaches the components the cases were written for.
        var llama = s_tokenizers["llama3-style"];
        var gpt2 = s_tokenizers["gpt2-style"];
        var llamaCases = s_references.Value.RootElement.GetProperty("tokenizers")[0].GetProperty("cases").EnumerateArray().ToList();
        Assert.Contains(llamaCases, c => Ints(c.GetProperty("ids")).Contains(llama.PieceToId("<|eot_id|>")!.Value));
        Assert.Contains(llamaCases, c => c.GetProperty("decoded").GetString()!.Contains('\uFFFD') is false && c.GetProperty("text").GetString()!.Contains("😀"));
        var gpt2Cases = s_references.Value.RootElement.GetProperty("tokenizers")[1].GetProperty("cases").EnumerateArray().ToList();
        Assert.Contains(gpt2Cases, c => Ints(c.GetProperty("ids")).Contains(gpt2.PieceToId("[MASK]")!.Value) && c.GetProperty("text").GetString()!.Contains(" [MASK]"));
        Assert.Contains(gpt2Cases, c => Ints(c.GetProperty("ids")).Contains(gpt2.PieceToId("<|endoftext|>x")!.Value));
        Assert.True(llama.Encode("hello").Length > 1 && llama.Encode("hello")[0] == llama.BosId);

        // qwen2-style: text whose NFC differs encodes as its NFC; normalized added tokens match decomposed text; a raw token
        // wins over a normalized one it overlaps.
        var qwen = s_tokenizers["qwen2-style"];
        var qwenCases = s_references.Value.RootElement.GetProperty("tokenizers")[2].GetProperty("cases").EnumerateArray().ToList();
        int[] IdsOf(string text) => Ints(qwenCases.Single(c => c.GetProperty("text").GetString() == text).GetProperty("ids"));
        Assert.Equal(qwen.Encode("caf\u00E9 na\u00EFve r\u00E9sum\u00E9", addSpecialTokens: false), IdsOf("cafe\u0301 nai\u0308ve re\u0301sume\u0301"));
        Assert.Equal(2, IdsOf("café! cafe\u0301! \u212Bngstr\u00F6m \u00C5ngstro\u0308m A\u030Angstrom").Count(id => id == qwen.PieceToId("café!")));
        Assert.Contains(qwen.PieceToId("<tool_call>")!.Value, IdsOf("<tool_call>x <tool_call x call>x"));
        Assert.Contains(qwen.PieceToId("call>x")!.Value, IdsOf("<tool_call>x <tool_call x call>x"));
        Assert.Equal([qwen.PieceToId("<tool_call>")!.Value, qwen.PieceToId("x <tool")!.Value], IdsOf("x <tool_call> x <tool").Where(id => id >= qwen.PieceToId("<|endoftext|>")));
        Assert.False(qwen.AddBos);
    }

    [Fact]
    public void Special_tokens_and_the_bos_eos_policy_come_from_the_folder()
    {
        var llama = s_tokenizers["llama3-style"];
        Assert.True(llama.IsByteLevel);
        Assert.Equal(llama.PieceToId("<|begin_of_text|>"), llama.BosId);
        Assert.Equal(llama.PieceToId("<|eot_id|>"), llama.EosId);
        Assert.True(llama.AddBos);
        Assert.False(llama.AddEos);
        Assert.Equal(-1, llama.UnkId);
        Assert.True(llama.IsControl(llama.EosId));
        Assert.Null(llama.TokenBytes(llama.EosId));
        Assert.Equal("<|eot_id|>", llama.TokenText(llama.EosId));

        var gpt2 = s_tokenizers["gpt2-style"];
        Assert.False(gpt2.AddBos);
        Assert.Equal(gpt2.PieceToId("<|endoftext|>"), gpt2.EosId);
        var mask = gpt2.PieceToId("[MASK]")!.Value;
        Assert.False(gpt2.IsControl(mask)); // not special: it has text of its own
        Assert.Equal("[MASK]"u8.ToArray(), gpt2.TokenBytes(mask));

        var qwen = s_tokenizers["qwen2-style"]; // Qwen's config: "bos_token": null, EOS <|im_end|>, pad <|endoftext|>
        Assert.Equal(-1, qwen.BosId);
        Assert.False(qwen.AddBos || qwen.AddEos);
        Assert.Equal(qwen.PieceToId("<|im_end|>"), qwen.EosId);
        Assert.Equal(qwen.PieceToId("<|endoftext|>"), qwen.PadId);
        Assert.False(qwen.IsControl(qwen.PieceToId("<tool_call>")!.Value));
    }

    [Fact]
    public void Token_bytes_and_text_are_the_byte_level_characters_read_back()
    {
        var llama = s_tokenizers["llama3-style"];
        var space = llama.PieceToId("Ġ")!.Value;
        Assert.Equal(" "u8.ToArray(), llama.TokenBytes(space));
        Assert.Equal(" ", llama.TokenText(space));
        var ids = llama.Encode("平", addSpecialTokens: false); // three UTF-8 bytes, no merge of them was trained
        Assert.Equal("平"u8.ToArray(), ids.SelectMany(id => llama.TokenBytes(id)!).ToArray());
        Assert.Contains('\uFFFD', llama.TokenText(ids[0]));
    }

    [Fact]
    public void A_continuation_decodes_after_its_prompt()
    {
        var llama = s_tokenizers["llama3-style"];
        var prompt = llama.Encode("And God said", addSpecialTokens: true);
        var generated = llama.Encode(", Let there be light 平方", addSpecialTokens: false);
        var detokenizer = llama.CreateDetokenizer(prompt);
        var streamed = string.Concat(generated.Select(detokenizer.Add)) + detokenizer.Flush();
        Assert.Equal(", Let there be light 平方", streamed);
    }
}
