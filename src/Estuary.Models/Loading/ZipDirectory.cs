// Minimal read-only zip central-directory parser (ZIP64 aware) for torch.save files held in a memory map.
// Invariant: every entry's data range [DataOffset, DataOffset + CompressedSize) has been checked to lie inside the file.
using System.Buffers.Binary;
using System.Text;

namespace Estuary.Models.Loading;

/// <summary>One file inside a zip archive.</summary>
/// <param name="Name">Entry name ('/'-separated).</param>
/// <param name="Method">Compression method: 0 stored, 8 deflate.</param>
/// <param name="CompressedSize">Bytes of (possibly compressed) data in the archive.</param>
/// <param name="UncompressedSize">Bytes after decompression.</param>
/// <param name="DataOffset">File offset of the entry's data (after its local header).</param>
internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long UncompressedSize, long DataOffset);

/// <summary>Parses the entries of a zip file; torch writes its own zip, so no general-purpose library is needed.</summary>
internal static class ZipDirectory
{
    private const uint EndOfCentralDirSig = 0x06054b50;
    private const uint Zip64LocatorSig = 0x07064b50;
    private const uint Zip64EndSig = 0x06064b50;
    private const uint CentralHeaderSig = 0x02014b50;
    private const uint LocalHeaderSig = 0x04034b50;

    /// <summary>Reads all entries of the zip in <paramref name="file"/>; throws <see cref="CheckpointException"/> if it is not a well-formed zip.</summary>
    public static List<ZipEntry> Read(MappedFileStorage file)
    {
        try
        {
            return ReadEntries(file);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A length field pointed past the end of the file: report corruption, not an internal error.
            throw new CheckpointException($"{file.Path}: corrupt zip structure: {e.Message}", e);
        }
    }

    private static List<ZipEntry> ReadEntries(MappedFileStorage file)
    {
        string path = file.Path;
        long length = file.ByteLength;
        // The end-of-central-directory record (22 bytes) is followed by a comment of at most 65535 bytes.
        long eocd = -1;
        for (long p = length - 22; p >= Math.Max(0, length - 22 - 65535); p--)
        {
            if (U32(file, p) == EndOfCentralDirSig) { eocd = p; break; }
        }
        if (eocd < 0) throw new CheckpointException($"{path}: not a zip file (no end-of-central-directory record; truncated?)");

        long count = U16(file, eocd + 10);
        long cdSize = U32(file, eocd + 12);
        long cdOffset = U32(file, eocd + 16);
        if ((count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) && eocd >= 20 && U32(file, eocd - 20) == Zip64LocatorSig)
        {
            long z64 = (long)U64(file, eocd - 20 + 8);
            if (z64 < 0 || z64 + 56 > length || U32(file, z64) != Zip64EndSig)
                throw new CheckpointException($"{path}: corrupt ZIP64 end-of-central-directory record");
            count = (long)U64(file, z64 + 32);
            cdSize = (long)U64(file, z64 + 40);
            cdOffset = (long)U64(file, z64 + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > length)
            throw new CheckpointException($"{path}: zip central directory lies outside the file (truncated?)");

        var entries = new List<ZipEntry>();
        long pos = cdOffset;
        for (long i = 0; i < count; i++)
        {
            if (pos + 46 > cdOffset + cdSize || U32(file, pos) != CentralHeaderSig)
                throw new CheckpointException($"{path}: corrupt zip central directory (entry {i})");
            int flags = U16(file, pos + 8);
            int method = U16(file, pos + 10);
            long compressed = U32(file, pos + 20);
            long uncompressed = U32(file, pos + 24);
            int nameLen = U16(file, pos + 28);
            int extraLen = U16(file, pos + 30);
            int commentLen = U16(file, pos + 32);
            long localOffset = U32(file, pos + 42);
            if (pos + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize)
                throw new CheckpointException($"{path}: corrupt zip central directory (entry {i})");
            string name = Encoding.UTF8.GetString(file.Slice(pos + 46, nameLen));
            ReadZip64Extra(file, pos + 46 + nameLen, extraLen, ref uncompressed, ref compressed, ref localOffset);
            if ((flags & 1) != 0) throw new CheckpointException($"{path}: zip entry '{name}' is encrypted");

            if (localOffset < 0 || localOffset + 30 > length || U32(file, localOffset) != LocalHeaderSig)
                throw new CheckpointException($"{path}: zip entry '{name}' has no valid local header");
            long dataOffset = localOffset + 30 + U16(file, localOffset + 26) + U16(file, localOffset + 28);
            if (compressed < 0 || uncompressed < 0 || dataOffset + compressed > length)
                throw new CheckpointException($"{path}: zip entry '{name}' ({compressed} bytes at {dataOffset}) extends past the end of the file (truncated?)");
            if (method == 0 && compressed != uncompressed)
                throw new CheckpointException($"{path}: stored zip entry '{name}' has compressed size {compressed} != size {uncompressed}");
            entries.Add(new ZipEntry(name, method, compressed, uncompressed, dataOffset));
            pos += 46 + nameLen + extraLen + commentLen;
        }
        return entries;
    }

    // ZIP64 stores the real values, in this order, for the 32-bit fields that were set to 0xFFFFFFFF.
    private static void ReadZip64Extra(MappedFileStorage file, long start, int length, ref long uncompressed, ref long compressed, ref long localOffset)
    {
        long p = start;
        while (p + 4 <= start + length)
        {
            int id = U16(file, p);
            int size = U16(file, p + 2);
            if (id == 1)
            {
                long q = p + 4;
                long end = q + size;
                if (uncompressed == 0xFFFFFFFF && q + 8 <= end) { uncompressed = (long)U64(file, q); q += 8; }
                if (compressed == 0xFFFFFFFF && q + 8 <= end) { compressed = (long)U64(file, q); q += 8; }
                if (localOffset == 0xFFFFFFFF && q + 8 <= end) { localOffset = (long)U64(file, q); }
                return;
            }
            p += 4 + size;
        }
    }

    private static ushort U16(MappedFileStorage f, long p) => BinaryPrimitives.ReadUInt16LittleEndian(f.Slice(p, 2));

    private static uint U32(MappedFileStorage f, long p) => BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(p, 4));

    private static ulong U64(MappedFileStorage f, long p) => BinaryPrimitives.ReadUInt64LittleEndian(f.Slice(p, 8));
}
