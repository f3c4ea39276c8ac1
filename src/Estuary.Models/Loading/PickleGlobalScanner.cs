// Walks a pickle's opcodes without executing anything and rejects every global outside an allow-list.
// Invariant: a pickle that passes names only allowed globals, via GLOBAL, INST or a STACK_GLOBAL whose operands are literal strings.
using System.Buffers.Binary;
using System.Text;

namespace Estuary.Models.Loading;

/// <summary>Static allow-list check of the globals a pickle refers to (run before any unpickler sees the bytes).</summary>
internal static class PickleGlobalScanner
{
    /// <summary>Throws <see cref="CheckpointException"/> naming the first global not in <paramref name="allowed"/>, or any malformed / unsupported opcode.</summary>
    public static void Check(ReadOnlySpan<byte> pickle, string where, IReadOnlySet<string> allowed)
    {
        // Literal strings most recently pushed (null = not a known string) and memoized strings, to resolve STACK_GLOBAL operands.
        string? last1 = null, last2 = null;
        var memo = new Dictionary<long, string?>();
        int pos = 0;
        while (true)
        {
            if (pos >= pickle.Length) throw new CheckpointException($"{where}: pickle ends without a STOP opcode (truncated)");
            byte op = pickle[pos++];
            string? pushed = null;
            bool neutral = false;
            switch (op)
            {
                case (byte)'.': // STOP
                    return;
                // Opcodes without an argument that change the stack.
                case (byte)'(': case (byte)'0': case (byte)'1': case (byte)'2': case (byte)'N': case (byte)'R':
                case (byte)'a': case (byte)'b': case (byte)'d': case (byte)'}': case (byte)'e': case (byte)'l':
                case (byte)']': case (byte)'o': case (byte)'s': case (byte)'t': case (byte)')': case (byte)'u':
                case (byte)'Q': case 0x81: case 0x85: case 0x86: case 0x87: case 0x88: case 0x89:
                case 0x8f: case 0x90: case 0x91: case 0x92: case 0x97: case 0x98:
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = last1;
                    neutral = true;
                    break;
                case 0x80: // PROTO
                    byte proto = Take(pickle, ref pos, 1, where)[0];
                    if (proto > 5) throw new CheckpointException($"{where}: unsupported pickle protocol {proto}");
                    neutral = true;
                    break;
                case 0x95: // FRAME
                    Take(pickle, ref pos, 8, where);
                    neutral = true;
                    break;
                // Text-line arguments.
                case (byte)'F': case (byte)'I': case (byte)'L': case (byte)'P': case (byte)'S': case (byte)'V':
                    ReadLine(pickle, ref pos, where);
                    break;
                case (byte)'g': // GET
                    pushed = Lookup(memo, ParseIndex(ReadLine(pickle, ref pos, where), where));
                    break;
                case (byte)'p': // PUT
                    memo[ParseIndex(ReadLine(pickle, ref pos, where), where)] = last1;
                    neutral = true;
                    break;
                case (byte)'c': // GLOBAL
                case (byte)'i': // INST
                {
                    string module = ReadLine(pickle, ref pos, where);
                    string name = ReadLine(pickle, ref pos, where);
                    Require(module, name, where, allowed);
                    break;
                }
                case 0x93: // STACK_GLOBAL
                    if (last1 == null || last2 == null)
                        throw new CheckpointException($"{where}: pickle uses STACK_GLOBAL with operands that are not literal strings; refused");
                    Require(last2, last1, where, allowed);
                    break;
                case 0x82: case 0x83: case 0x84: // EXT1, EXT2, EXT4: globals from the copyreg extension registry
                    throw new CheckpointException($"{where}: pickle uses an extension-registry opcode (EXT1/2/4); refused");
                // Fixed-size binary arguments.
                case (byte)'K': Take(pickle, ref pos, 1, where); break;
                case (byte)'M': Take(pickle, ref pos, 2, where); break;
                case (byte)'J': Take(pickle, ref pos, 4, where); break;
                case (byte)'G': Take(pickle, ref pos, 8, where); break;
                case (byte)'h': pushed = Lookup(memo, Take(pickle, ref pos, 1, where)[0]); break;
                case (byte)'j': pushed = Lookup(memo, BinaryPrimitives.ReadInt32LittleEndian(Take(pickle, ref pos, 4, where))); break;
                case (byte)'q':
                    memo[Take(pickle, ref pos, 1, where)[0]] = last1;
                    neutral = true;
                    break;
                case (byte)'r':
                    memo[BinaryPrimitives.ReadInt32LittleEndian(Take(pickle, ref pos, 4, where))] = last1;
                    neutral = true;
                    break;
                // Length-prefixed arguments.
                case (byte)'U': case (byte)'C': case 0x8a: // SHORT_BINSTRING, SHORT_BINBYTES, LONG1
                    Take(pickle, ref pos, Take(pickle, ref pos, 1, where)[0], where);
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    pushed = Encoding.UTF8.GetString(Take(pickle, ref pos, Take(pickle, ref pos, 1, where)[0], where));
                    break;
                case (byte)'T': case (byte)'B': case 0x8b: // BINSTRING, BINBYTES, LONG4
                    Take(pickle, ref pos, Length32(pickle, ref pos, where), where);
                    break;
                case (byte)'X': // BINUNICODE
                    pushed = Encoding.UTF8.GetString(Take(pickle, ref pos, Length32(pickle, ref pos, where), where));
                    break;
                case 0x8d: // BINUNICODE8
                    pushed = Encoding.UTF8.GetString(Take(pickle, ref pos, Length64(pickle, ref pos, where), where));
                    break;
                case 0x8e: case 0x96: // BINBYTES8, BYTEARRAY8
                    Take(pickle, ref pos, Length64(pickle, ref pos, where), where);
                    break;
                default:
                    throw new CheckpointException($"{where}: invalid pickle opcode 0x{op:x2} at byte {pos - 1}");
            }

            if (neutral) continue;
            if (pushed != null)
            {
                last2 = last1;
                last1 = pushed;
            }
            else
            {
                // Anything else may pop or push arbitrary values: forget what the stack top was.
                last1 = last2 = null;
            }
        }
    }

    private static void Require(string module, string name, string where, IReadOnlySet<string> allowed)
    {
        string full = module + "." + name;
        if (!allowed.Contains(full))
            throw new CheckpointException($"{where}: pickle references the global '{full}', which is not on the allow-list of a tensor checkpoint; refused (nothing was executed)");
    }

    private static string? Lookup(Dictionary<long, string?> memo, long index) => memo.TryGetValue(index, out var s) ? s : null;

    private static long ParseIndex(string text, string where) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : throw new CheckpointException($"{where}: invalid pickle memo index '{text}'");

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> pickle, ref int pos, long count, string where)
    {
        if (count < 0 || count > pickle.Length - pos) throw new CheckpointException($"{where}: pickle is truncated (opcode argument runs past the end)");
        var s = pickle.Slice(pos, (int)count);
        pos += (int)count;
        return s;
    }

    private static int Length32(ReadOnlySpan<byte> pickle, ref int pos, string where) =>
        BinaryPrimitives.ReadInt32LittleEndian(Take(pickle, ref pos, 4, where));

    private static long Length64(ReadOnlySpan<byte> pickle, ref int pos, string where) =>
        BinaryPrimitives.ReadInt64LittleEndian(Take(pickle, ref pos, 8, where));

    private static string ReadLine(ReadOnlySpan<byte> pickle, ref int pos, string where)
    {
        int n = pickle[pos..].IndexOf((byte)'\n');
        if (n < 0) throw new CheckpointException($"{where}: pickle is truncated (unterminated text argument)");
        string s = Encoding.UTF8.GetString(pickle.Slice(pos, n));
        pos += n + 1;
        return s;
    }
}
