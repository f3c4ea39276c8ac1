// Pre-tokenization of byte-level BPE tokenizers: Split steps (regex matches isolated as pieces of their own, the text
// between them kept as pieces too — or, for behavior Removed with invert (o200k's tokenizers: GPT-4o, Phi-4-mini), the
// matches alone), then the ByteLevel step (optional prefix space, optional GPT-2 split). Patterns are
// written for Oniguruma, which matches code points; .NET matches UTF-16 units, so text with characters beyond U+FFFF
// is matched through a stand-in string with one unit per code point (see SplitIsolated).
// Invariant: the pieces concatenate to the input (plus the prefix spaces the ByteLevel step adds), less the text between
// matches of a matches-only step.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Estuary.Tokenization;

internal sealed class ByteLevelPreTokenizer
{
    /// <summary>GPT-2's pattern, the ByteLevel step's own split when its <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly Regex[] _splits;
    private readonly bool[] _matchesOnly;
    private readonly bool _addPrefixSpace;
    private readonly int _prefixBeforeSplit;

    /// <param name="splitPatterns">Split steps' patterns in order, the ByteLevel step's GPT-2 split last when it has one.</param>
    /// <param name="addPrefixSpace">The ByteLevel step's <c>add_prefix_space</c>: a piece not starting with a space gets one.</param>
    /// <param name="prefixBeforeSplit">Index in <paramref name="splitPatterns"/> where the ByteLevel step starts (its prefix space comes first).</param>
    /// <param name="matchesOnly">Per pattern (null: none): keep only the matches (behavior Removed, inverted), dropping the text between them.</param>
    public ByteLevelPreTokenizer(IReadOnlyList<string> splitPatterns, bool addPrefixSpace, int prefixBeforeSplit, IReadOnlyList<bool>? matchesOnly = null)
    {
        // Oniguruma's Ruby syntax reads ^ and $ at every line.
        _splits = [.. splitPatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant | RegexOptions.Multiline))];
        _matchesOnly = [.. Enumerable.Range(0, _splits.Length).Select(i => matchesOnly is not null && i < matchesOnly.Count && matchesOnly[i])];
        _addPrefixSpace = addPrefixSpace;
        _prefixBeforeSplit = prefixBeforeSplit;
    }

    /// <summary>Appends the pieces of <paramref name="text"/> (text between added tokens, already normalized).</summary>
    public void Split(string text, List<string> output)
    {
        List<string> pieces = [text];
        for (var step = 0; step <= _splits.Length; step++)
        {
            if (step == _prefixBeforeSplit && _addPrefixSpace)
            {
                for (var i = 0; i < pieces.Count; i++)
                    if (!pieces[i].StartsWith(' ')) pieces[i] = " " + pieces[i];
            }
            if (step == _splits.Length) break;
            List<string> next = [];
            foreach (var piece in pieces) SplitIsolated(_splits[step], piece, next, keepGaps: !_matchesOnly[step]);
            pieces = next;
        }
        output.AddRange(pieces);
    }

    /// <summary>
    /// Isolated split: every match is a piece, and so is every non-empty stretch between matches (unless not
    /// <paramref name="keepGaps"/>: then those stretches are dropped, as behavior Removed with invert drops them).
    /// </summary>
    internal static void SplitIsolated(Regex regex, string text, List<string> output, bool keepGaps = true)
    {
        if (text.Length == 0) return;
        var (subject, offsets) = CodePointSubject(text);
        var last = 0;
        for (var match = regex.Match(subject); match.Success; match = match.NextMatch())
        {
            if (match.Length == 0) continue;
            var start = offsets?[match.Index] ?? match.Index;
            var end = offsets?[match.Index + match.Length] ?? match.Index + match.Length;
            if (start > last && keepGaps) output.Add(text[last..start]);
            output.Add(text[start..end]);
            last = end;
        }
        if (last < text.Length && keepGaps) output.Add(text[last..]);
    }

    // Text without surrogates is matched as it is. Otherwise every code point beyond U+FFFF becomes one stand-in unit of
    // the same class for these patterns (a letter, a digit, or a private-use character for anything else), and offsets
    // maps each stand-in index back to the original one (with one extra entry for the end).
    private static (string Subject, int[]? Offsets) CodePointSubject(string text)
    {
        var firstSurrogate = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (firstSurrogate < 0) return (text, null);
        var subject = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length;)
        {
            offsets.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                subject.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i += 2;
            }
            else
            {
                subject.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
                i++;
            }
        }
        offsets.Add(text.Length);
        return (subject.ToString(), [.. offsets]);
    }

    // A BMP character of the same general category and outside ASCII, so \p{…} classes see what they would see in the real
    // character and ASCII ranges ([A-Za-z0-9]) do not match it (CheckPattern refuses patterns with non-ASCII literals).
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0100',
        UnicodeCategory.LowercaseLetter => '\u0101',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u01BB',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u2018',
        UnicodeCategory.FinalQuotePunctuation => '\u2019',
        UnicodeCategory.OtherPunctuation => '\u00B7',
        UnicodeCategory.MathSymbol => '\u2211',
        UnicodeCategory.CurrencySymbol => '\u20AC',
        UnicodeCategory.ModifierSymbol => '\u02DC',
        UnicodeCategory.OtherSymbol => '\u00A9',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };

    /// <summary>
    /// Why <paramref name="pattern"/> cannot be matched here as Oniguruma matches it, or null. Refused: characters outside
    /// printable ASCII (a literal or range could catch a stand-in), and the shorthands whose sets differ between Oniguruma's
    /// Ruby syntax and .NET (\w \d \b \h and their negations, \G). Llama 3's, GPT-2's and Qwen2's patterns use none of them.
    /// </summary>
    public static string? CheckPattern(string pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c is < ' ' or > '~') return $"the character U+{(int)c:X4} (only printable ASCII is matched exactly)";
            if (c != '\\' || i + 1 >= pattern.Length) continue;
            char escaped = pattern[++i];
            if ("wWdDbBhHG".Contains(escaped)) return $"'\\{escaped}' (its set differs between Oniguruma and .NET)";
        }
        return null;
    }
}
