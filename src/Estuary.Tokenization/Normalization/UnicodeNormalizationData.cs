// The Unicode tables behind UnicodeNormalizer, read once from the embedded UnicodeNormalizationData.txt (generated from
// Python's unicodedata by scripts/unicode-normalization-data.py): combining classes, full canonical and compatibility
// decompositions, primary composites, and per-code-point quick-check flags derived from them.
// Invariant: immutable after construction; the decompositions are complete (no mapped code point inside a mapping).
using System.Globalization;

namespace Estuary.Tokenization;

internal sealed class UnicodeNormalizationData
{
    /// <summary>Quick-check flags; a flag set means the code point may change (or, for Maybe, compose with what precedes).</summary>
    [Flags]
    public enum QuickCheck : byte
    {
        None = 0,
        NfdNo = 1,    // has a canonical decomposition (Hangul syllables included)
        NfkdNo = 2,   // has any decomposition
        NfcNo = 4,    // Full_Composition_Exclusion: never in NFC
        NfcMaybe = 8, // second half of a primary composite (or a Hangul vowel or trailing jamo)
        NfkcNo = 16,  // NfcNo, or a compatibility mapping somewhere in its decomposition
    }

    private const string ResourceName = "Estuary.Tokenization.UnicodeNormalizationData.txt";

    private static readonly Lazy<UnicodeNormalizationData> s_instance = new(() => Load(ResourceName));

    private readonly CodePointTable _ccc;
    private readonly CodePointTable _flags;
    private readonly int[] _mappings;                                      // every full decomposition, end to end
    private readonly Dictionary<int, (int Start, int Length)> _canonical;  // code point → its NFD in _mappings
    private readonly Dictionary<int, (int Start, int Length)> _compatibility; // code point → its NFKD in _mappings
    private readonly Dictionary<long, int> _composites;                    // (first, second) → primary composite

    public static UnicodeNormalizationData Instance => s_instance.Value;

    /// <summary>The Unicode version of the tables ("14.0.0").</summary>
    public string UnicodeVersion { get; }

    private UnicodeNormalizationData(string version, Dictionary<int, byte> ccc, Dictionary<int, (bool Compat, int[] Mapping)> oneLevel, HashSet<int> exclusions)
    {
        UnicodeVersion = version;
        _ccc = new CodePointTable(ccc);
        var flags = new Dictionary<int, byte>();
        void Flag(int cp, QuickCheck f) => flags[cp] = (byte)(flags.GetValueOrDefault(cp) | (byte)f);

        List<int> pool = [];
        _canonical = [];
        _compatibility = [];
        foreach (var (cp, (compat, _)) in oneLevel)
        {
            List<int> full = [];
            Expand(cp, compatibility: true, oneLevel, full);
            _compatibility[cp] = (pool.Count, full.Count);
            pool.AddRange(full);
            Flag(cp, QuickCheck.NfkdNo);
            List<int> canonical = [];
            Expand(cp, compatibility: false, oneLevel, canonical);
            if (!compat)
            {
                _canonical[cp] = (pool.Count, canonical.Count);
                pool.AddRange(canonical);
                Flag(cp, QuickCheck.NfdNo);
            }
            if (!canonical.SequenceEqual(full)) Flag(cp, QuickCheck.NfkcNo);
        }
        _mappings = [.. pool];

        _composites = [];
        foreach (var cp in exclusions)
        {
            if (!_canonical.ContainsKey(cp))
                throw new InvalidDataException($"Unicode normalization data: excluded U+{cp:X4} has no canonical decomposition");
            Flag(cp, QuickCheck.NfcNo | QuickCheck.NfkcNo);
        }
        foreach (var (cp, (compat, mapping)) in oneLevel)
        {
            if (compat || mapping.Length != 2 || exclusions.Contains(cp)) continue;
            _composites[Pair(mapping[0], mapping[1])] = cp;
            Flag(mapping[1], QuickCheck.NfcMaybe);
        }
        for (var s = HangulSyllables.SBase; s < HangulSyllables.SBase + HangulSyllables.SCount; s++) Flag(s, QuickCheck.NfdNo | QuickCheck.NfkdNo);
        for (var v = 0; v < HangulSyllables.VCount; v++) Flag(HangulSyllables.VBase + v, QuickCheck.NfcMaybe);
        for (var t = 1; t < HangulSyllables.TCount; t++) Flag(HangulSyllables.TBase + t, QuickCheck.NfcMaybe);
        _flags = new CodePointTable(flags);
    }

    // Applies one-level mappings (canonical ones only unless compatibility) until none is left.
    private static void Expand(int cp, bool compatibility, Dictionary<int, (bool Compat, int[] Mapping)> oneLevel, List<int> output)
    {
        if (oneLevel.TryGetValue(cp, out var m) && (compatibility || !m.Compat))
            foreach (var part in m.Mapping) Expand(part, compatibility, oneLevel, output);
        else
            output.Add(cp);
    }

    private static long Pair(int first, int second) => ((long)first << 21) | (uint)second;

    public int CombiningClass(int cp) => _ccc[cp];

    public QuickCheck Flags(int cp) => (QuickCheck)_flags[cp];

    /// <summary>The full canonical (or, with <paramref name="compatibility"/>, compatibility) decomposition; empty when there is none.
    /// Hangul syllables are not in the tables (see <see cref="HangulSyllables"/>).</summary>
    public ReadOnlySpan<int> Decomposition(int cp, bool compatibility)
    {
        var map = compatibility ? _compatibility : _canonical;
        return map.TryGetValue(cp, out var r) ? _mappings.AsSpan(r.Start, r.Length) : [];
    }

    /// <summary>The primary composite of the pair (Hangul included), or -1.</summary>
    public int Compose(int first, int second)
    {
        if ((Flags(second) & QuickCheck.NfcMaybe) == 0) return -1; // only these ever end a composite
        var hangul = HangulSyllables.Compose(first, second);
        if (hangul >= 0) return hangul;
        return _composites.TryGetValue(Pair(first, second), out var composite) ? composite : -1;
    }

    private static UnicodeNormalizationData Load(string resource)
    {
        using var stream = typeof(UnicodeNormalizationData).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Unicode normalization data: the assembly lacks the resource {resource}");
        using var reader = new StreamReader(stream);
        return Parse(reader, resource);
    }

    /// <summary>Reads the data file's format (see scripts/unicode-normalization-data.py).</summary>
    internal static UnicodeNormalizationData Parse(TextReader reader, string name)
    {
        string? version = null, section = null;
        var ccc = new Dictionary<int, byte>();
        var oneLevel = new Dictionary<int, (bool, int[])>();
        var exclusions = new HashSet<int>();
        var previous = 0;
        var lineNumber = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#') continue;
            try
            {
                var fields = line.Split(' ');
                if (fields[0] == "version") version = fields[1];
                else if (fields.Length == 1 && fields[0] is "ccc" or "decompositions" or "exclusions") section = fields[0];
                else if (section == "ccc")
                {
                    var (start, end) = Range(fields[0]);
                    for (var cp = start; cp <= end; cp++) ccc[cp] = byte.Parse(fields[1], CultureInfo.InvariantCulture);
                }
                else if (section == "decompositions")
                {
                    var plus = fields[0].IndexOf('+');
                    var first = previous + Hex(plus < 0 ? fields[0] : fields[0][..plus]);
                    var count = plus < 0 ? 1 : Hex(fields[0][(plus + 1)..]);
                    var compat = fields[1][0] switch { 'c' => false, 'k' => true, _ => throw new FormatException("kind must be c or k") };
                    int[] mapping = [Hex(fields[1][1..]), .. fields.Skip(2).Select(Hex)];
                    if (count > 1 && mapping.Length != 1) throw new FormatException("a run maps each code point to one");
                    for (var i = 0; i < count; i++) oneLevel[first + i] = (compat, count > 1 ? [mapping[0] + i] : mapping);
                    previous = first + count - 1;
                }
                else if (section == "exclusions")
                {
                    var (start, end) = Range(fields[0]);
                    for (var cp = start; cp <= end; cp++) exclusions.Add(cp);
                }
                else throw new FormatException("a line outside any section");
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
            {
                throw new InvalidDataException($"Unicode normalization data {name}, line {lineNumber}: {e.Message}", e);
            }
        }
        if (version is null || oneLevel.Count == 0 || ccc.Count == 0 || exclusions.Count == 0)
            throw new InvalidDataException($"Unicode normalization data {name} is incomplete (a version and the three sections are needed)");
        return new UnicodeNormalizationData(version, ccc, oneLevel, exclusions);
    }

    private static int Hex(string s) => int.Parse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    private static (int Start, int End) Range(string s)
    {
        var dash = s.IndexOf('-');
        return dash < 0 ? (Hex(s), Hex(s)) : (Hex(s[..dash]), Hex(s[(dash + 1)..]));
    }
}
