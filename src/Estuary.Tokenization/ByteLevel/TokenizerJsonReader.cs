// Reads a Hugging Face tokenizer.json describing a byte-level BPE tokenizer into a ByteLevelBpeModel. Every component
// outside what ByteLevelBpeEncoder reproduces exactly is refused here, naming the component and the file, so a tokenizer
// is never loaded to encode differently from its own library.
// Invariant: returns a complete, validated model or throws InvalidDataException / NotSupportedException.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Estuary.Tokenization;

internal static class TokenizerJsonReader
{
    // Far above any real vocabulary (Llama 3: 128,256; Gemma: 262,144): ids beyond it are a corrupt file, not an allocation.
    private const int MaxIds = 1 << 24;

    public static ByteLevelBpeModel Load(string path)
    {
        var data = TokenizerFile.ReadAllBytes(path, "tokenizer");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(data);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            try
            {
                return Parse(document.RootElement, path);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
            {
                throw new InvalidDataException($"'{path}': malformed tokenizer description ({e.Message})", e);
            }
        }
    }

    private static ByteLevelBpeModel Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"'{path}': the top level must be an object");
        var model = Property(root, "model") ?? throw new InvalidDataException($"'{path}': no \"model\"");
        var modelType = StringOrNull(model, "type") ?? "BPE";
        if (modelType != "BPE")
            throw new NotSupportedException($"'{path}': model type {modelType} is not supported (only byte-level BPE)");
        if (Bool(model, "byte_fallback"))
            throw new NotSupportedException($"'{path}': a BPE model with byte_fallback is SentencePiece-style; its folder needs tokenizer.model");
        if (Property(model, "dropout") is { ValueKind: not JsonValueKind.Null } dropout && dropout.GetDouble() != 0)
            throw new NotSupportedException($"'{path}': BPE dropout is not supported");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (StringOrNull(model, key) is { Length: > 0 } affix)
                throw new NotSupportedException($"'{path}': BPE {key} \"{affix}\" is not supported");

        CheckDecoder(root, path); // any decoder but ByteLevel would read the ids differently
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var vocabJson = Property(model, "vocab") ?? throw new InvalidDataException($"'{path}': model has no \"vocab\"");
        foreach (var entry in vocabJson.EnumerateObject()) vocab[entry.Name] = entry.Value.GetInt32();

        var added = ReadAddedTokens(root, path);
        // Ids index arrays: each must lie in [0, MaxIds), and the count is the largest id + 1 (a vocabulary may leave gaps).
        foreach (var (text, id) in vocab)
            if (id is < 0 or >= MaxIds) throw new InvalidDataException($"'{path}': vocab id {id} of \"{text}\" is outside [0, {MaxIds})");
        foreach (var token in added)
            if (token.Id is < 0 or >= MaxIds) throw new InvalidDataException($"'{path}': added token \"{token.Content}\" has id {token.Id}, outside [0, {MaxIds})");
        var count = Math.Max(vocab.Count == 0 ? 0 : vocab.Values.Max() + 1, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
        var tokens = new string[count];
        foreach (var (text, id) in vocab) tokens[id] = text;
        foreach (var token in added) tokens[token.Id] = token.Content;
        for (var id = 0; id < count; id++) tokens[id] ??= "";

        var byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            if (!vocab.TryGetValue(ByteLevelAlphabet.CharOfByte[b].ToString(), out byteIds[b]))
                throw new NotSupportedException($"'{path}': the vocabulary has no token for byte 0x{b:X2} (\"{ByteLevelAlphabet.CharOfByte[b]}\"); not a byte-level BPE");
        }

        return new ByteLevelBpeModel
        {
            Tokens = tokens,
            Vocab = vocab,
            Merges = ReadMerges(model, vocab, path),
            IgnoreMerges = Bool(model, "ignore_merges"),
            UnkId = StringOrNull(model, "unk_token") is { } unk && vocab.TryGetValue(unk, out var unkId) ? unkId : -1,
            AddedTokens = [.. added],
            Normalizations = ReadNormalizer(Property(root, "normalizer"), path),
            PreTokenizer = ReadPreTokenizer(Property(root, "pre_tokenizer"), path),
            PrefixIds = CheckIds(ReadPostProcessor(Property(root, "post_processor"), path, out var suffix), count, path),
            SuffixIds = CheckIds(suffix, count, path),
            ByteIds = byteIds,
        };
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        List<AddedToken> tokens = [];
        if (Property(root, "added_tokens") is not { ValueKind: JsonValueKind.Array } list) return tokens;
        foreach (var t in list.EnumerateArray())
        {
            var content = StringOrNull(t, "content") ?? throw new InvalidDataException($"'{path}': an added token has no content");
            if (Bool(t, "single_word"))
                throw new NotSupportedException($"'{path}': added token \"{content}\" is single_word, which is not supported");
            var special = Bool(t, "special");
            // Absent, normalized defaults to !special, as in tokenizers (AddedToken::from) and tokenizers.js.
            var normalized = Property(t, "normalized") is { } n ? n.ValueKind == JsonValueKind.True : !special;
            tokens.Add(new AddedToken(t.GetProperty("id").GetInt32(), content, special, Bool(t, "lstrip"), Bool(t, "rstrip"), normalized));
        }
        return tokens;
    }

    private static Dictionary<long, (int Rank, int Merged)> ReadMerges(JsonElement model, Dictionary<string, int> vocab, string path)
    {
        var merges = new Dictionary<long, (int, int)>();
        if (Property(model, "merges") is not { ValueKind: JsonValueKind.Array } list) return merges;
        var rank = 0;
        foreach (var m in list.EnumerateArray())
        {
            string left, right;
            if (m.ValueKind == JsonValueKind.String)
            {
                var text = m.GetString()!;
                var space = text.IndexOf(' ', 1);
                if (space < 0) throw new InvalidDataException($"'{path}': merge \"{text}\" is not two tokens separated by a space");
                (left, right) = (text[..space], text[(space + 1)..]);
            }
            else
            {
                if (m.ValueKind != JsonValueKind.Array || m.GetArrayLength() != 2)
                    throw new InvalidDataException($"'{path}': merge {rank} is neither \"a b\" nor [\"a\", \"b\"]");
                (left, right) = (m[0].GetString()!, m[1].GetString()!);
            }
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId) || !vocab.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"'{path}': merge {rank} (\"{left}\" + \"{right}\") uses or makes a token missing from the vocabulary");
            merges[ByteLevelBpeModel.PairKey(leftId, rightId)] = (rank, merged); // a repeated pair takes its last rank, as tokenizers' map does
            rank++;
        }
        return merges;
    }

    // The Unicode normalizations in order: NFC, NFD, NFKC, NFKD, or a Sequence of them (nested or empty sequences too).
    private static NormalizationForm[] ReadNormalizer(JsonElement? normalizer, string path)
    {
        if (normalizer is not { ValueKind: JsonValueKind.Object } n) return [];
        var type = StringOrNull(n, "type");
        if (type == "Sequence")
            return [.. n.GetProperty("normalizers").EnumerateArray().SelectMany(part => ReadNormalizer(part, path))];
        return type switch
        {
            "NFC" => [NormalizationForm.FormC],
            "NFD" => [NormalizationForm.FormD],
            "NFKC" => [NormalizationForm.FormKC],
            "NFKD" => [NormalizationForm.FormKD],
            _ => throw new NotSupportedException($"'{path}': normalizer {type} is not supported (only NFC, NFD, NFKC, NFKD and Sequences of them)"),
        };
    }

    private static ByteLevelPreTokenizer ReadPreTokenizer(JsonElement? preTokenizer, string path)
    {
        if (preTokenizer is not { ValueKind: JsonValueKind.Object } p)
            throw new NotSupportedException($"'{path}': no pre_tokenizer; only byte-level BPE tokenizers are supported");
        var steps = StringOrNull(p, "type") == "Sequence" ? [.. p.GetProperty("pretokenizers").EnumerateArray()] : new[] { p };
        List<string> patterns = [];
        List<bool> matchesOnly = [];
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var type = StringOrNull(step, "type");
            switch (type)
            {
                case "Split":
                    // Isolated cuts at both ends of every match, inverted or not (the same pieces); Removed with invert keeps the
                    // matches alone (o200k's tokenizers, whose pattern matches every character anyway).
                    var behavior = StringOrNull(step, "behavior");
                    bool inverted = Bool(step, "invert");
                    if (behavior != "Isolated" && !(behavior == "Removed" && inverted))
                        throw new NotSupportedException($"'{path}': Split pre-tokenizer with behavior {behavior}{(inverted ? ", inverted" : "")} is not supported " +
                            "(only Isolated, and Removed inverted)");
                    matchesOnly.Add(behavior == "Removed");
                    var pattern = step.GetProperty("pattern");
                    var regex = StringOrNull(pattern, "Regex") ?? Regex.Escape(StringOrNull(pattern, "String")
                        ?? throw new InvalidDataException($"'{path}': Split pattern is neither Regex nor String"));
                    if (ByteLevelPreTokenizer.CheckPattern(regex) is { } problem)
                        throw new NotSupportedException($"'{path}': the Split pattern uses {problem}");
                    patterns.Add(regex);
                    break;
                case "ByteLevel":
                    if (i != steps.Length - 1)
                        throw new NotSupportedException($"'{path}': pre-tokenizers after ByteLevel are not supported");
                    var addPrefixSpace = Bool(step, "add_prefix_space");
                    var splitAt = patterns.Count;
                    if (Property(step, "use_regex") is not { ValueKind: JsonValueKind.False }) patterns.Add(ByteLevelPreTokenizer.Gpt2Pattern);
                    try
                    {
                        return new ByteLevelPreTokenizer(patterns, addPrefixSpace, splitAt, matchesOnly);
                    }
                    catch (ArgumentException e)
                    {
                        throw new NotSupportedException($"'{path}': a Split pattern cannot be compiled: {e.Message}", e);
                    }
                default:
                    throw new NotSupportedException($"'{path}': pre-tokenizer {type} is not supported (only Split and ByteLevel)");
            }
        }
        throw new NotSupportedException($"'{path}': the pre-tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported");
    }

    // ByteLevel post-processors change only offsets; TemplateProcessing's single-sequence template gives the ids around it.
    private static int[] ReadPostProcessor(JsonElement? postProcessor, string path, out int[] suffix)
    {
        suffix = [];
        if (postProcessor is not { ValueKind: JsonValueKind.Object } p) return [];
        switch (StringOrNull(p, "type"))
        {
            case "ByteLevel":
                return [];
            case "Sequence":
                int[] prefix = [];
                foreach (var part in p.GetProperty("processors").EnumerateArray())
                {
                    var partPrefix = ReadPostProcessor(part, path, out var partSuffix);
                    if (partPrefix.Length > 0 || partSuffix.Length > 0)
                    {
                        if (prefix.Length > 0 || suffix.Length > 0)
                            throw new NotSupportedException($"'{path}': more than one post-processor adds tokens");
                        (prefix, suffix) = (partPrefix, partSuffix);
                    }
                }
                return prefix;
            case "TemplateProcessing":
                var specials = p.GetProperty("special_tokens");
                List<int> before = [], after = [];
                var seenSequence = false;
                foreach (var item in p.GetProperty("single").EnumerateArray())
                {
                    if (Property(item, "Sequence") is not null)
                    {
                        seenSequence = true;
                        continue;
                    }
                    var name = item.GetProperty("SpecialToken").GetProperty("id").GetString()!;
                    var ids = specials.GetProperty(name).GetProperty("ids").EnumerateArray().Select(x => x.GetInt32());
                    (seenSequence ? after : before).AddRange(ids);
                }
                suffix = [.. after];
                return [.. before];
            default:
                throw new NotSupportedException($"'{path}': post-processor {StringOrNull(p, "type")} is not supported (only ByteLevel and TemplateProcessing)");
        }
    }

    private static int[] CheckIds(int[] ids, int count, string path)
    {
        foreach (var id in ids)
            if ((uint)id >= (uint)count) throw new InvalidDataException($"'{path}': the post-processor adds id {id}, outside the vocabulary [0, {count})");
        return ids;
    }

    /// <summary>Checks that tokenizer.json's decoder reads ids the way <see cref="ByteLevelDecoder"/> does.</summary>
    internal static void CheckDecoder(JsonElement root, string path)
    {
        if (Property(root, "decoder") is not { ValueKind: JsonValueKind.Object } d)
            throw new NotSupportedException($"'{path}': no decoder; only the ByteLevel decoder is supported");
        var parts = StringOrNull(d, "type") == "Sequence" ? [.. d.GetProperty("decoders").EnumerateArray()] : new[] { d };
        foreach (var part in parts)
            if (StringOrNull(part, "type") != "ByteLevel")
                throw new NotSupportedException($"'{path}': decoder {StringOrNull(part, "type")} is not supported (only ByteLevel)");
    }

    private static JsonElement? Property(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? StringOrNull(JsonElement e, string name) =>
        Property(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) => Property(e, name) is { ValueKind: JsonValueKind.True };
}
