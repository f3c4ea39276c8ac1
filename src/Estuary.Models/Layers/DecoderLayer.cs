// One pre-norm transformer block: x += attn(norm(x)); x += mlp(norm(x)).
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>A decoder block.</summary>
public sealed class DecoderLayer(IBackend backend, RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, GatedMlp mlp)
{
    /// <summary>Pre-attention norm.</summary>
    public RmsNorm InputNorm { get; } = inputNorm;
    /// <summary>Self-attention.</summary>
    public Attention Attention { get; } = attention;
    /// <summary>Pre-MLP norm.</summary>
    public RmsNorm PostAttentionNorm { get; } = postAttentionNorm;
    /// <summary>Feed-forward block.</summary>
    public GatedMlp Mlp { get; } = mlp;

    /// <summary>Updates the residual stream x[T, H] in place.</summary>
    public void Forward(DeviceTensor x, KvLayer kv, ForwardBatch batch, LayerScratch s)
    {
        InputNorm.Forward(x, s.Normed);                                   // [T, H]
        Attention.Forward(s.Normed, kv, batch, s.Attention, s.Delta);      // [T, H]
        backend.Add(x, s.Delta);
        PostAttentionNorm.Forward(x, s.Normed);                           // [T, H]
        Mlp.Forward(s.Normed, s.Gate, s.Up, s.Act, s.Delta, batch);         // [T, H]
        backend.Add(x, s.Delta);
    }
}
