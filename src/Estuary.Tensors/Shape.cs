// An immutable tensor shape (row-major); most engine tensors are 1-D or 2-D.
namespace Estuary.Tensors;

/// <summary>Row-major tensor shape.</summary>
public readonly record struct Shape
{
    private readonly long[]? _dims;

    /// <summary>Creates a shape from its dimensions.</summary>
    public Shape(params long[] dims)
    {
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), $"negative dimension {d}");
        }
        _dims = (long[])dims.Clone();
    }

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Size of dimension <paramref name="i"/>.</summary>
    public long this[int i] => (_dims ?? [])[i];

    /// <summary>Product of all dimensions (1 for a scalar).</summary>
    public long NumElements
    {
        get
        {
            long n = 1;
            foreach (var d in _dims ?? []) n *= d;
            return n;
        }
    }

    /// <summary>The dimensions as a new array.</summary>
    public long[] ToArray() => (long[])(_dims ?? []).Clone();

    /// <summary>Structural equality.</summary>
    public bool Equals(Shape other) => (_dims ?? []).AsSpan().SequenceEqual(other._dims ?? []);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims ?? []) h.Add(d);
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => "[" + string.Join(", ", _dims ?? []) + "]";
}
