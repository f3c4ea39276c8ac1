// One replaceable linear of a loaded model, named by the checkpoint module (and rows of it) it computes.
using Estuary.Models.Layers;

namespace Estuary.Models.Lora;

/// <summary>One replaceable linear of a model and the checkpoint module it comes from.</summary>
/// <param name="Module">Checkpoint module name (<c>model.layers.3.self_attn.W_pack</c>).</param>
/// <param name="RowStart">First output row of the module this linear computes (q, k, v of a fused module).</param>
/// <param name="ModuleRows">Output rows of the whole module.</param>
/// <param name="Get">Reads the linear.</param>
/// <param name="Set">Replaces the linear.</param>
internal sealed record LinearSite(string Module, int RowStart, int ModuleRows, Func<ILinear> Get, Action<ILinear> Set);
