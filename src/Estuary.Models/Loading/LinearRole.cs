// Which linear of a decoder block a module is; lets quantized loaders ask WeightMap for checkpoint names without knowing them.
namespace Estuary.Models.Loading;

/// <summary>A decoder block's linear layers.</summary>
public enum LinearRole
{
    /// <summary>Fused q, k, v rows (Baichuan's W_pack, Phi-3's qkv_proj).</summary>
    Qkv,
    /// <summary>Query projection (unfused).</summary>
    Q,
    /// <summary>Key projection (unfused).</summary>
    K,
    /// <summary>Value projection (unfused).</summary>
    V,
    /// <summary>Attention output projection.</summary>
    O,
    /// <summary>MLP gate projection.</summary>
    Gate,
    /// <summary>MLP up projection.</summary>
    Up,
    /// <summary>MLP down projection.</summary>
    Down,
    /// <summary>Fused gate and up rows, gate first (Phi-3's gate_up_proj).</summary>
    GateUp,
}
