// Loading byte-level BPE tokenizers from tokenizer.json: which file a folder's tokenizer comes from, and a clear refusal,
// naming the component and the file, for everything the encoder does not reproduce exactly.
using System.Text.Json.Nodes;
using Estuary.Testing;

namespace Estuary.Tokenization.Tests;

public sealed class ByteLevelLoadingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-bytelevel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Llama3Style() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(ByteLevelReferenceTests.TokenizerDir("llama3-style"), "tokenizer.json")))!.AsObject();

    private Exception LoadFailure(Action<JsonObject> change)
    {
        var json = Llama3Style();
        change(json);
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        return Assert.ThrowsAny<Exception>(() => TextTokenizer.Load(_dir));
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "unigram", "model type Unigram" },
        { "byte_fallback", "byte_fallback" },
        { "dropout", "dropout" },
        { "suffix", "end_of_word_suffix" },
        { "metaspace", "pre-tokenizer Metaspace" },
        { "split_removed", "behavior Removed" },
        { "after_bytelevel", "after ByteLevel" },
        { "no_bytelevel", "no ByteLevel step" },
        { "bad_pattern", "cannot be compiled" },
        { "shorthand", "'\\w' (its set differs between Oniguruma and .NET)" },
        { "non_ascii", "the character U+4E00" },
        { "normalizer", "normalizer Lowercase" },
        { "normalizer_in_sequence", "normalizer Replace is not supported (only NFC, NFD, NFKC, NFKD and Sequences of them)" },
        { "decoder", "decoder Metaspace" },
        { "post_processor", "post-processor BertProcessing" },
        { "single_word", "single_word" },
        { "missing_byte", "no token for byte 0x41" },
        { "merge_unknown", "missing from the vocabulary" },
        { "merge_malformed", "not two tokens" },
        { "negative_added_id", "has id -5, outside [0, 16777216)" },
        { "huge_vocab_id", "vocab id 2147483647 of \"Ġunmerged\" is outside" },
        { "post_processor_id", "the post-processor adds id 99999, outside the vocabulary" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Unsupported_or_broken_components_are_refused_by_name(string change, string expected)
    {
        var e = LoadFailure(json =>
        {
            var model = json["model"]!.AsObject();
            var pre = json["pre_tokenizer"]!["pretokenizers"]!.AsArray();
            switch (change)
            {
                case "unigram": model["type"] = "Unigram"; break;
                case "byte_fallback": model["byte_fallback"] = true; break;
                case "dropout": model["dropout"] = 0.1; break;
                case "suffix": model["end_of_word_suffix"] = "</w>"; break;
                case "metaspace": pre[0] = new JsonObject { ["type"] = "Metaspace" }; break;
                case "split_removed": pre[0]!["behavior"] = "Removed"; break;
                case "after_bytelevel": pre.Add(new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "Isolated", ["invert"] = false }); break;
                case "no_bytelevel": pre.RemoveAt(1); break;
                case "bad_pattern": pre[0]!["pattern"] = new JsonObject { ["Regex"] = "(unclosed" }; break;
                case "shorthand": pre[0]!["pattern"] = new JsonObject { ["Regex"] = "\\w+|\\s+" }; break;
                case "non_ascii": pre[0]!["pattern"] = new JsonObject { ["Regex"] = "[一-龥]+|\\s+" }; break;
                case "normalizer": json["normalizer"] = new JsonObject { ["type"] = "Lowercase" }; break;
                case "normalizer_in_sequence":
                    json["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }, new JsonObject { ["type"] = "Replace" }) };
                    break;
                case "decoder": json["decoder"] = new JsonObject { ["type"] = "Metaspace" }; break;
                case "post_processor": json["post_processor"] = new JsonObject { ["type"] = "BertProcessing" }; break;
                case "single_word": json["added_tokens"]![0]!["single_word"] = true; break;
                case "missing_byte": model["vocab"]!.AsObject().Remove("A"); model["merges"] = new JsonArray(); break;
                case "merge_unknown": model["merges"]!.AsArray().Add(new JsonArray("A", "zzzz")); break;
                case "merge_malformed": model["merges"] = new JsonArray("nospace"); break;
                case "negative_added_id": json["added_tokens"]![1]!["id"] = -5; break;
                case "huge_vocab_id": model["vocab"]!["Ġunmerged"] = int.MaxValue; break;
                case "post_processor_id":
                    json["post_processor"]!["processors"]![1]!["special_tokens"]!["<|begin_of_text|>"]!["ids"] = new JsonArray(99999); break;
            }
        });
        Assert.True(e is NotSupportedException or InvalidDataException, e.GetType().Name + ": " + e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(_dir));
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void A_folder_without_a_tokenizer_names_both_files()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TextTokenizer.Load(_dir));
        Assert.Contains("tokenizer.model", e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void A_removed_inverted_split_keeps_only_its_matches()
    {
        // o200k's tokenizers (GPT-4o, Phi-4-mini) split with behavior Removed and invert: the matches are the pieces and the
        // text between them is dropped. Their pattern matches every character; this one does not, so the drop shows.
        var json = Llama3Style();
        var text = "ab 12 cd";
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        var isolated = TextTokenizer.Load(_dir);
        var split = json["pre_tokenizer"]!["pretokenizers"]![0]!.AsObject();
        split["pattern"] = new JsonObject { ["Regex"] = "\\p{L}+" };
        split["behavior"] = "Removed";
        split["invert"] = true;
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        var removed = TextTokenizer.Load(_dir);
        Assert.Equal("abcd", removed.Decode(removed.Encode(text, addSpecialTokens: false)));
        Assert.Equal(text, isolated.Decode(isolated.Encode(text, addSpecialTokens: false)));
        // With a pattern that matches every character (the original one), Removed inverted and Isolated cut alike.
        split["pattern"] = Llama3Style()["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!.DeepClone();
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        var same = TextTokenizer.Load(_dir);
        foreach (var t in new[] { text, "Hello, world! 12345 don't\n\n  x", "日本語 テキスト" })
            Assert.Equal(isolated.Encode(t, addSpecialTokens: false), same.Encode(t, addSpecialTokens: false));
    }

    [Fact]
    public void Tokenizer_model_wins_over_tokenizer_json_as_before()
    {
        // Llama 2 folders carry both; SentencePiece's own file stays the one read.
        File.Copy(Fixtures.Path("stories260k", "tokenizer.model"), Path.Combine(_dir, "tokenizer.model"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), Llama3Style().ToJsonString());
        var tokenizer = TextTokenizer.Load(_dir);
        Assert.False(tokenizer.IsByteLevel);
        Assert.Equal(512, tokenizer.VocabSize);
    }

    [Fact]
    public void A_byte_level_folder_without_a_chat_template_refuses_chat_instead_of_guessing_llama2()
    {
        var dir = ByteLevelReferenceTests.TokenizerDir("llama3-style"); // tokenizer.json and a tokenizer_config.json without a template
        var tokenizer = TextTokenizer.Load(dir);
        var format = ChatFormats.ForModel(dir, tokenizer);
        Assert.IsType<MissingChatFormat>(format);
        var e = Assert.Throws<ArgumentException>(() => format.BuildPrompt([new ChatMessage("user", "hi")], 16));
        Assert.Contains("--chat-template", e.Message);
        Assert.Equal("llama2", ChatFormats.ForModel(dir, tokenizer, overrideName: "llama2").Name); // asked for by name, it is given
        Assert.Equal("template", ChatFormats.ForModel(dir, tokenizer, chatTemplate: "{{ messages[0].content }}").Name);
    }

    [Fact]
    public void Merges_may_be_written_as_strings_or_pairs()
    {
        var json = Llama3Style();
        var pairs = json["model"]!["merges"]!.AsArray();
        var strings = new JsonArray([.. pairs.Select(p => JsonValue.Create($"{p![0]} {p[1]}"))]);
        json["model"]!["merges"] = strings;
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        var fromStrings = TextTokenizer.Load(_dir);
        var fromPairs = TextTokenizer.Load(ByteLevelReferenceTests.TokenizerDir("llama3-style"));
        const string text = "And God said, Let there be light: and there was light. 平方";
        Assert.Equal(fromPairs.Encode(text), fromStrings.Encode(text));
    }

    [Fact]
    public void Unicode_normalizers_and_sequences_of_them_apply_in_order()
    {
        var json = Llama3Style();
        json["normalizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFKD" }, new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray(new JsonObject { ["type"] = "NFC" }) }),
        };
        File.WriteAllText(Path.Combine(_dir, "tokenizer.json"), json.ToJsonString());
        var normalizing = TextTokenizer.Load(_dir);
        var plain = TextTokenizer.Load(ByteLevelReferenceTests.TokenizerDir("llama3-style"));
        // NFKD then NFC: the ligature and the full-width letters fold, the decomposed accent composes again.
        Assert.Equal(plain.Encode("file caf\u00E9 AB"), normalizing.Encode("\uFB01le cafe\u0301 \uFF21\uFF22"));
        Assert.NotEqual(plain.Encode("file caf\u00E9 AB"), plain.Encode("\uFB01le cafe\u0301 \uFF21\uFF22"));
    }
}
