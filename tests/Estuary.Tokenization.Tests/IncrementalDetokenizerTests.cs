// Streaming detokenization: every fixture id sequence streamed one id at a time must concatenate to Decode(all),
// each delta must be well-formed UTF-16 with no replacement character invented mid-character; plus a seeded fuzz.
namespace Estuary.Tokenization.Tests;

public class IncrementalDetokenizerTests
{
    public static TheoryData<string> Folders() =>
        ["stories260k", "baichuan2-tiny-rope", "baichuan2-tiny-alibi", "baichuan2-bible-256"];

    [Theory]
    [MemberData(nameof(Folders))]
    public void Streaming_generated_ids_equals_decode(string folder)
    {
        var tok = TestData.FolderTokenizer(folder);
        foreach (var c in TestData.Json(folder, "reference.json").RootElement.GetProperty("cases").EnumerateArray())
        {
            AssertStreamsLikeDecode(tok, TestData.Ints(c.GetProperty("greedy").GetProperty("generated_ids")));
            AssertStreamsLikeDecode(tok, TestData.Ints(c.GetProperty("prompt_ids")));
        }
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("tok512")]
    [InlineData("baichuan2-tiny")]
    public void Streaming_reference_encodings_equals_decode(string name)
    {
        var tok = TestData.ReferenceTokenizer(name);
        foreach (var c in TestData.ReferenceEntry(name).GetProperty("cases").EnumerateArray())
        {
            var ids = TestData.Ints(c.GetProperty("ids"));
            var text = AssertStreamsLikeDecode(tok, ids);
            Assert.Equal(c.GetProperty("decoded").GetString(), text);
            AssertStreamsLikeDecode(tok, [tok.BosId, .. ids, tok.EosId]);
        }
    }

    [Fact]
    public void Character_split_over_byte_pieces_is_returned_whole()
    {
        var tok = TestData.FolderTokenizer("baichuan2-tiny-rope");
        var ids = tok.Encode("好");
        Assert.Equal(["<0xE5>", "<0xA5>", "<0xBD>"], ids.Select(tok.IdToPiece).ToArray());

        var detok = tok.CreateDetokenizer();
        Assert.Equal("", detok.Add(ids[0]));
        Assert.Equal("", detok.Add(ids[1]));
        Assert.Equal("好", detok.Add(ids[2]));
        Assert.Equal("", detok.Flush());
        Assert.Equal("好", detok.Text);

        // An emoji: 4 byte pieces become one surrogate pair in a single delta.
        var emoji = tok.Encode("😀");
        Assert.Equal(4, emoji.Length);
        var d2 = tok.CreateDetokenizer();
        Assert.Equal(["", "", "", "😀"], emoji.Select(d2.Add).ToArray());
    }

    [Fact]
    public void Invalid_byte_runs_become_one_replacement_per_byte_like_sentencepiece()
    {
        var tok = TestData.FolderTokenizer("baichuan2-tiny-rope");
        int B(int b) => 217 + b; // <0x00> is id 217 in the Baichuan-style model
        var a = tok.Encode("a")[0];

        Assert.Equal("\uFFFD\uFFFDa", tok.Decode([B(0xE5), B(0xA5), a]));           // truncated 3-byte char
        Assert.Equal("\uFFFD\uFFFD", tok.Decode([B(0xC0), B(0x80)]));                // overlong
        Assert.Equal("\uFFFD\uFFFD\uFFFD", tok.Decode([B(0xED), B(0xA0), B(0x80)])); // UTF-16 surrogate
        Assert.Equal("\uFFFD好", tok.Decode([B(0xA5), B(0xE5), B(0xA5), B(0xBD)]));    // stray continuation byte
        Assert.Equal("\uFFFDa\uFFFD", tok.Decode([B(0xE5), a, B(0xBD)]));              // a normal piece ends the run

        var detok = tok.CreateDetokenizer();
        Assert.Equal("", detok.Add(B(0xE5)));
        Assert.Equal("", detok.Add(B(0xA5)));
        Assert.Equal("\uFFFD\uFFFD", detok.Flush());
        Assert.Throws<InvalidOperationException>(() => detok.Add(a));
    }

    [Fact]
    public void Control_tokens_are_hidden_or_rendered_without_changing_the_text()
    {
        var tok = TestData.ReferenceTokenizer("llama2");
        int[] ids = [tok.BosId, .. tok.Encode("Hello world", false), tok.EosId];
        Assert.Equal("Hello world", tok.Decode(ids));
        Assert.Equal("<s>Hello world</s>", tok.Decode(ids, skipSpecialTokens: false));

        var detok = tok.CreateDetokenizer(skipSpecialTokens: false);
        Assert.Equal("<s>Hello world</s>", string.Concat(ids.Select(detok.Add)) + detok.Flush());
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.CreateDetokenizer().Add(tok.VocabSize));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([-1]));
    }

    [Theory]
    [InlineData("llama2", 1)]
    [InlineData("tok512", 2)]
    [InlineData("baichuan2-tiny", 3)]
    public void Random_ids_stream_like_decode(string name, int seed)
    {
        var tok = TestData.ReferenceTokenizer(name);
        var firstByte = Enumerable.Range(0, tok.VocabSize).First(id => tok.IdToPiece(id) == "<0x00>");
        var random = new Random(seed);
        for (var round = 0; round < 200; round++)
        {
            var ids = new int[random.Next(1, 40)];
            for (var i = 0; i < ids.Length; i++)
            {
                // Mostly byte pieces (lead/continuation/invalid mixes), sometimes any piece, to hit every branch.
                var r = random.NextDouble();
                ids[i] = r < 0.3 ? firstByte + 0x80 + random.Next(64)
                    : r < 0.55 ? firstByte + 0xC0 + random.Next(64)
                    : r < 0.65 ? firstByte + random.Next(256)
                    : random.Next(tok.VocabSize);
            }
            AssertStreamsLikeDecode(tok, ids, allowReplacement: true);
        }
    }

    [Fact]
    public void Streaming_is_linear_in_sequence_length()
    {
        var tok = TestData.ReferenceTokenizer("llama2");
        var ids = tok.Encode(string.Concat(Enumerable.Repeat("Once upon a time 床前明月光 😀 ", 2000)), false);
        var detok = tok.CreateDetokenizer();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var total = 0;
        foreach (var id in ids) total += detok.Add(id).Length;
        total += detok.Flush().Length;
        watch.Stop();
        Assert.Equal(tok.Decode(ids).Length, total);
        // ~50k tokens; a quadratic re-decode would take far longer than this generous bound.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"streaming {ids.Length} ids took {watch.Elapsed}");
    }

    private static string AssertStreamsLikeDecode(TextTokenizer tok, int[] ids, bool allowReplacement = false)
    {
        var expected = tok.Decode(ids);
        var detok = tok.CreateDetokenizer();
        var streamed = new System.Text.StringBuilder();
        foreach (var id in ids)
        {
            var delta = detok.Add(id);
            AssertWellFormed(delta);
            if (!allowReplacement && !expected.Contains('\uFFFD')) Assert.DoesNotContain('\uFFFD', delta);
            streamed.Append(delta);
            // Every delta is final: the text so far is always a prefix of the whole decode.
            Assert.StartsWith(streamed.ToString(), expected, StringComparison.Ordinal);
        }
        var tail = detok.Flush();
        AssertWellFormed(tail);
        streamed.Append(tail);
        Assert.Equal(expected, streamed.ToString());
        Assert.Equal(expected, detok.Text);
        return expected;
    }

    private static void AssertWellFormed(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]))
            {
                Assert.True(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]), $"lone high surrogate in delta '{s}'");
                i++;
            }
            else
            {
                Assert.False(char.IsLowSurrogate(s[i]), $"lone low surrogate in delta '{s}'");
            }
        }
    }
}
