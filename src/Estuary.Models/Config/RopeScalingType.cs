// The kinds of RoPE frequency scaling Estuary computes, named as config.json's rope_scaling.rope_type names them.
namespace Estuary.Models.Config;

/// <summary>A <c>rope_scaling.rope_type</c> that Estuary supports; any other type is refused at load.</summary>
public enum RopeScalingType
{
    /// <summary>No scaling (<c>rope_scaling</c> null or <c>"default"</c>): θ_j = base^(-2j/D).</summary>
    Default,
    /// <summary><c>"linear"</c> (position interpolation): every inverse frequency divided by the factor, i.e. position p rotates as p/factor.</summary>
    Linear,
    /// <summary><c>"llama3"</c> (Llama 3.1/3.2): low frequencies divided by the factor, high ones kept, a smooth blend between.</summary>
    Llama3,
    /// <summary>
    /// <c>"longrope"</c> (Phi-3 128k, Phi-3.5, Phi-4-mini; legacy name <c>"su"</c>): every inverse frequency divided by its own
    /// factor, the short factors below the original context and the long ones from it on, and cos/sin scaled by the attention factor.
    /// </summary>
    LongRope,
}
