// Writes a tiny Llama that says what a test scripts: its greedy reply to any prompt is fixed by the prompt's last token,
// following chains of tokens (trigger → t1 → t2 → … → EOS). Every layer's weights are zero, so the residual stream is the
// last token's embedding; embeddings are orthogonal unit vectors, and lm_head's row for a token is the sum of the embeddings
// of the tokens it follows, so each chain token's successor wins by about 113 logits and every other token scores 0.
// The tokenizer is the Llama 3-layout byte-level test tokenizer with extra added (non-special) tokens, e.g. <think>.
// Invariant: a token has at most one successor across all chains (checked); at most hidden_size (128) tokens have one.
using System.Text.Json.Nodes;
using Estuary.Models.Loading;
using Estuary.Models.Synthetic;
using Estuary.Tensors;
using Estuary.Tokenization;

namespace Estuary.Testing;

internal static class ScriptedTestModel
{
    /// <summary>
    /// Writes the model into <paramref name="dir"/> with <paramref name="chatTemplate"/> and the tokenizer plus
    /// <paramref name="addedTokens"/>; <paramref name="chains"/> gets that tokenizer and returns the token chains, each from
    /// its trigger to its last token (EOS follows it). <paramref name="paddingRows"/> more embedding rows than the tokenizer has
    /// tokens (as Qwen's checkpoints have) may appear in chains too.
    /// </summary>
    public static string Write(string dir, string chatTemplate, IReadOnlyList<string> addedTokens, Func<TextTokenizer, IEnumerable<int[]>> chains,
        int paddingRows = 0)
    {
        var source = Path.Combine(AppContext.BaseDirectory, "byte-level", "llama3-style");
        var tokenizerDir = Directory.CreateTempSubdirectory("estuary-scripted-tokenizer-").FullName;
        try
        {
            var tokenizerJson = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer.json")))!.AsObject();
            var added = tokenizerJson["added_tokens"]!.AsArray();
            int next = added.Max(t => (int)t!["id"]!) + 1;
            foreach (var content in addedTokens)
                added.Add(new JsonObject
                {
                    ["id"] = next++, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = false, ["special"] = false,
                });
            File.WriteAllText(Path.Combine(tokenizerDir, "tokenizer.json"), tokenizerJson.ToJsonString());
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "tokenizer_config.json")))!.AsObject();
            config["chat_template"] = chatTemplate;
            File.WriteAllText(Path.Combine(tokenizerDir, "tokenizer_config.json"), config.ToJsonString());
            var tokenizer = TextTokenizer.Load(tokenizerDir);

            var shape = ModelShapes.Get("tiny-llama") with { Name = "tiny-scripted", VocabSize = tokenizer.VocabSize + paddingRows, NumLayers = 1 };
            var successor = Successors(chains(tokenizer), tokenizer.EosId, shape.HiddenSize);
            RandomModelWriter.Write(shape, DType.F32, dir, seed: 1, alsoWrite: model =>
            {
                foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json" })
                    File.Copy(Path.Combine(tokenizerDir, name), Path.Combine(model, name), overwrite: true);
                File.Delete(Path.Combine(model, "special_tokens_map.json"));
                foreach (var name in new[] { "config.json", "generation_config.json" })
                {
                    var json = JsonNode.Parse(File.ReadAllText(Path.Combine(model, name)))!.AsObject();
                    json["bos_token_id"] = tokenizer.BosId;
                    json["eos_token_id"] = tokenizer.EosId;
                    File.WriteAllText(Path.Combine(model, name), json.ToJsonString());
                }
                SafetensorsWriter.WriteFile(Path.Combine(model, "model.safetensors"), Tensors(shape, successor));
            });
            return dir;
        }
        finally
        {
            Directory.Delete(tokenizerDir, recursive: true);
        }
    }

    // Token → the token after it, for every token of every chain but EOS.
    private static Dictionary<int, int> Successors(IEnumerable<int[]> chains, int eos, int hidden)
    {
        var successor = new Dictionary<int, int>();
        foreach (var chain in chains)
            for (int i = 0; i < chain.Length; i++)
            {
                int after = i + 1 < chain.Length ? chain[i + 1] : eos;
                if (successor.TryGetValue(chain[i], out var other) && other != after)
                    throw new ArgumentException($"token {chain[i]} is followed by both {other} and {after} in the chains");
                successor[chain[i]] = after;
            }
        if (successor.Count > hidden) throw new ArgumentException($"{successor.Count} tokens have successors; at most {hidden} can");
        return successor;
    }

    private static List<TensorToWrite> Tensors(ModelShape s, Dictionary<int, int> successor)
    {
        int h = s.HiddenSize, v = s.VocabSize, q = s.NumHeads * s.HeadDim, kv = s.NumKvHeads * s.HeadDim, inter = s.IntermediateSize;
        var embed = new float[(long)v * h];
        var head = new float[(long)v * h];
        int dim = 0;
        foreach (var (token, after) in successor)
        {
            embed[(long)token * h + dim] = 1f;   // token's own direction
            head[(long)after * h + dim] = 10f;   // read back as "after follows token"
            dim++;
        }
        var list = new List<TensorToWrite> { Floats("model.embed_tokens.weight", embed, v, h) };
        for (int i = 0; i < s.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            list.Add(Floats(p + "input_layernorm.weight", Ones(h), h));
            list.Add(Floats(p + "self_attn.q_proj.weight", new float[q * h], q, h));
            list.Add(Floats(p + "self_attn.k_proj.weight", new float[kv * h], kv, h));
            list.Add(Floats(p + "self_attn.v_proj.weight", new float[kv * h], kv, h));
            list.Add(Floats(p + "self_attn.o_proj.weight", new float[h * q], h, q));
            list.Add(Floats(p + "post_attention_layernorm.weight", Ones(h), h));
            list.Add(Floats(p + "mlp.gate_proj.weight", new float[inter * h], inter, h));
            list.Add(Floats(p + "mlp.up_proj.weight", new float[inter * h], inter, h));
            list.Add(Floats(p + "mlp.down_proj.weight", new float[h * inter], h, inter));
        }
        list.Add(Floats("model.norm.weight", Ones(h), h));
        list.Add(Floats("lm_head.weight", head, v, h));
        return list;
    }

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    private static TensorToWrite Floats(string name, float[] data, params long[] dims) =>
        new(name, DType.F32, new Shape(dims), stream => stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())));
}
