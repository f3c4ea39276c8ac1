// Parsed SentencePiece ModelProto (tokenizer.model): pieces with scores and types plus the normalizer/trainer
// settings that change encoding or decoding. Invariant: immutable after Load; only BPE models with the identity
// normalizer are accepted (anything else throws at load time, never silently mis-encodes).
using System.Text;

namespace Estuary.Tokenization;

internal sealed class SentencePieceModel
{
    private const int ModelTypeBpe = 2;

    public required string[] Pieces { get; init; }
    public required float[] Scores { get; init; }
    public required PieceType[] Types { get; init; }

    /// <summary>NORMAL, USER_DEFINED and UNUSED pieces: the ones BPE may produce by merging (sentencepiece's pieces_).</summary>
    public required Dictionary<string, int> MergeablePieces { get; init; }

    /// <summary>CONTROL, UNKNOWN and BYTE pieces (sentencepiece's reserved_id_map_).</summary>
    public required Dictionary<string, int> ReservedPieces { get; init; }

    /// <summary>USER_DEFINED pieces, matched greedily (longest first) in the raw text before BPE.</summary>
    public required string[] UserDefinedPieces { get; init; }

    /// <summary>Id of the piece "&lt;0xNN&gt;" for each byte value, or -1 where the model has none.</summary>
    public required int[] ByteToId { get; init; }

    public required int UnkId { get; init; }
    public required int BosId { get; init; }
    public required int EosId { get; init; }
    public required int PadId { get; init; }
    public required bool ByteFallback { get; init; }
    public required bool AddDummyPrefix { get; init; }
    public required bool RemoveExtraWhitespaces { get; init; }
    public required bool EscapeWhitespaces { get; init; }
    public required string UnkSurface { get; init; }

    public int Count => Pieces.Length;

    /// <summary>sentencepiece's PieceToId: reserved pieces first, then mergeable ones, else the unknown id.</summary>
    public int PieceToId(string piece) =>
        ReservedPieces.TryGetValue(piece, out var id) || MergeablePieces.TryGetValue(piece, out id) ? id : UnkId;

    /// <summary>Loads and validates a tokenizer.model file; every failure names the file.</summary>
    public static SentencePieceModel Load(string path)
    {
        var data = TokenizerFile.ReadAllBytes(path, "SentencePiece model");
        try
        {
            return Parse(data);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or DecoderFallbackException)
        {
            throw new InvalidDataException($"'{path}' is not a usable SentencePiece BPE model: {e.Message}", e);
        }
    }

    internal static SentencePieceModel Parse(ReadOnlySpan<byte> data)
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<PieceType>();
        var trainer = new TrainerSettings();
        var normalizer = new NormalizerSettings();
        var sawTrainer = false;

        var reader = new ProtoReader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2) ParsePiece(reader.ReadLengthDelimited(), utf8, pieces, scores, types);
            else if (field == 2 && wire == 2) { trainer = ParseTrainer(reader.ReadLengthDelimited(), utf8); sawTrainer = true; }
            else if (field == 3 && wire == 2) normalizer = ParseNormalizer(reader.ReadLengthDelimited(), utf8);
            else reader.Skip(wire);
        }

        if (pieces.Count == 0) throw new InvalidDataException("the model has no pieces");
        if (!sawTrainer) throw new InvalidDataException("the model has no trainer_spec");
        if (trainer.ModelType != ModelTypeBpe)
            throw new NotSupportedException($"model_type {trainer.ModelType} is not BPE (2); only BPE models are supported");
        if (trainer.TreatWhitespaceAsSuffix)
            throw new NotSupportedException("treat_whitespace_as_suffix is not supported");
        if (normalizer.HasCharsMap)
            throw new NotSupportedException($"normalizer '{normalizer.Name}' uses a precompiled charsmap; only the identity normalizer is supported");

        var mergeable = new Dictionary<string, int>(StringComparer.Ordinal);
        var reserved = new Dictionary<string, int>(StringComparer.Ordinal);
        var userDefined = new List<string>();
        var byteToId = new int[256];
        Array.Fill(byteToId, -1);
        var unkId = -1;
        for (var i = 0; i < pieces.Count; i++)
        {
            var type = types[i];
            var isMergeable = type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
            if (pieces[i].Length == 0) throw new InvalidDataException($"piece {i} is empty");
            if (!(isMergeable ? mergeable : reserved).TryAdd(pieces[i], i))
                throw new InvalidDataException($"piece '{pieces[i]}' is defined twice");
            switch (type)
            {
                case PieceType.UserDefined: userDefined.Add(pieces[i]); break;
                case PieceType.Unknown:
                    if (unkId >= 0) throw new InvalidDataException("more than one UNKNOWN piece");
                    unkId = i;
                    break;
                case PieceType.Byte:
                    if (!trainer.ByteFallback) throw new InvalidDataException("BYTE pieces present but byte_fallback is off");
                    byteToId[ParseBytePiece(pieces[i])] = i;
                    break;
            }
        }
        if (unkId < 0) throw new InvalidDataException("the model has no UNKNOWN piece");
        if (trainer.ByteFallback)
        {
            for (var b = 0; b < 256; b++)
            {
                if (byteToId[b] < 0) throw new InvalidDataException($"byte_fallback is on but piece <0x{b:X2}> is missing");
            }
        }

        // sentencepiece resolves bos/eos/pad through their piece strings and only accepts CONTROL pieces for them.
        int ControlId(string piece) =>
            reserved.TryGetValue(piece, out var id) && types[id] == PieceType.Control ? id : -1;

        return new SentencePieceModel
        {
            Pieces = [.. pieces],
            Scores = [.. scores],
            Types = [.. types],
            MergeablePieces = mergeable,
            ReservedPieces = reserved,
            UserDefinedPieces = [.. userDefined],
            ByteToId = byteToId,
            UnkId = unkId,
            BosId = ControlId(trainer.BosPiece),
            EosId = ControlId(trainer.EosPiece),
            PadId = ControlId(trainer.PadPiece),
            ByteFallback = trainer.ByteFallback,
            AddDummyPrefix = normalizer.AddDummyPrefix,
            RemoveExtraWhitespaces = normalizer.RemoveExtraWhitespaces,
            EscapeWhitespaces = normalizer.EscapeWhitespaces,
            UnkSurface = trainer.UnkSurface,
        };
    }

    private static int ParseBytePiece(string piece)
    {
        // Byte pieces are spelled exactly "<0xNN>" with upper-case hex digits.
        if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var b))
        {
            return b;
        }
        throw new InvalidDataException($"BYTE piece '{piece}' is not of the form <0xNN>");
    }

    private static void ParsePiece(ReadOnlySpan<byte> data, Encoding utf8, List<string> pieces, List<float> scores, List<PieceType> types)
    {
        string? piece = null;
        var score = 0f;
        var type = PieceType.Normal;
        var reader = new ProtoReader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == 2: piece = utf8.GetString(reader.ReadLengthDelimited()); break;
                case 2 when wire == 5: score = reader.ReadFixed32AsFloat(); break;
                case 3 when wire == 0:
                    var t = reader.ReadVarint();
                    if (t is < 1 or > 6) throw new InvalidDataException($"piece {pieces.Count} has unknown type {t}");
                    type = (PieceType)t;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        pieces.Add(piece ?? throw new InvalidDataException($"piece {pieces.Count} has no text"));
        scores.Add(score);
        types.Add(type);
    }

    private static TrainerSettings ParseTrainer(ReadOnlySpan<byte> data, Encoding utf8)
    {
        var s = new TrainerSettings();
        var reader = new ProtoReader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 3 when wire == 0: s.ModelType = (int)reader.ReadVarint(); break;
                case 24 when wire == 0: s.TreatWhitespaceAsSuffix = reader.ReadVarint() != 0; break;
                case 35 when wire == 0: s.ByteFallback = reader.ReadVarint() != 0; break;
                case 44 when wire == 2: s.UnkSurface = utf8.GetString(reader.ReadLengthDelimited()); break;
                case 46 when wire == 2: s.BosPiece = utf8.GetString(reader.ReadLengthDelimited()); break;
                case 47 when wire == 2: s.EosPiece = utf8.GetString(reader.ReadLengthDelimited()); break;
                case 48 when wire == 2: s.PadPiece = utf8.GetString(reader.ReadLengthDelimited()); break;
                default: reader.Skip(wire); break;
            }
        }
        return s;
    }

    private static NormalizerSettings ParseNormalizer(ReadOnlySpan<byte> data, Encoding utf8)
    {
        var s = new NormalizerSettings();
        var reader = new ProtoReader(data);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1 when wire == 2: s.Name = utf8.GetString(reader.ReadLengthDelimited()); break;
                case 2 when wire == 2: s.HasCharsMap = !reader.ReadLengthDelimited().IsEmpty; break;
                case 3 when wire == 0: s.AddDummyPrefix = reader.ReadVarint() != 0; break;
                case 4 when wire == 0: s.RemoveExtraWhitespaces = reader.ReadVarint() != 0; break;
                case 5 when wire == 0: s.EscapeWhitespaces = reader.ReadVarint() != 0; break;
                default: reader.Skip(wire); break;
            }
        }
        return s;
    }

    // Defaults are those of sentencepiece_model.proto (proto2 optional fields).
    private sealed class TrainerSettings
    {
        public int ModelType { get; set; } = 1;
        public bool TreatWhitespaceAsSuffix { get; set; }
        public bool ByteFallback { get; set; }
        public string UnkSurface { get; set; } = " \u2047 ";
        public string BosPiece { get; set; } = "<s>";
        public string EosPiece { get; set; } = "</s>";
        public string PadPiece { get; set; } = "<pad>";
    }

    private sealed class NormalizerSettings
    {
        public string Name { get; set; } = "";
        public bool HasCharsMap { get; set; }
        public bool AddDummyPrefix { get; set; } = true;
        public bool RemoveExtraWhitespaces { get; set; } = true;
        public bool EscapeWhitespaces { get; set; } = true;
    }
}
