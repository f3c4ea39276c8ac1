// Unicode normalization (NFC, NFD, NFKC, NFKD; UAX #15) without ICU, over the tables of UnicodeNormalizationData: full
// decomposition, canonical ordering (a stable sort of each run of non-starters by combining class), then, for NFC and
// NFKC, canonical composition. Needed because this build runs with invariant globalization, where string.Normalize
// leaves non-ASCII text as it is.
// Invariant: text that passes the quick check (all ASCII and most text in any script) is returned as the same instance,
// without allocating; otherwise only the part from the last stable starter before the first change is rebuilt.
using System.Text;
using QuickCheck = Estuary.Tokenization.UnicodeNormalizationData.QuickCheck;

namespace Estuary.Tokenization;

internal static class UnicodeNormalizer
{
    // Below these every code point is a starter that the form leaves as it is and nothing composes onto: NFC changes
    // nothing before the combining marks at U+0300; the other forms decompose Latin-1 (U+00A0 is the first with a mapping).
    private const char FirstForNfc = '\u0300';
    private const char FirstForOthers = '\u00A0';

    /// <summary><paramref name="text"/> in <paramref name="form"/>. Lone surrogates pass through unchanged (as starters).</summary>
    public static string Normalize(string text, NormalizationForm form)
    {
        var data = UnicodeNormalizationData.Instance;
        var (no, maybe, first) = Checks(form);
        var start = StableStartOfChange(text, data, no, maybe, first);
        if (start < 0) return text;

        var compatibility = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        var decomposes = compatibility ? QuickCheck.NfkdNo : QuickCheck.NfdNo;
        var buffer = new CodePointBuffer(text.Length - start + 8);
        for (var i = start; i < text.Length; i++)
        {
            // Below U+00A0 nothing decomposes (whatever the form: the quick check's NFC threshold is higher because a
            // precomposed Latin-1 letter stays in NFC by itself, but here it may be followed by a mark that must be
            // ordered inside its decomposition, as in é + U+0323 → ẹ́; the fuzzer found this).
            if (text[i] < FirstForOthers)
            {
                buffer.Append(text[i]);
                continue;
            }
            var cp = CodePointAt(text, ref i);
            if ((data.Flags(cp) & decomposes) == 0) buffer.Append(cp);
            else if (HangulSyllables.IsSyllable(cp)) HangulSyllables.Decompose(cp, ref buffer);
            else buffer.Append(data.Decomposition(cp, compatibility));
        }
        ReorderMarks(buffer, data);
        if (form is NormalizationForm.FormC or NormalizationForm.FormKC) Compose(ref buffer, data);
        return Write(text.AsSpan(0, start), buffer);
    }

    /// <summary>Whether <paramref name="text"/> passes the quick check of <paramref name="form"/> (then it is normalized).</summary>
    public static bool IsQuickCheckYes(string text, NormalizationForm form)
    {
        var (no, maybe, first) = Checks(form);
        return StableStartOfChange(text, UnicodeNormalizationData.Instance, no, maybe, first) < 0;
    }

    private static (QuickCheck No, QuickCheck Maybe, char First) Checks(NormalizationForm form) => form switch
    {
        NormalizationForm.FormC => (QuickCheck.NfcNo, QuickCheck.NfcMaybe, FirstForNfc),
        NormalizationForm.FormD => (QuickCheck.NfdNo, QuickCheck.None, FirstForOthers),
        NormalizationForm.FormKC => (QuickCheck.NfkcNo, QuickCheck.NfcMaybe, FirstForOthers),
        NormalizationForm.FormKD => (QuickCheck.NfkdNo, QuickCheck.None, FirstForOthers),
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, "not a Unicode normalization form"),
    };

    // The quick check of UAX #15 (a flagged code point, or combining classes out of order, may need work). Returns -1 when
    // the text passes, else the index of the last stable code point (a starter without flags, which nothing before it
    // composes with or reorders across) at or before the first one that may change.
    // Hot: runs over every segment of text a byte-level tokenizer with a normalizer encodes.
    private static int StableStartOfChange(string text, UnicodeNormalizationData data, QuickCheck no, QuickCheck maybe, char first)
    {
        var stable = 0;
        var lastClass = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] < first)
            {
                stable = i;
                lastClass = 0;
                continue;
            }
            var at = i;
            var cp = CodePointAt(text, ref i);
            var cls = data.CombiningClass(cp);
            var flags = data.Flags(cp);
            if ((cls != 0 && lastClass > cls) || (flags & (no | maybe)) != 0) return stable;
            if (cls == 0) stable = at;
            lastClass = cls;
        }
        return -1;
    }

    // The code point at i (a surrogate pair's, leaving i on its low half; a lone surrogate's own value).
    private static int CodePointAt(string text, ref int i)
    {
        var c = text[i];
        if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            return char.ConvertToUtf32(c, text[++i]);
        return c;
    }

    // Canonical ordering: each run of non-starters sorted stably by combining class; short runs (nearly all) by insertion,
    // long ones by counting, so a prompt of many thousand marks after one letter costs linear time, not quadratic.
    private static void ReorderMarks(CodePointBuffer buffer, UnicodeNormalizationData data)
    {
        var items = buffer.Items;
        for (var i = 0; i < buffer.Count; i++)
        {
            if (data.CombiningClass(items[i]) == 0) continue;
            var end = i + 1;
            while (end < buffer.Count && data.CombiningClass(items[end]) != 0) end++;
            var run = items.AsSpan(i, end - i);
            if (run.Length <= 32) InsertionSort(run, data);
            else CountingSort(run, data);
            i = end - 1;
        }
    }

    private static void InsertionSort(Span<int> run, UnicodeNormalizationData data)
    {
        for (var i = 1; i < run.Length; i++)
        {
            var cp = run[i];
            var cls = data.CombiningClass(cp);
            var j = i;
            while (j > 0 && data.CombiningClass(run[j - 1]) > cls)
            {
                run[j] = run[j - 1];
                j--;
            }
            run[j] = cp;
        }
    }

    private static void CountingSort(Span<int> run, UnicodeNormalizationData data)
    {
        Span<int> starts = stackalloc int[257]; // classes are bytes: starts[c + 1] counts class c, then becomes its first slot
        foreach (var cp in run) starts[data.CombiningClass(cp) + 1]++;
        for (var c = 1; c < starts.Length; c++) starts[c] += starts[c - 1];
        var sorted = new int[run.Length];
        foreach (var cp in run) sorted[starts[data.CombiningClass(cp)]++] = cp; // in order within a class: stable
        sorted.CopyTo(run);
    }

    // Canonical composition in place: each character joins the last starter when it is not blocked from it (no character
    // between them of class 0 or of a class at least its own) and the pair has a primary composite.
    private static void Compose(ref CodePointBuffer buffer, UnicodeNormalizationData data)
    {
        if (buffer.Count == 0) return;
        var items = buffer.Items;
        var starterAt = 0;
        var starter = items[0];
        var lastClass = data.CombiningClass(starter) == 0 ? 0 : 256; // a leading non-starter has no starter to join
        var kept = 1;
        for (var i = 1; i < buffer.Count; i++)
        {
            var cp = items[i];
            var cls = data.CombiningClass(cp);
            if (lastClass < cls || lastClass == 0)
            {
                var composite = data.Compose(starter, cp);
                if (composite >= 0)
                {
                    items[starterAt] = starter = composite;
                    continue;
                }
            }
            if (cls == 0)
            {
                starterAt = kept;
                starter = cp;
            }
            lastClass = cls;
            items[kept++] = cp;
        }
        buffer.Count = kept;
    }

    private static string Write(ReadOnlySpan<char> prefix, CodePointBuffer buffer)
    {
        var builder = new StringBuilder(prefix.Length + buffer.Count + 8);
        builder.Append(prefix);
        for (var i = 0; i < buffer.Count; i++)
        {
            var cp = buffer.Items[i];
            if (cp > 0xFFFF) builder.Append((char)(0xD7C0 + (cp >> 10))).Append((char)(0xDC00 | (cp & 0x3FF)));
            else builder.Append((char)cp); // lone surrogates included
        }
        return builder.ToString();
    }
}
