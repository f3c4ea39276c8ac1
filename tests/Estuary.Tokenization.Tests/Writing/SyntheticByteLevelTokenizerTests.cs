// Tests of the synthetic byte-level tokenizer writer: the written folder loads through TextTokenizer.Load at the size asked, with
// Llama 3's special tokens and layout; BPE reaches every token from its own text; any text round-trips; the chat template renders
// through ChatFormats; the output is deterministic.
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Estuary.Tokenization.Writing;
using Xunit.Abstractions;

namespace Estuary.Tokenization.Tests.Writing;

public sealed class SyntheticByteLevelTokenizerTests(SyntheticByteLevelTokenizerTests.Llama3Size llama3, ITestOutputHelper output)
    : IDisposable, IClassFixture<SyntheticByteLevelTokenizerTests.Llama3Size>
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-blwriter-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The tokenizer at Llama 3's 128256, written once for the class (about half a second).</summary>
    public sealed class Llama3Size : IDisposable
    {
        private readonly Lazy<string> _dir = new(() =>
        {
            var dir = Directory.CreateTempSubdirectory("estuary-blwriter-llama3-").FullName;
            SyntheticByteLevelTokenizer.Write(dir, 128256);
            return dir;
        });

        public string Dir => _dir.Value;

        public void Dispose()
        {
            if (_dir.IsValueCreated) Directory.Delete(_dir.Value, recursive: true);
        }
    }

    private string WriteFolder(int vocabSize, string? name = null)
    {
        if (vocabSize == 128256 && name is null) return llama3.Dir;
        var dir = Directory.CreateDirectory(Path.Combine(_root, name ?? vocabSize.ToString())).FullName;
        SyntheticByteLevelTokenizer.Write(dir, vocabSize);
        return dir;
    }

    private static JsonObject ReadJson(string dir, string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, name)))!.AsObject();

    [Theory]
    [InlineData(2048)]
    [InlineData(128256)]
    public void The_written_tokenizer_loads_at_the_size_asked_with_llama3_special_ids(int vocabSize)
    {
        var tok = TextTokenizer.Load(WriteFolder(vocabSize));
        int special = vocabSize - 256;
        Assert.True(tok.IsByteLevel);
        Assert.Equal(vocabSize, tok.VocabSize);
        Assert.Equal(special, tok.BosId);
        Assert.Equal(special + 9, tok.EosId);
        Assert.Equal(-1, tok.UnkId);
        Assert.Null(tok.PadId);
        Assert.True(tok.AddBos);
        Assert.False(tok.AddEos);
        string[] names =
        [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|eom_id|>", "<|eot_id|>", "<|python_tag|>", "<|reserved_special_token_3|>",
        ];
        for (int offset = 0; offset < names.Length; offset++)
        {
            Assert.Equal(names[offset], tok.IdToPiece(special + offset));
            Assert.Equal(names[offset], SyntheticByteLevelTokenizer.SpecialToken(offset));
        }
        Assert.Equal("<|reserved_special_token_247|>", tok.IdToPiece(vocabSize - 1));
        Assert.All(Enumerable.Range(special, 256), id => Assert.True(tok.IsControl(id)));
        Assert.False(tok.IsControl(special - 1));
        // The byte tokens in code-point order of their characters, as Llama 3's: '!' at 0, newline 'Ċ' at 198, space 'Ġ' at 220.
        Assert.Equal(("!", "Ċ", "Ġ"), (tok.IdToPiece(0), tok.IdToPiece(198), tok.IdToPiece(220)));
        Assert.Equal([special, .. tok.Encode("Hello", addSpecialTokens: false)], tok.Encode("Hello"));
        Assert.Equal([special + 9], tok.Encode("<|eot_id|>", addSpecialTokens: false));
    }

    [Fact]
    public void Every_token_is_reached_from_its_own_text()
    {
        // All of a small vocabulary, and a sample of Llama 3's size: each token's text encodes to that token alone. The byte tokens
        // above 0x7F are no text on their own (not UTF-8), so only the ASCII ones are taken.
        foreach (var (vocabSize, step) in new[] { (2048, 1), (128256, 37) })
        {
            var clock = Stopwatch.StartNew();
            var dir = WriteFolder(vocabSize);
            var written = clock.ElapsedMilliseconds;
            var tok = TextTokenizer.Load(dir);
            var loaded = clock.ElapsedMilliseconds;
            int checkedCount = 0;
            var ids = Enumerable.Range(0, 256).Where(id => tok.TokenBytes(id)![0] < 0x80)
                .Concat(Enumerable.Range(256, vocabSize - 512).Where(id => id % step == 0 || id >= vocabSize - 256 - 16));
            foreach (var id in ids)
            {
                var text = Encoding.UTF8.GetString(tok.TokenBytes(id)!);
                Assert.Equal([id], tok.Encode(text, addSpecialTokens: false));
                checkedCount++;
            }
            output.WriteLine($"{vocabSize}: written in {written} ms, loaded in {loaded - written} ms, " +
                $"{checkedCount} tokens encoded in {clock.ElapsedMilliseconds - loaded} ms");
        }
    }

    [Fact]
    public void Merges_build_each_word_from_its_prefix_in_order_of_creation()
    {
        var dir = WriteFolder(2048);
        var model = ReadJson(dir, "tokenizer.json")["model"]!;
        var vocab = model["vocab"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>());
        var merges = model["merges"]!.AsArray();
        Assert.Equal(2048 - 256, vocab.Count);
        Assert.Equal(vocab.Count - 256, merges.Count);
        Assert.Equal(Enumerable.Range(0, vocab.Count), vocab.Values);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            string left = (string)merges[rank]![0]!, right = (string)merges[rank]![1]!;
            Assert.Equal(256 + rank, vocab[left + right]);
            Assert.StartsWith("Ġ", left);
            Assert.True(vocab[left] < 256 + rank, left);
            Assert.InRange(vocab[right], 0, 255);
            Assert.True(char.IsAsciiLetter(right[0]), right);
        }
        Assert.Equal(["Ġ", "t"], merges[0]!.AsArray().Select(m => (string)m!));
        Assert.Contains("Ġthe", vocab.Keys);
        Assert.Contains("ĠOnce", vocab.Keys);

        // A word beyond the vocabulary is its longest prefix in it, then single letters (the merges only ever extend the prefix).
        var tok = TextTokenizer.Load(dir);
        foreach (var word in new[] { "thequickly", "Onceuponatime", "zzyzx", "animalistic" })
        {
            var text = "Ġ" + word;
            int length = Enumerable.Range(1, text.Length).Last(n => vocab.ContainsKey(text[..n]));
            int[] expected = [vocab[text[..length]], .. text[length..].Select(c => vocab[c.ToString()])];
            Assert.Equal(expected, tok.Encode(" " + word, addSpecialTokens: false));
        }
    }

    [Theory]
    [InlineData(512)]
    [InlineData(2048)]
    [InlineData(128256)]
    public void Any_text_round_trips(int vocabSize)
    {
        var tok = TextTokenizer.Load(WriteFolder(vocabSize));
        string[] texts =
        [
            "Once upon a time, the little dog said \"hi\" to the cat.",
            "  leading and trailing spaces  ", "tabs\tand\r\nnewlines\n\n\nend", "",
            "Grüße, naïve café — 你好，世界！ Привет, мир. مرحبا", "emoji 🦙🔥👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
            "numbers 1234567 3.14159 and symbols <>{}[]()@#$%^&*~`|\\", "it's we're they've I'm you'll he'd DON'T",
            "\u0000\u0001\u007f control bytes",
        ];
        foreach (var text in texts)
        {
            var ids = tok.Encode(text);
            Assert.Equal(tok.BosId, ids[0]);
            Assert.Equal(text, tok.Decode(ids));
        }
        // Special tokens written in the text are read as their ids, and written back when not skipped.
        const string chat = "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>";
        var chatIds = tok.Encode(chat, addSpecialTokens: false);
        Assert.Equal(vocabSize - 256 + 6, chatIds[0]);
        Assert.Equal(vocabSize - 256 + 9, chatIds[^1]);
        Assert.Equal(chat, tok.Decode(chatIds, skipSpecialTokens: false));
        Assert.Equal("user\n\nHi there", tok.Decode(chatIds));
    }

    [Fact]
    public void The_chat_template_renders_through_ChatFormats_to_the_expected_ids()
    {
        var dir = WriteFolder(2048);
        var tok = TextTokenizer.Load(dir);
        var format = Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(dir, tok));
        Assert.Equal("<|begin_of_text|>", format.BosToken);
        Assert.Equal("<|eot_id|>", format.EosToken);
        ChatMessage[] messages = [new("system", "Be brief."), new("user", "  Hello there!\n"), new("assistant", "Hi."), new("user", "Tell me a story")];
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nHello there!<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHi.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nTell me a story<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            format.Render(messages));

        int bos = 2048 - 256, start = bos + 6, end = bos + 7, eot = bos + 9;
        int[] Turn(string role, string content) =>
            [start, .. tok.Encode(role, false), end, .. tok.Encode("\n\n" + content, false), eot];
        int[] expected =
        [
            bos, .. Turn("system", "Be brief."), .. Turn("user", "Hello there!"), .. Turn("assistant", "Hi."),
            .. Turn("user", "Tell me a story"), start, .. tok.Encode("assistant", false), end, .. tok.Encode("\n\n", false),
        ];
        Assert.Equal(expected, format.BuildPrompt(messages, maxNewTokens: 16));
        int[] withoutPrompt = [bos, .. Turn("system", "Be brief."), .. Turn("user", "Hello there!"), .. Turn("assistant", "Hi."), .. Turn("user", "Tell me a story")];
        Assert.Equal(withoutPrompt, format.BuildPrompt(messages, addGenerationPrompt: false, continueFinalMessage: false));
    }

    [Fact]
    public void Files_follow_the_llama3_layout()
    {
        var dir = WriteFolder(2048);
        var written = ReadJson(dir, "tokenizer.json");
        var reference = JsonNode.Parse(File.ReadAllText(Path.Combine(ByteLevelReferenceTests.TokenizerDir("llama3-style"), "tokenizer.json")))!.AsObject();
        Assert.Equal(reference.Select(p => p.Key), written.Select(p => p.Key));
        foreach (var key in new[] { "version", "truncation", "padding", "normalizer", "pre_tokenizer", "decoder" })
            Assert.True(JsonNode.DeepEquals(reference[key], written[key]), key);
        // The post-processor differs only in <|begin_of_text|>'s id.
        var post = written["post_processor"]!.ToJsonString().Replace($"[{2048 - 256}]", "[1459]");
        Assert.Equal(reference["post_processor"]!.ToJsonString(), post);
        var model = written["model"]!.AsObject();
        Assert.Equal(reference["model"]!.AsObject().Select(p => p.Key), model.Select(p => p.Key));
        foreach (var key in model.Select(p => p.Key).Except(["vocab", "merges"]))
            Assert.True(JsonNode.DeepEquals(reference["model"]![key], model[key]), key);
        var added = written["added_tokens"]!.AsArray();
        Assert.Equal(256, added.Count);
        Assert.All(added.Select((t, i) => (t!, i)), x =>
        {
            var (t, i) = x;
            Assert.Equal(2048 - 256 + i, (int)t["id"]!);
            Assert.Equal(SyntheticByteLevelTokenizer.SpecialToken(i), (string)t["content"]!);
            Assert.Equal(["id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"], t.AsObject().Select(p => p.Key));
            Assert.True((bool)t["special"]!);
            Assert.False((bool)t["single_word"]! || (bool)t["lstrip"]! || (bool)t["rstrip"]! || (bool)t["normalized"]!);
        });
        // Hugging Face writes the byte-level characters as themselves, not as \u escapes.
        Assert.Contains("\"Ġthe\"", File.ReadAllText(Path.Combine(dir, "tokenizer.json")));

        var config = ReadJson(dir, "tokenizer_config.json");
        Assert.Equal("<|begin_of_text|>", (string?)config["bos_token"]);
        Assert.Equal("<|eot_id|>", (string?)config["eos_token"]);
        Assert.False((bool)config["clean_up_tokenization_spaces"]!);
        Assert.Equal("PreTrainedTokenizerFast", (string?)config["tokenizer_class"]);
        Assert.Equal(SyntheticByteLevelTokenizer.ChatTemplate, (string?)config["chat_template"]);
        Assert.Equal(131072, (int)config["model_max_length"]!);
        Assert.Equal("<|eot_id|>", (string?)config["added_tokens_decoder"]![(2048 - 256 + 9).ToString()]!["content"]);
        var map = ReadJson(dir, "special_tokens_map.json");
        Assert.Equal("<|begin_of_text|>", (string?)map["bos_token"]!["content"]);
        Assert.Equal("<|eot_id|>", (string?)map["eos_token"]!["content"]);
        Assert.DoesNotContain("<s>", File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")) + File.ReadAllText(Path.Combine(dir, "special_tokens_map.json")));
    }

    [Fact]
    public void The_same_arguments_write_the_same_bytes()
    {
        var a = WriteFolder(4096, "a");
        var b = WriteFolder(4096, "b");
        var c = WriteFolder(4097, "c");
        string[] files = ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"];
        Assert.Equal(files, Directory.GetFiles(a).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
        Assert.Equal(SyntheticByteLevelTokenizer.SerializeTokenizerJson(4096), File.ReadAllBytes(Path.Combine(a, "tokenizer.json")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "tokenizer.json")), File.ReadAllBytes(Path.Combine(c, "tokenizer.json")));
        Assert.Empty(Directory.GetFiles(_root, ".*", SearchOption.AllDirectories)); // no temp files left
    }

    [Fact]
    public void The_smallest_vocabulary_has_no_merges_and_smaller_ones_are_refused()
    {
        var tok = TextTokenizer.Load(WriteFolder(SyntheticByteLevelTokenizer.MinimumSize));
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal(256, tok.BosId);
        Assert.Equal([256, .. "the".Select(c => tok.PieceToId(c.ToString())!.Value), 220], tok.Encode("the "));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticByteLevelTokenizer.Write(_root, 511));
        Assert.Equal("vocabSize", e.ParamName);
        Assert.Contains("at least 512 tokens", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticByteLevelTokenizer.SerializeTokenizerJson(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticByteLevelTokenizer.SpecialToken(256));
        Assert.Empty(Directory.GetFiles(_root));
    }
}
