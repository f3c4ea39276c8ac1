// A growable run of code points, the working text of UnicodeNormalizer between decomposition and composition.
// Invariant: Items[0..Count) are the code points appended (or left by the caller's in-place edits) in order.
namespace Estuary.Tokenization;

internal struct CodePointBuffer(int capacity)
{
    public int[] Items = new int[Math.Max(capacity, 4)];
    public int Count;

    public void Append(int cp)
    {
        if (Count == Items.Length) Array.Resize(ref Items, Items.Length * 2);
        Items[Count++] = cp;
    }

    public void Append(ReadOnlySpan<int> cps)
    {
        if (Count + cps.Length > Items.Length) Array.Resize(ref Items, Math.Max(Items.Length * 2, Count + cps.Length));
        cps.CopyTo(Items.AsSpan(Count));
        Count += cps.Length;
    }
}
