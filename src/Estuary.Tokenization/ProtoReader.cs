// Minimal protobuf wire-format reader for the few messages of sentencepiece_model.proto.
// Invariant: never reads past the span it was given; malformed input throws InvalidDataException.
namespace Estuary.Tokenization;

internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly bool AtEnd => _pos >= _data.Length;

    /// <summary>Reads the next tag; returns the field number and the wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var field = (int)(tag >> 3);
        if (field <= 0) throw new InvalidDataException("invalid protobuf field number " + field);
        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw new InvalidDataException("truncated protobuf varint");
            var b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw new InvalidDataException("protobuf varint longer than 10 bytes");
    }

    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var len = ReadVarint();
        if (len > (ulong)(_data.Length - _pos)) throw new InvalidDataException("protobuf length-delimited field runs past the end");
        var slice = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return slice;
    }

    public float ReadFixed32AsFloat()
    {
        if (_data.Length - _pos < 4) throw new InvalidDataException("truncated protobuf fixed32");
        var value = BitConverter.ToSingle(_data.Slice(_pos, 4));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        _pos += 4;
        return value;
    }

    /// <summary>Skips a field of the given wire type (unknown fields are legal and ignored).</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadLengthDelimited(); break;
            case 5: Advance(4); break;
            default: throw new InvalidDataException("unsupported protobuf wire type " + wireType);
        }
    }

    private void Advance(int n)
    {
        if (_data.Length - _pos < n) throw new InvalidDataException("truncated protobuf field");
        _pos += n;
    }
}
