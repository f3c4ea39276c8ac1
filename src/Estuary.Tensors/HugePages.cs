// Linux madvise(MADV_HUGEPAGE) for large weight buffers; a no-op where the call is unavailable or refused.
using System.Runtime.InteropServices;

namespace Estuary.Tensors;

/// <summary>Transparent-huge-page advice.</summary>
internal static partial class HugePages
{
    private const int MadvHugePage = 14;

    /// <summary>Asks the kernel to back [pointer, pointer+length) with huge pages; failure only costs speed.</summary>
    public static void Advise(nint pointer, nuint length)
    {
        try
        {
            _ = Madvise(pointer, length, MadvHugePage);
        }
        catch (DllNotFoundException)
        {
        }
        catch (EntryPointNotFoundException)
        {
        }
    }

    // int madvise(void *addr /* page aligned */, size_t length, int advice); returns 0 or -1 with errno. No ownership transfer.
    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint addr, nuint length, int advice);
}
