// Hangul syllables decompose and compose by arithmetic (Unicode §3.12), not through the tables: L V [T] jamo ↔ syllable.
// Invariant: Decompose and Compose are inverse on the 11,172 precomposed syllables U+AC00–U+D7A3.
namespace Estuary.Tokenization;

internal static class HangulSyllables
{
    public const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    public const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    public static bool IsSyllable(int cp) => (uint)(cp - SBase) < SCount;

    /// <summary>Appends the syllable's two or three jamo.</summary>
    public static void Decompose(int syllable, ref CodePointBuffer output)
    {
        var s = syllable - SBase;
        output.Append(LBase + s / NCount);
        output.Append(VBase + s % NCount / TCount);
        if (s % TCount != 0) output.Append(TBase + s % TCount);
    }

    /// <summary>The LV syllable of a leading and a vowel jamo, the LVT syllable of an LV syllable and a trailing jamo, or -1.</summary>
    public static int Compose(int first, int second)
    {
        if ((uint)(first - LBase) < LCount && (uint)(second - VBase) < VCount)
            return SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
        // TBase itself is no trailing consonant: T indices run 1..27.
        if (IsSyllable(first) && (first - SBase) % TCount == 0 && (uint)(second - TBase - 1) < TCount - 1)
            return first + (second - TBase);
        return -1;
    }
}
