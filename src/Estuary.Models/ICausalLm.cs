// The contract between the engine's model runner and a loaded model: one forward over a flat batch, then logits for chosen rows.
using Estuary.Models.Config;
using Estuary.Tensors;

namespace Estuary.Models;

/// <summary>A decoder-only language model bound to a backend.</summary>
public interface ICausalLm : IDisposable
{
    /// <summary>Architecture settings.</summary>
    ModelConfig Config { get; }

    /// <summary>The backend the weights live on.</summary>
    IBackend Backend { get; }

    /// <summary>Resident bytes of all weights.</summary>
    long WeightBytes { get; }

    /// <summary>Runs all layers over the batch, writing K/V to the cache; returns the final-normed hidden states [T, H] (valid until the next call).</summary>
    DeviceTensor Forward(ForwardBatch batch, IKvCacheStorage kvCache);

    /// <summary>logits[S, V] = head(hidden[S, H]).</summary>
    void ComputeLogits(DeviceTensor hidden, DeviceTensor logits);
}
