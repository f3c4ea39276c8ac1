// Tests of the synthetic vocabulary and the tokenizer.model writer by loading the written file with the real parser and tokenizer.
using Estuary.Tokenization.Writing;

namespace Estuary.Tokenization.Tests.Writing;

public sealed class SentencePieceModelWriterTests : IDisposable
{
    private const string English =
        "Once upon a time there was a little girl who lived in a small house near the river. Every morning she would walk " +
        "to the school on the hill with her friend, and they would talk about the animals they saw along the way. " +
        "One day the children found a strange bird that could not fly, so they carried it home and took care of it until it was strong again.";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-spwriter-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TextTokenizer WriteAndLoad(int vocabSize)
    {
        var path = Path.Combine(_dir, $"tokenizer-{vocabSize}.model");
        SentencePieceModelWriter.Write(path, SyntheticVocabulary.Build(vocabSize));
        return TextTokenizer.FromModelFile(path, addBos: true, addEos: false);
    }

    [Fact]
    public void Written32kModelLoadsWithTheRightSizeAndSpecialIds()
    {
        var tok = WriteAndLoad(32000);
        Assert.Equal(32000, tok.VocabSize);
        Assert.Equal(0, tok.UnkId);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        Assert.Null(tok.PadId);
        Assert.Equal("<0x41>", tok.IdToPiece(3 + 0x41));
        Assert.True(tok.IsControl(1));
        Assert.False(tok.IsControl(300));

        var model = SentencePieceModel.Load(Path.Combine(_dir, "tokenizer-32000.model"));
        Assert.True(model.ByteFallback);
        Assert.True(model.AddDummyPrefix);
        Assert.False(model.RemoveExtraWhitespaces);
        Assert.True(model.EscapeWhitespaces);
        Assert.Equal(-1, model.PadId);
    }

    [Fact]
    public void EnglishRoundTripsAndMergesCompressIt()
    {
        var tok = WriteAndLoad(32000);
        var ids = tok.Encode(English, addSpecialTokens: false);
        Assert.Equal(English, tok.Decode(ids));
        Assert.DoesNotContain(tok.UnkId, ids);
        // Common words are single pieces, so English takes well under one token per three characters.
        Assert.True(ids.Length * 3 < English.Length, $"{ids.Length} tokens for {English.Length} characters");
        Assert.Single(tok.Encode("the", addSpecialTokens: false));
        Assert.Equal(tok.Encode(" the", addSpecialTokens: false)[^1], tok.Encode("the", addSpecialTokens: false)[0]);
    }

    [Theory]
    [InlineData("你好，世界！今天天气很好。")]
    [InlineData("naïve café — “quoted” \t tab\nnewline  two spaces 😀")]
    public void NonAsciiGoesThroughByteFallbackAndRoundTrips(string text)
    {
        var tok = WriteAndLoad(32000);
        var ids = tok.Encode(text, addSpecialTokens: false);
        Assert.Equal(text, tok.Decode(ids));
        Assert.DoesNotContain(tok.UnkId, ids);
        Assert.Contains(ids, id => tok.IdToPiece(id).StartsWith("<0x", StringComparison.Ordinal));
    }

    [Fact]
    public void ChineseCharactersBecomeTheirUtf8Bytes()
    {
        var tok = WriteAndLoad(512);
        var ids = tok.Encode("你", addSpecialTokens: false);
        // "▁" then the three UTF-8 bytes E4 BD A0.
        Assert.Equal(["\u2581", "<0xE4>", "<0xBD>", "<0xA0>"], ids.Select(tok.IdToPiece));
    }

    [Theory]
    [InlineData(SyntheticVocabulary.MinimumSize)]
    [InlineData(512)]
    [InlineData(32000)]
    [InlineData(125696)]
    public void EveryMergeHasHigherScoredHalvesAndIsReachedFromItsOwnText(int vocabSize)
    {
        var pieces = SyntheticVocabulary.Build(vocabSize);
        Assert.Equal(vocabSize, pieces.Count);
        Assert.Equal(vocabSize, pieces.Select(p => p.Piece).Distinct(StringComparer.Ordinal).Count());
        var byText = pieces.Select((p, i) => (p, i)).ToDictionary(x => x.p.Piece, x => x.p, StringComparer.Ordinal);
        for (int i = SyntheticVocabulary.MinimumSize; i < pieces.Count; i++)
        {
            var p = pieces[i];
            Assert.Equal(SentencePieceKind.Normal, p.Kind);
            Assert.True(p.Score < pieces[i - 1].Score, $"score of piece {i} '{p.Piece}' does not decrease");
            bool reachable = Enumerable.Range(1, p.Piece.Length - 1).Any(split =>
                byText.TryGetValue(p.Piece[..split], out var left) && left.Score > p.Score && left.Kind == SentencePieceKind.Normal
                && byText.TryGetValue(p.Piece[split..], out var right) && right.Score > p.Score && right.Kind == SentencePieceKind.Normal);
            Assert.True(reachable, $"piece {i} '{p.Piece}' has no split into two higher-scored pieces");
        }
        if (vocabSize > 125000) return; // encoding every piece is covered by the smaller sizes

        var path = Path.Combine(_dir, "reach.model");
        SentencePieceModelWriter.Write(path, pieces);
        var tok = TextTokenizer.FromModelFile(path, addBos: false, addEos: false);
        for (int i = SyntheticVocabulary.MinimumSize; i < pieces.Count; i++)
        {
            // Every merge starts with '▁'; the dummy prefix supplies it.
            var ids = tok.Encode(pieces[i].Piece[1..], addSpecialTokens: false);
            Assert.True(ids is [var only] && only == i, $"'{pieces[i].Piece}' encodes to [{string.Join(",", ids)}], expected [{i}]");
        }
    }

    [Fact]
    public void BuildIsDeterministicAndSerializationIsStable()
    {
        var a = SentencePieceModelWriter.Serialize(SyntheticVocabulary.Build(4000));
        var b = SentencePieceModelWriter.Serialize(SyntheticVocabulary.Build(4000));
        Assert.Equal(a, b);
        // A smaller vocabulary is a prefix of a larger one.
        var small = SyntheticVocabulary.Build(1000);
        Assert.Equal(small.Select(p => p.Piece), SyntheticVocabulary.Build(4000).Take(1000).Select(p => p.Piece));
    }

    [Fact]
    public void InvalidVocabulariesAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticVocabulary.Build(SyntheticVocabulary.MinimumSize - 1));
        var good = SyntheticVocabulary.Build(SyntheticVocabulary.MinimumSize);
        Assert.Throws<ArgumentException>(() => SentencePieceModelWriter.Serialize([.. good, new SentencePieceEntry("a", -5, SentencePieceKind.Normal)]));
        Assert.Throws<ArgumentException>(() => SentencePieceModelWriter.Serialize([.. good.Skip(1)]));
        Assert.Throws<ArgumentException>(() => SentencePieceModelWriter.Serialize([.. good.Where(p => p.Piece != "<0x7F>")]));
        Assert.Throws<ArgumentException>(() => SentencePieceModelWriter.Serialize([.. good, new SentencePieceEntry("<0xfg>", 0, SentencePieceKind.Byte)]));
        Assert.Throws<ArgumentException>(() => new SentencePieceEntry("", 0, SentencePieceKind.Normal));
    }

    [Fact]
    public void WriteReplacesAnExistingFileAndLeavesNoTempFiles()
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllText(path, "junk");
        SentencePieceModelWriter.Write(path, SyntheticVocabulary.Build(600));
        Assert.Equal(600, TextTokenizer.FromModelFile(path, true, false).VocabSize);
        Assert.Equal(["tokenizer.model"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }
}
