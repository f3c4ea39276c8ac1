// One adapter's share of a LoRA delta call: which of the call's rows it owns, its factors and its scale.
namespace Estuary.Tensors;

/// <summary>
/// Rows <c>rows[Start .. Start + Count)</c> of an <see cref="IBackend.TryAddLoraDeltas"/> call belong to the adapter with factors
/// <see cref="A"/> [r, K] and <see cref="B"/> [N, r] and scale <see cref="Scale"/> (alpha/r, or alpha/√r with rsLoRA).
/// </summary>
public readonly record struct LoraSegment(int Start, int Count, Weight A, Weight B, float Scale);
