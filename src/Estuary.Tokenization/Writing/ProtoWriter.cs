// Minimal protobuf wire-format writer for the few messages of sentencepiece_model.proto.
// Invariant: emits canonical encodings (varints little-endian base-128, negative int32 as 10-byte varints, floats as fixed32 LE).
using System.Buffers.Binary;
using System.Text;

namespace Estuary.Tokenization.Writing;

internal sealed class ProtoWriter
{
    private const int WireVarint = 0;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    private readonly MemoryStream _buffer = new();

    public byte[] ToArray() => _buffer.ToArray();

    public void WriteInt32(int field, int value)
    {
        WriteTag(field, WireVarint);
        // proto2 int32: negative values are sign-extended to 64 bits, so they take 10 bytes.
        WriteVarint(unchecked((ulong)(long)value));
    }

    public void WriteBool(int field, bool value)
    {
        WriteTag(field, WireVarint);
        WriteVarint(value ? 1UL : 0UL);
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, WireFixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
    }

    public void WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

    public void WriteMessage(int field, ProtoWriter message) => WriteBytes(field, message.ToArray());

    private void WriteBytes(int field, ReadOnlySpan<byte> bytes)
    {
        WriteTag(field, WireLengthDelimited);
        WriteVarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}
