// Tokenizers loaded from the model folders (tokenizer_config.json policy) against each reference.json:
// prompt_ids of every case and generated_text = Decode(generated_ids).
namespace Estuary.Tokenization.Tests;

public class ModelFolderTests
{
    public static TheoryData<string> Folders() =>
        ["stories260k", "baichuan2-tiny-rope", "baichuan2-tiny-alibi", "baichuan2-bible-256"];

    [Theory]
    [MemberData(nameof(Folders))]
    public void Prompt_ids_match_reference(string folder)
    {
        var tok = TestData.FolderTokenizer(folder);
        var cases = TestData.Json(folder, "reference.json").RootElement.GetProperty("cases");
        Assert.True(cases.GetArrayLength() > 0);
        foreach (var c in cases.EnumerateArray())
        {
            // stories260k: [1] + encode (add_bos_token true); Baichuan: encode only (add_bos_token false).
            Assert.Equal(TestData.Ints(c.GetProperty("prompt_ids")), tok.Encode(c.GetProperty("prompt").GetString()!));
        }
    }

    [Theory]
    [InlineData("stories260k", true)]
    [InlineData("baichuan2-tiny-rope", false)]
    [InlineData("baichuan2-tiny-alibi", false)]
    [InlineData("baichuan2-bible-256", false)]
    public void Generated_text_is_decode_of_generated_ids(string folder, bool addsDummyPrefix)
    {
        var tok = TestData.FolderTokenizer(folder);
        foreach (var c in TestData.Json(folder, "reference.json").RootElement.GetProperty("cases").EnumerateArray())
        {
            var greedy = c.GetProperty("greedy");
            var generated = TestData.Ints(greedy.GetProperty("generated_ids"));
            var promptIds = TestData.Ints(c.GetProperty("prompt_ids"));
            var expected = greedy.GetProperty("generated_text").GetString()!;

            // generated_text is the text the continuation adds after the prompt: for stories260k it keeps the space
            // of a first "▁he" that a standalone decode drops as the dummy prefix.
            var standalone = tok.Decode(generated);
            var promptHasText = tok.Decode(promptIds).Length > 0;
            var dropsDummySpace = addsDummyPrefix && promptHasText && tok.IdToPiece(generated[0])[0] == '\u2581';
            Assert.Equal(dropsDummySpace ? expected[1..] : expected, standalone);

            var detok = tok.CreateDetokenizer(promptIds);
            var streamed = string.Concat(generated.Select(detok.Add)) + detok.Flush();
            Assert.Equal(expected, streamed);

            if (greedy.TryGetProperty("full_text", out var full))
            {
                int[] all = [.. promptIds[1..], .. generated];
                Assert.Equal(full.GetString(), tok.Decode(all));
                Assert.Equal(full.GetString(), tok.Decode(promptIds) + expected);
            }
        }
    }

    [Fact]
    public void Heldout_text_encodes_to_the_reference_token_count_and_round_trips()
    {
        // 60 KB of English and Chinese: the perplexity protocol's num_tokens is sp.encode of the whole file.
        var tok = TestData.FolderTokenizer("baichuan2-bible-256");
        var perplexity = TestData.Json("baichuan2-bible-256", "reference.json").RootElement.GetProperty("perplexity");
        var text = File.ReadAllText(Estuary.Testing.Fixtures.Path("baichuan2-bible-256", "heldout.txt"));
        var ids = tok.Encode(text);
        Assert.Equal(perplexity.GetProperty("num_tokens").GetInt32(), ids.Length);
        Assert.Equal(text, tok.Decode(ids));
    }

    [Fact]
    public void Folder_policies_come_from_tokenizer_config()
    {
        var stories = TestData.FolderTokenizer("stories260k");
        Assert.True(stories.AddBos);
        Assert.False(stories.AddEos);
        Assert.Null(stories.PadId);
        Assert.Equal([1, 403, 407, 261, 378], stories.Encode("Once upon a time"));

        var baichuan = TestData.FolderTokenizer("baichuan2-tiny-rope");
        Assert.False(baichuan.AddBos);
        Assert.False(baichuan.AddEos);
        Assert.Equal(0, baichuan.PadId); // pad_token "<unk>" in special_tokens_map.json
        Assert.Equal(1, baichuan.BosId);
        Assert.Equal(2, baichuan.EosId);
        Assert.Equal(1200, baichuan.VocabSize);
    }
}

public sealed class UnreadAddedTokensTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-added-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Added_tokens_past_a_sentencepiece_model_are_reported_as_unread()
    {
        // Phi-3-mini's layout: chat tokens after the SentencePiece pieces, listed only in tokenizer_config.json.
        var source = Estuary.Testing.Fixtures.Path("stories260k");
        File.Copy(Path.Combine(source, "tokenizer.model"), Path.Combine(_dir, "tokenizer.model"));
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"), """
            {"add_bos_token": true, "added_tokens_decoder": {
              "1": {"content": "<s>", "special": true},
              "513": {"content": "<|end|>", "rstrip": true, "special": true},
              "512": {"content": "<|user|>", "rstrip": true, "special": true}}}
            """);
        var tok = TextTokenizer.Load(_dir);
        Assert.Equal(512, tok.VocabSize);
        Assert.Equal([(512, "<|user|>"), (513, "<|end|>")], tok.UnreadAddedTokens);
        var ids = tok.EncodeWithSpecialTokens("<|user|>hi"); // what the warning says: not read, spelled out as text
        Assert.DoesNotContain(512, ids);
        Assert.Equal("<|user|>hi", tok.Decode(ids));
        Assert.Empty(TestData.FolderTokenizer("stories260k").UnreadAddedTokens);
    }
}
