// Hand-built tokenizer.model files for behaviour the fixture models do not exercise (remove_extra_whitespaces,
// unknown runs without byte fallback, UNUSED pieces) and for load errors (missing, corrupt, non-BPE files).
namespace Estuary.Tokenization.Tests;

public sealed class SyntheticModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Remove_extra_whitespaces_collapses_and_trims_spaces()
    {
        var tok = Build(removeExtraWhitespaces: true, ("▁", 0, 1), ("a", -1, 1), ("▁a", -0.5f, 1));
        Assert.Equal([Id(tok, "▁a"), Id(tok, "▁a")], tok.Encode("  a   a  ", false));
        Assert.Empty(tok.Encode("    ", false));
        Assert.Equal("a a", tok.Decode(tok.Encode("  a   a  ", false)));
    }

    [Fact]
    public void Unknown_run_without_byte_fallback_is_one_unk()
    {
        var tok = Build(removeExtraWhitespaces: false, ("▁", 0, 1), ("a", -1, 1));
        // "▁xya": ▁ known, x and y unknown (folded into one <unk>), a known.
        Assert.Equal([Id(tok, "▁"), tok.UnkId, Id(tok, "a")], tok.Encode("xya", false));
        Assert.Equal(" \u2047 a", tok.Decode(tok.Encode("xya", false)));
    }

    [Fact]
    public void Unused_pieces_are_merged_through_but_never_emitted()
    {
        // UNUSED = 5. "ab" may only appear inside "abb"; alone it is split back into "a" "b".
        var tok = Build(removeExtraWhitespaces: false, addDummyPrefix: false, ("a", -1, 1), ("b", -2, 1), ("ab", 5, 5), ("abb", 6, 1));
        Assert.Equal([Id(tok, "a"), Id(tok, "b")], tok.Encode("ab", false));
        Assert.Equal([Id(tok, "abb")], tok.Encode("abb", false));
    }

    [Fact]
    public void Missing_model_names_the_file()
    {
        var path = Path.Combine(_dir, "nope", "tokenizer.model");
        var e = Assert.Throws<FileNotFoundException>(() => TextTokenizer.FromModelFile(path, true, false));
        Assert.Contains(path, e.Message);
        var e2 = Assert.Throws<FileNotFoundException>(() => TextTokenizer.Load(Path.Combine(_dir, "nope")));
        Assert.Contains("tokenizer.model", e2.Message);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x0A, 0x50, 0x01 })]       // length-delimited field running past the end
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })] // truncated varint
    [InlineData(new byte[] { 0x7B, 0x22, 0x61, 0x22 })] // JSON text, not a protobuf
    public void Corrupt_model_names_the_file(byte[] content)
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.FromModelFile(path, true, false));
        Assert.Contains(path, e.Message);
        Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(_dir));
    }

    [Fact]
    public void Non_bpe_model_is_rejected_by_name()
    {
        var path = Write(modelType: 1, removeExtraWhitespaces: false, addDummyPrefix: true, ("a", 0, 1));
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.FromModelFile(path, true, false));
        Assert.Contains(path, e.Message);
        Assert.Contains("BPE", e.Message);
    }

    private static int Id(TextTokenizer tok, string piece) =>
        Enumerable.Range(0, tok.VocabSize).Single(id => tok.IdToPiece(id) == piece);

    private TextTokenizer Build(bool removeExtraWhitespaces, params (string Piece, float Score, int Type)[] pieces) =>
        Build(removeExtraWhitespaces, addDummyPrefix: true, pieces);

    private TextTokenizer Build(bool removeExtraWhitespaces, bool addDummyPrefix, params (string Piece, float Score, int Type)[] pieces) =>
        TextTokenizer.FromModelFile(Write(modelType: 2, removeExtraWhitespaces, addDummyPrefix, pieces), addBos: false, addEos: false);

    // Writes a ModelProto: <unk> <s> </s> then the given pieces, a trainer_spec and a normalizer_spec.
    private string Write(int modelType, bool removeExtraWhitespaces, bool addDummyPrefix, params (string Piece, float Score, int Type)[] pieces)
    {
        var model = new ProtoWriter();
        (string, float, int)[] all = [("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), .. pieces];
        foreach (var (piece, score, type) in all)
        {
            var p = new ProtoWriter();
            p.String(1, piece);
            p.Float(2, score);
            p.Varint(3, (ulong)type);
            model.Message(1, p);
        }
        var trainer = new ProtoWriter();
        trainer.Varint(3, (ulong)modelType);
        trainer.Varint(4, (ulong)all.Length);
        model.Message(2, trainer);
        var normalizer = new ProtoWriter();
        normalizer.String(1, "identity");
        normalizer.Varint(3, addDummyPrefix ? 1UL : 0UL);
        normalizer.Varint(4, removeExtraWhitespaces ? 1UL : 0UL);
        model.Message(3, normalizer);
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".model");
        File.WriteAllBytes(path, model.ToArray());
        return path;
    }

    private sealed class ProtoWriter
    {
        private readonly MemoryStream _out = new();

        public void Varint(int field, ulong value)
        {
            Tag(field, 0);
            Raw(value);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            _out.Write(BitConverter.GetBytes(value));
        }

        public void String(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _out.ToArray();

        private void Bytes(int field, byte[] value)
        {
            Tag(field, 2);
            Raw((ulong)value.Length);
            _out.Write(value);
        }

        private void Tag(int field, int wire) => Raw((ulong)((field << 3) | wire));

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _out.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _out.WriteByte((byte)value);
        }
    }
}
