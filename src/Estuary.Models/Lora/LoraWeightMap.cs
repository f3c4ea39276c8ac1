// The adapter-side counterpart of WeightMap: which checkpoint module (and which rows of it) each linear of a loaded model is.
// PEFT module names of the decoder linears live here and in LoraAdapter only. Fused W_pack / qkv_proj maps to q, k, v as row
// ranges, and Phi-3's fused gate_up_proj to gate and up.
using Estuary.Models.Config;

namespace Estuary.Models.Lora;

/// <summary>Lists the adaptable linears of a decoder stack.</summary>
internal static class LoraWeightMap
{
    public static IReadOnlyList<LinearSite> Sites(CausalLm model)
    {
        ModelConfig c = model.Config;
        int qDim = c.NumHeads * c.HeadDim, kvDim = c.NumKvHeads * c.HeadDim;
        var sites = new List<LinearSite>();
        for (int l = 0; l < model.Layers.Count; l++)
        {
            var attn = model.Layers[l].Attention;
            var mlp = model.Layers[l].Mlp;
            string p = $"model.layers.{l}.";
            if (c.FusedQkv)
            {
                string pack = p + (c.Architecture == ModelConfig.Phi3Architecture ? "self_attn.qkv_proj" : "self_attn.W_pack");
                int rows = qDim + 2 * kvDim;
                sites.Add(new(pack, 0, rows, () => attn.QProj, v => attn.QProj = v));
                sites.Add(new(pack, qDim, rows, () => attn.KProj, v => attn.KProj = v));
                sites.Add(new(pack, qDim + kvDim, rows, () => attn.VProj, v => attn.VProj = v));
            }
            else
            {
                sites.Add(new(p + "self_attn.q_proj", 0, qDim, () => attn.QProj, v => attn.QProj = v));
                sites.Add(new(p + "self_attn.k_proj", 0, kvDim, () => attn.KProj, v => attn.KProj = v));
                sites.Add(new(p + "self_attn.v_proj", 0, kvDim, () => attn.VProj, v => attn.VProj = v));
            }
            sites.Add(new(p + "self_attn.o_proj", 0, c.HiddenSize, () => attn.OProj, v => attn.OProj = v));
            if (c.FusedGateUp)
            {
                string fused = p + "mlp.gate_up_proj";
                sites.Add(new(fused, 0, 2 * c.IntermediateSize, () => mlp.Gate, v => mlp.Gate = v));
                sites.Add(new(fused, c.IntermediateSize, 2 * c.IntermediateSize, () => mlp.Up, v => mlp.Up = v));
            }
            else
            {
                sites.Add(new(p + "mlp.gate_proj", 0, c.IntermediateSize, () => mlp.Gate, v => mlp.Gate = v));
                sites.Add(new(p + "mlp.up_proj", 0, c.IntermediateSize, () => mlp.Up, v => mlp.Up = v));
            }
            sites.Add(new(p + "mlp.down_proj", 0, c.HiddenSize, () => mlp.Down, v => mlp.Down = v));
        }
        return sites;
    }
}
