// Writes a tiny random Llama whose vocabulary is the Llama 3-layout byte-level test tokenizer's (tokenizer.json, special ids in
// the configs, no special_tokens_map.json) with a given chat template: a model with a template and a byte-level tokenizer.
// Invariant: the folder loads with TextTokenizer.IsByteLevel and a TemplateChatFormat.
using System.Text.Json.Nodes;
using Estuary.Models.Synthetic;
using Estuary.Tensors;

namespace Estuary.Server.Tests;

internal static class ByteLevelTestModel
{
    /// <summary>Writes the model into <paramref name="dir"/> (created) and returns it.</summary>
    public static string Write(string dir, string chatTemplate, int seed = 3)
    {
        var tokenizerDir = Path.Combine(AppContext.BaseDirectory, "byte-level", "llama3-style");
        var tokenizer = Tokenization.TextTokenizer.Load(tokenizerDir);
        var shape = ModelShapes.Get("tiny-llama") with { Name = "tiny-llama3-style", VocabSize = tokenizer.VocabSize };
        RandomModelWriter.Write(shape, DType.F32, dir, seed, alsoWrite: model =>
        {
            File.Copy(Path.Combine(tokenizerDir, "tokenizer.json"), Path.Combine(model, "tokenizer.json"));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(tokenizerDir, "tokenizer_config.json")))!.AsObject();
            config["chat_template"] = chatTemplate;
            File.WriteAllText(Path.Combine(model, "tokenizer_config.json"), config.ToJsonString());
            File.Delete(Path.Combine(model, "special_tokens_map.json"));
            foreach (var name in new[] { "config.json", "generation_config.json" })
            {
                var json = JsonNode.Parse(File.ReadAllText(Path.Combine(model, name)))!.AsObject();
                json["bos_token_id"] = tokenizer.BosId;
                json["eos_token_id"] = tokenizer.EosId;
                File.WriteAllText(Path.Combine(model, name), json.ToJsonString());
            }
        });
        return dir;
    }
}
