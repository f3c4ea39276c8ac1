// Which vector width a kernel family runs with; every width computes the same per-lane operations, so results are identical.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Vector width of a kernel call.</summary>
internal enum SimdWidth
{
    /// <summary>Plain scalar code (no SIMD assumed).</summary>
    Scalar,
    /// <summary>AVX2 + FMA, Vector256.</summary>
    Vector256,
    /// <summary>AVX-512 (F, BW), Vector512.</summary>
    Vector512,
}

/// <summary>The widest <see cref="SimdWidth"/> this machine runs.</summary>
internal static class SimdWidths
{
    /// <summary>Vector512 with AVX-512 F/BW, else Vector256 with AVX2 + FMA, else scalar.</summary>
    public static SimdWidth Best =>
        Avx512F.IsSupported && Avx512BW.IsSupported && Vector512.IsHardwareAccelerated ? SimdWidth.Vector512
        : Avx2.IsSupported && Fma.IsSupported ? SimdWidth.Vector256
        : SimdWidth.Scalar;
}
