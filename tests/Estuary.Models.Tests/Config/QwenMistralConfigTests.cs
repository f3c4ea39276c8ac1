// The released config.json files of Qwen2.5-0.5B/7B-Instruct, Qwen3-0.6B/8B and Mistral-7B-Instruct-v0.1/v0.3 parse to their
// shapes and variants (biases, q/k norm, sliding windows); unsupported variants are refused naming the key or the architecture.
using System.Text.Json.Nodes;
using Estuary.Models.Config;

namespace Estuary.Models.Tests.Config;

public class QwenMistralConfigTests
{
    private const string Source = "/models/x/config.json";

    private static ModelConfig Parse(string json) => ModelConfig.Parse(JsonNode.Parse(json)!.AsObject(), Source);

    private const string Qwen25_05BInstruct = """
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
         "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02, "intermediate_size": 4864,
         "max_position_embeddings": 32768, "max_window_layers": 21, "model_type": "qwen2", "num_attention_heads": 14,
         "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768,
         "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 151936}
        """;

    private const string Qwen25_7BInstruct = """
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
         "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
         "max_position_embeddings": 32768, "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
         "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 131072,
         "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 152064}
        """;

    private const string Qwen3_06B = """
        {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
         "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 1024, "initializer_range": 0.02,
         "intermediate_size": 3072, "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
         "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null,
         "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
         "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
        """;

    private const string Qwen3_8B = """
        {"architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 151643,
         "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
         "intermediate_size": 12288, "max_position_embeddings": 40960, "max_window_layers": 36, "model_type": "qwen3",
         "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null,
         "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
         "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}
        """;

    private const string Mistral7BInstructV01 = """
        {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
         "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
         "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
         "sliding_window": 4096, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
         "use_cache": true, "vocab_size": 32000}
        """;

    private const string Mistral7BInstructV03 = """
        {"architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
         "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
         "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
         "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
         "transformers_version": "4.42.0.dev0", "use_cache": true, "vocab_size": 32768}
        """;

    [Fact]
    public void Qwen25SmallIsTiedWithQkvBiasesAndNoWindow()
    {
        var c = Parse(Qwen25_05BInstruct);
        Assert.Equal(("Qwen2ForCausalLM", 896, 4864, 24, 14, 2, 64, 151936), (c.Architecture, c.HiddenSize, c.IntermediateSize, c.NumLayers,
            c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(1e6, c.RopeTheta);
        Assert.Equal(32768, c.MaxPositions);
        Assert.Equal(1e-6f, c.RmsNormEps);
        Assert.Equal([151645], c.EosTokenIds);
        Assert.Equal(new DecoderVariant(true, false, false, false, 0, []), c.Variant with { SlidingLayers = [] });
        Assert.Equal(0, c.Variant.SlidingWindow); // use_sliding_window false: sliding_window 32768 does not count
    }

    [Fact]
    public void Qwen25SevenBIsUntied()
    {
        var c = Parse(Qwen25_7BInstruct);
        Assert.Equal((3584, 18944, 28, 28, 4, 128, 152064), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadDim, c.VocabSize));
        Assert.False(c.TieWordEmbeddings);
        Assert.True(c.Variant.QkvBias);
        Assert.False(c.Variant.OutputBias);
        Assert.Equal(0, c.Variant.SlidingWindow);
    }

    [Fact]
    public void Qwen3HasAnExplicitHeadDimWiderThanHiddenAndQkNorm()
    {
        var small = Parse(Qwen3_06B);
        Assert.Equal(("Qwen3ForCausalLM", 1024, 3072, 28, 16, 8, 128), (small.Architecture, small.HiddenSize, small.IntermediateSize,
            small.NumLayers, small.NumHeads, small.NumKvHeads, small.HeadDim));
        Assert.Equal(2048, small.NumHeads * small.HeadDim); // q is wider than hidden
        Assert.True(small.TieWordEmbeddings);
        Assert.Equal(40960, small.MaxPositions);
        Assert.Equal(1e6, small.RopeTheta); // written as the integer 1000000
        Assert.Equal(new DecoderVariant(false, false, false, true, 0, []), small.Variant with { SlidingLayers = [] });
        var large = Parse(Qwen3_8B);
        Assert.Equal((4096, 12288, 36, 32, 8, 128), (large.HiddenSize, large.IntermediateSize, large.NumLayers, large.NumHeads, large.NumKvHeads, large.HeadDim));
        Assert.False(large.TieWordEmbeddings);
        Assert.True(large.Variant.QkNorm);
        var biased = Parse(Qwen3_06B.Replace("\"attention_bias\": false", "\"attention_bias\": true", StringComparison.Ordinal));
        Assert.True(biased.Variant.QkvBias && biased.Variant.OutputBias && !biased.Variant.MlpBias);
    }

    [Fact]
    public void MistralV01SlidesEveryLayerAndV03DoesNot()
    {
        var v01 = Parse(Mistral7BInstructV01);
        Assert.Equal((4096, 14336, 32, 32, 8, 128, 32000), (v01.HiddenSize, v01.IntermediateSize, v01.NumLayers, v01.NumHeads, v01.NumKvHeads, v01.HeadDim, v01.VocabSize));
        Assert.Equal(4096, v01.Variant.SlidingWindow);
        Assert.All(Enumerable.Range(0, 32), l => Assert.Equal(4096, v01.Variant.WindowOf(l)));
        Assert.Equal(32768, v01.MaxPositions); // the window is attended exactly, so the context is not capped to it
        Assert.False(v01.Variant.QkvBias || v01.Variant.OutputBias || v01.Variant.MlpBias || v01.Variant.QkNorm);
        var v03 = Parse(Mistral7BInstructV03);
        Assert.Equal(32768, v03.VocabSize);
        Assert.Equal(1e6, v03.RopeTheta);
        Assert.Same(DecoderVariant.Llama, v03.Variant);
        // MistralConfig's default when the key is absent is 4096; an explicit head_dim wins over hidden / heads.
        var noKey = Parse(Mistral7BInstructV03.Replace("\"sliding_window\": null,", "\"head_dim\": 96,", StringComparison.Ordinal));
        Assert.Equal(4096, noKey.Variant.SlidingWindow);
        Assert.Equal(96, noKey.HeadDim);
    }

    [Fact]
    public void QwenSlidingLayersFollowMaxWindowLayersOrLayerTypes()
    {
        var c = Parse(Qwen25_05BInstruct.Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal));
        Assert.Equal(32768, c.Variant.SlidingWindow);
        Assert.All(Enumerable.Range(0, 24), l => Assert.Equal(l >= 21 ? 32768 : 0, c.Variant.WindowOf(l)));
        var types = string.Join(", ", Enumerable.Range(0, 24).Select(l => l % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\""));
        var typed = Parse(Qwen25_05BInstruct.Replace("\"use_sliding_window\": false", $"\"use_sliding_window\": true, \"layer_types\": [{types}]", StringComparison.Ordinal));
        Assert.All(Enumerable.Range(0, 24), l => Assert.Equal(l % 2 == 0 ? 32768 : 0, typed.Variant.WindowOf(l)));
    }

    [Fact]
    public void LlamaReadsAttentionBiasAndMlpBias()
    {
        const string llama = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 4096, EXTRA}
            """;
        Assert.Same(DecoderVariant.Llama, Parse(llama.Replace("EXTRA", "\"attention_bias\": false, \"mlp_bias\": false", StringComparison.Ordinal)).Variant);
        var both = Parse(llama.Replace("EXTRA", "\"attention_bias\": true, \"mlp_bias\": true", StringComparison.Ordinal)).Variant;
        Assert.True(both.QkvBias && both.OutputBias && both.MlpBias && !both.QkNorm);
        var ex = Assert.Throws<InvalidDataException>(() => Parse(llama.Replace("EXTRA", "\"attention_bias\": \"yes\"", StringComparison.Ordinal)));
        Assert.Contains("attention_bias", ex.Message);
    }

    [Theory]
    [InlineData("\"architectures\": [\"Qwen2ForCausalLM\"]", "\"architectures\": [\"Qwen2MoeForCausalLM\"]", "Qwen2MoeForCausalLM")]
    [InlineData("\"rope_theta\": 1000000.0,", "\"rope_theta\": 1000000.0, \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0, \"original_max_position_embeddings\": 32768},", "yarn")]
    [InlineData("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act")]
    [InlineData("\"use_sliding_window\": false", "\"use_sliding_window\": true, \"layer_types\": [\"full_attention\"]", "layer_types")]
    [InlineData("\"use_sliding_window\": false", "\"use_sliding_window\": true, \"layer_types\": [" + TwentyFourChunked + "]", "chunked_attention")]
    public void UnsupportedVariantsAreRefusedNamingTheKey(string from, string to, string named)
    {
        var json = Qwen25_05BInstruct.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Qwen25_05BInstruct, json);
        var ex = Assert.ThrowsAny<Exception>(() => Parse(json));
        Assert.True(ex is NotSupportedException or InvalidDataException, ex.GetType().Name);
        Assert.Contains(named, ex.Message);
        Assert.Contains(Source, ex.Message);
    }

    private const string TwentyFourChunked = "\"chunked_attention\", \"full_attention\", \"full_attention\", \"full_attention\", " +
        "\"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", " +
        "\"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", " +
        "\"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", \"full_attention\", " +
        "\"full_attention\", \"full_attention\"";

    [Fact]
    public void QwenRefusesANonPositiveWindowOnlyWhenItIsUsed()
    {
        var zero = Qwen25_05BInstruct.Replace("\"sliding_window\": 32768", "\"sliding_window\": 0", StringComparison.Ordinal);
        Assert.Equal(0, Parse(zero).Variant.SlidingWindow); // use_sliding_window false: transformers never reads it
        var ex = Assert.Throws<InvalidDataException>(() => Parse(zero.Replace("\"use_sliding_window\": false", "\"use_sliding_window\": true", StringComparison.Ordinal)));
        Assert.Contains("sliding_window", ex.Message);
    }

    [Fact]
    public void MistralRefusesANonPositiveWindow()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Parse(Mistral7BInstructV01.Replace("\"sliding_window\": 4096", "\"sliding_window\": -1", StringComparison.Ordinal)));
        Assert.Contains("sliding_window", ex.Message);
    }
}
