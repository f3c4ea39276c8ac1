// A set of byte values as four 64-bit words: the terminal of a grammar (one input byte matches when it is in the set).
namespace Estuary.Engine.Structured;

/// <summary>An immutable set of bytes.</summary>
internal readonly record struct ByteSet(ulong W0, ulong W1, ulong W2, ulong W3)
{
    public static ByteSet Empty => default;

    /// <summary>The single byte <paramref name="value"/>.</summary>
    public static ByteSet Of(byte value) => Range(value, value);

    /// <summary>Bytes lo..hi inclusive (empty when lo &gt; hi).</summary>
    public static ByteSet Range(int lo, int hi)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lo);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hi, 255);
        ulong w0 = 0, w1 = 0, w2 = 0, w3 = 0;
        for (int b = lo; b <= hi; b++)
        {
            ulong bit = 1UL << (b & 63);
            switch (b >> 6)
            {
                case 0: w0 |= bit; break;
                case 1: w1 |= bit; break;
                case 2: w2 |= bit; break;
                default: w3 |= bit; break;
            }
        }
        return new ByteSet(w0, w1, w2, w3);
    }

    public bool Contains(byte value) => ((value >> 6) switch { 0 => W0, 1 => W1, 2 => W2, _ => W3 } >> (value & 63) & 1) != 0;

    public bool IsEmpty => (W0 | W1 | W2 | W3) == 0;

    public ByteSet Union(ByteSet other) => new(W0 | other.W0, W1 | other.W1, W2 | other.W2, W3 | other.W3);

    public ByteSet Except(ByteSet other) => new(W0 & ~other.W0, W1 & ~other.W1, W2 & ~other.W2, W3 & ~other.W3);
}
