// Writes a random-weight checkpoint folder in the real Hugging Face layout (config, generation config, tokenizer configs, safetensors).
// Invariant: weights are generated and streamed one chunk at a time (memory bounded by a small buffer, whatever the model size),
// deterministically from (seed, tensor name); the folder is built beside the target and renamed into place (StagedOutputFolder),
// so a failure leaves the target as it was, and an existing non-empty folder is only replaced when overwrite is asked for.
using System.Buffers.Binary;
using System.IO.Enumeration;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Synthetic;

/// <summary>Writes model folders with random weights at a given <see cref="ModelShape"/>, for benchmarks and tests.</summary>
public static class RandomModelWriter
{
    /// <summary>Hugging Face's default <c>max_shard_size</c> ("5GB" = 5·10⁹ bytes).</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>Standard deviation of the random linear and embedding weights (Hugging Face's <c>initializer_range</c>).</summary>
    public const float WeightStd = 0.02f;

    private const int ChunkElements = 1 << 16;

    // Files this writer (and the tokenizer writer beside it) produce, and checkpoint files that would shadow or confuse them; under
    // overwrite, every other entry of the old folder (except hidden leftovers) is carried into the new one.
    private static readonly string[] s_ownedPatterns =
    [
        "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "tokenizer.json",
        "model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors", "pytorch_model.bin", "pytorch_model.bin.index.json",
        "pytorch_model-*-of-*.bin",
    ];

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    // A byte-level shape's special tokens: 256 after the BPE vocabulary, as Estuary.Tokenization.Writing.SyntheticByteLevelTokenizer
    // lays them out (<|begin_of_text|> first); its configs stop at the offsets Llama 3.1 Instruct's do (128001, 128008, 128009).
    private const int ByteLevelSpecialTokens = 256;
    private const int ByteLevelMinimumVocab = 256 + ByteLevelSpecialTokens;
    private static readonly int[] s_byteLevelEosOffsets = [1, 8, 9];

    /// <summary>
    /// Writes <c>config.json</c>, <c>generation_config.json</c>, <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and the
    /// weights of <paramref name="shape"/> in <paramref name="dtype"/> (F32, F16 or BF16) to <paramref name="outDir"/> (for a
    /// <see cref="SyntheticTokenizer.ByteLevel"/> shape the two tokenizer configs are the tokenizer writer's, so not written here;
    /// its configs name the Llama 3 special ids: BOS vocab − 256, EOS vocab − 255, − 248 and − 247): a single
    /// <c>model.safetensors</c> when all weights fit in <paramref name="maxShardBytes"/>, else <c>model-0000N-of-0000M.safetensors</c> shards
    /// plus <c>model.safetensors.index.json</c>. Linear and embedding weights are ≈ N(0, 0.02²), norm gains ≈ 1 + N(0, 0.02²), drawn from
    /// a generator seeded by (<paramref name="seed"/>, tensor name). <paramref name="progress"/> gets (tensors written, tensor count).
    /// Writes no <c>tokenizer.model</c> (see <c>Estuary.Engine.Synthetic.MakeModel</c>).
    /// </summary>
    /// <param name="shape">Model sizes.</param>
    /// <param name="dtype">Stored element type.</param>
    /// <param name="outDir">Output folder; created if missing.</param>
    /// <param name="seed">Random seed; the same seed writes identical bytes.</param>
    /// <param name="maxShardBytes">Largest shard (data bytes) before the weights are split.</param>
    /// <param name="progress">Receives (done, total) after each tensor.</param>
    /// <param name="overwrite">Allow a non-empty <paramref name="outDir"/>: its checkpoint and tokenizer files are replaced (other
    /// files are kept), all at once when the new model is complete.</param>
    /// <param name="alsoWrite">Writes further files (e.g. a tokenizer) into the folder being built, before it is published.</param>
    /// <exception cref="ArgumentException">the dtype is not a float type, or the shape does not make a valid config (a byte-level
    /// shape that is not a Llama or has fewer than 512 tokens included).</exception>
    /// <exception cref="IOException"><paramref name="outDir"/> is not empty and <paramref name="overwrite"/> is false, is a file or
    /// lies under one, or writing failed (the folder is then as it was).</exception>
    public static void Write(ModelShape shape, DType dtype, string outDir, int seed, long maxShardBytes = DefaultMaxShardBytes,
                             IProgress<(int Done, int Total)>? progress = null, bool overwrite = false, Action<string>? alsoWrite = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        if (dtype is not (DType.F32 or DType.F16 or DType.BF16))
            throw new ArgumentException($"dtype {dtype} is not supported for random weights (use F32, F16 or BF16)", nameof(dtype));

        var config = BuildConfig(shape, dtype);
        CheckConfig(shape, config);
        var output = new StagedOutputFolder(outDir, "output folder", overwrite) { Carry = IsCarried };
        output.CheckTarget();

        int done = 0, count = 0;
        var tensors = Tensors(shape, dtype, seed, () => progress?.Report((++done, count)));
        count = tensors.Count;
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        long total = tensors.Sum(t => t.ByteLength);
        output.Write(dir =>
        {
            if (total <= maxShardBytes)
                SafetensorsWriter.WriteFile(Path.Combine(dir, "model.safetensors"), tensors, metadata);
            else
                ShardedSafetensorsWriter.WriteDirectory(dir, tensors, maxShardBytes, metadata);

            WriteJson(dir, "config.json", config);
            WriteJson(dir, "generation_config.json", BuildGenerationConfig(shape));
            if (shape.Tokenizer == SyntheticTokenizer.SentencePiece)
            {
                WriteJson(dir, "tokenizer_config.json", BuildTokenizerConfig(shape));
                WriteJson(dir, "special_tokens_map.json", BuildSpecialTokensMap(shape));
            }
            alsoWrite?.Invoke(dir);
        });
    }

    /// <summary>
    /// The <c>config.json</c> that <see cref="Write"/> writes for <paramref name="shape"/> and <paramref name="dtype"/>, as parsed back
    /// from its text (so it reads exactly like the file, e.g. through <see cref="ModelConfig.Parse"/>).
    /// </summary>
    public static JsonObject BuildConfig(ModelShape shape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return (JsonObject)JsonNode.Parse(ConfigObject(shape, dtype).ToJsonString())!;
    }

    private static JsonObject ConfigObject(ModelShape shape, DType dtype)
    {
        if (shape.Family is ModelFamily.Qwen2 or ModelFamily.Qwen3)
        {
            // Qwen2.5-7B-Instruct's / Qwen3-8B's config.json keys (no sliding window in use).
            bool qwen3 = shape.Family == ModelFamily.Qwen3;
            var qwen = new JsonObject
            {
                ["architectures"] = new JsonArray(qwen3 ? "Qwen3ForCausalLM" : "Qwen2ForCausalLM"),
                ["attention_dropout"] = 0.0,
                ["bos_token_id"] = BosTokenId(shape),
                ["eos_token_id"] = EosTokenId(shape)[0]!.DeepClone(),
                ["hidden_act"] = "silu",
                ["hidden_size"] = shape.HiddenSize,
                ["initializer_range"] = WeightStd,
                ["intermediate_size"] = shape.IntermediateSize,
                ["max_position_embeddings"] = shape.MaxPositionEmbeddings ?? 32768,
                ["max_window_layers"] = shape.NumLayers,
                ["model_type"] = qwen3 ? "qwen3" : "qwen2",
                ["num_attention_heads"] = shape.NumHeads,
                ["num_hidden_layers"] = shape.NumLayers,
                ["num_key_value_heads"] = shape.NumKvHeads,
                ["rms_norm_eps"] = shape.RmsNormEps,
                ["rope_scaling"] = null,
                ["rope_theta"] = shape.RopeTheta,
                ["sliding_window"] = qwen3 ? null : shape.MaxPositionEmbeddings,
                ["tie_word_embeddings"] = shape.TieWordEmbeddings,
                ["torch_dtype"] = dtype.TorchName(),
                ["transformers_version"] = qwen3 ? "4.51.0" : "4.43.1",
                ["use_cache"] = true,
                ["use_sliding_window"] = false,
                ["vocab_size"] = shape.VocabSize,
            };
            if (qwen3)
            {
                qwen["attention_bias"] = false;
                qwen["head_dim"] = shape.HeadDim;
            }
            return qwen;
        }
        if (shape.Family == ModelFamily.Mistral)
        {
            // Mistral-7B-Instruct-v0.3's config.json: no sliding window, no bias keys.
            return new JsonObject
            {
                ["architectures"] = new JsonArray("MistralForCausalLM"),
                ["model_type"] = "mistral",
                ["attention_dropout"] = 0.0,
                ["bos_token_id"] = BosTokenId(shape),
                ["eos_token_id"] = EosTokenId(shape),
                ["hidden_act"] = "silu",
                ["hidden_size"] = shape.HiddenSize,
                ["initializer_range"] = WeightStd,
                ["intermediate_size"] = shape.IntermediateSize,
                ["max_position_embeddings"] = shape.MaxPositionEmbeddings ?? 4096,
                ["num_attention_heads"] = shape.NumHeads,
                ["num_hidden_layers"] = shape.NumLayers,
                ["num_key_value_heads"] = shape.NumKvHeads,
                ["rms_norm_eps"] = shape.RmsNormEps,
                ["rope_theta"] = shape.RopeTheta,
                ["sliding_window"] = null,
                ["tie_word_embeddings"] = shape.TieWordEmbeddings,
                ["torch_dtype"] = dtype.TorchName(),
                ["transformers_version"] = "4.42.0.dev0",
                ["use_cache"] = true,
                ["vocab_size"] = shape.VocabSize,
            };
        }
        if (shape.Family == ModelFamily.Phi3)
        {
            // Phi-3-mini-4k-instruct's / Phi-4-mini-instruct's config.json keys.
            var phi = new JsonObject
            {
                ["architectures"] = new JsonArray("Phi3ForCausalLM"),
                ["attention_bias"] = false,
                ["attention_dropout"] = 0.0,
                ["bos_token_id"] = BosTokenId(shape),
                ["eos_token_id"] = EosTokenId(shape),
                ["hidden_act"] = "silu",
                ["hidden_size"] = shape.HiddenSize,
                ["initializer_range"] = WeightStd,
                ["intermediate_size"] = shape.IntermediateSize,
                ["max_position_embeddings"] = shape.MaxPositionEmbeddings ?? 4096,
                ["model_type"] = "phi3",
                ["num_attention_heads"] = shape.NumHeads,
                ["num_hidden_layers"] = shape.NumLayers,
                ["num_key_value_heads"] = shape.NumKvHeads,
                ["original_max_position_embeddings"] = shape.OriginalMaxPositionEmbeddings ?? shape.MaxPositionEmbeddings ?? 4096,
                ["partial_rotary_factor"] = shape.PartialRotaryFactor,
                ["rms_norm_eps"] = shape.RmsNormEps,
                ["rope_scaling"] = shape.RopeScaling.ToJson(),
                ["rope_theta"] = shape.RopeTheta,
                ["sliding_window"] = shape.SlidingWindow,
                ["tie_word_embeddings"] = shape.TieWordEmbeddings,
                ["torch_dtype"] = dtype.TorchName(),
                ["transformers_version"] = "4.45.0",
                ["use_cache"] = true,
                ["vocab_size"] = shape.VocabSize,
            };
            return phi;
        }
        if (shape.Family == ModelFamily.Llama)
        {
            return new JsonObject
            {
                ["architectures"] = new JsonArray("LlamaForCausalLM"),
                ["model_type"] = "llama",
                ["hidden_size"] = shape.HiddenSize,
                ["intermediate_size"] = shape.IntermediateSize,
                ["num_hidden_layers"] = shape.NumLayers,
                ["num_attention_heads"] = shape.NumHeads,
                ["num_key_value_heads"] = shape.NumKvHeads,
                ["vocab_size"] = shape.VocabSize,
                ["max_position_embeddings"] = shape.MaxPositionEmbeddings ?? shape.ModelMaxLength ?? 4096,
                ["rms_norm_eps"] = shape.RmsNormEps,
                ["rope_theta"] = shape.RopeTheta,
                ["rope_scaling"] = shape.RopeScaling.ToJson(),
                ["hidden_act"] = "silu",
                ["attention_bias"] = false,
                ["mlp_bias"] = false,
                ["attention_dropout"] = 0.0,
                ["initializer_range"] = WeightStd,
                ["pretraining_tp"] = 1,
                ["tie_word_embeddings"] = shape.TieWordEmbeddings,
                ["bos_token_id"] = BosTokenId(shape),
                ["eos_token_id"] = EosTokenId(shape),
                ["torch_dtype"] = dtype.TorchName(),
                ["use_cache"] = true,
                ["transformers_version"] = "4.40.0",
            };
        }
        var config = new JsonObject
        {
            ["_from_model_config"] = true,
            ["architectures"] = new JsonArray("BaichuanForCausalLM"),
            ["auto_map"] = new JsonObject
            {
                ["AutoConfig"] = "configuration_baichuan.BaichuanConfig",
                ["AutoModelForCausalLM"] = "modeling_baichuan.BaichuanForCausalLM",
            },
            ["tokenizer_class"] = "BaichuanTokenizer",
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["pad_token_id"] = 0,
            ["gradient_checkpointing"] = false,
            ["hidden_act"] = "silu",
            ["hidden_size"] = shape.HiddenSize,
            ["initializer_range"] = WeightStd,
            ["intermediate_size"] = shape.IntermediateSize,
            ["model_type"] = "baichuan",
            ["num_attention_heads"] = shape.NumHeads,
            ["num_hidden_layers"] = shape.NumLayers,
            ["rms_norm_eps"] = shape.RmsNormEps,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = dtype.TorchName(),
            ["transformers_version"] = "4.29.2",
            ["use_cache"] = true,
            ["vocab_size"] = shape.VocabSize,
            ["z_loss_weight"] = 0,
        };
        // The loader (like the real configs) tells RoPE from ALiBi by the presence of max_position_embeddings.
        if (shape.MaxPositionEmbeddings is int positions) config["max_position_embeddings"] = positions;
        config["model_max_length"] = shape.ModelMaxLength ?? shape.MaxPositionEmbeddings ?? 4096;
        return config;
    }

    private static JsonObject BuildGenerationConfig(ModelShape shape) => shape.Family != ModelFamily.Baichuan
        ? new JsonObject
        {
            ["bos_token_id"] = BosTokenId(shape),
            ["eos_token_id"] = EosTokenId(shape),
            ["do_sample"] = false,
            ["max_length"] = shape.MaxPositionEmbeddings ?? 4096,
            ["transformers_version"] = "4.40.0",
        }
        : new JsonObject
        {
            // Baichuan2-Chat's generation_config.json.
            ["pad_token_id"] = 0,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["user_token_id"] = 195,
            ["assistant_token_id"] = 196,
            ["max_new_tokens"] = 2048,
            ["temperature"] = 0.3,
            ["top_k"] = 5,
            ["top_p"] = 0.85,
            ["repetition_penalty"] = 1.05,
            ["do_sample"] = true,
            ["transformers_version"] = "4.29.2",
        };

    // <s> = 1 for SentencePiece; <|begin_of_text|> for byte-level; <|endoftext|> for Qwen.
    private static int BosTokenId(ModelShape shape) => shape.Tokenizer switch
    {
        SyntheticTokenizer.ByteLevel => shape.VocabSize - ByteLevelSpecialTokens,
        SyntheticTokenizer.Qwen => QwenEndOfText,
        _ => 1,
    };

    // </s> = 2 for SentencePiece; for byte-level the list of Llama 3.1 Instruct's configs; for Qwen <|im_end|>, then <|endoftext|>
    // (config.json names the first, generation_config.json both, as Qwen's Instruct folders do).
    private static JsonNode EosTokenId(ModelShape shape) => shape.Tokenizer switch
    {
        SyntheticTokenizer.ByteLevel => new JsonArray([.. s_byteLevelEosOffsets.Select(o => (JsonNode)(shape.VocabSize - ByteLevelSpecialTokens + o))]),
        SyntheticTokenizer.Qwen => new JsonArray(QwenEndOfText + 2, QwenEndOfText),
        _ => JsonValue.Create(2),
    };

    // Qwen's special tokens start here (Estuary.Tokenization.Writing.SyntheticQwenTokenizer); 26 of them in Qwen3's layout.
    private const int QwenEndOfText = 151643;
    private const int QwenSpecialTokens = 26;

    private static JsonObject BuildTokenizerConfig(ModelShape shape)
    {
        int maxLength = shape.ModelMaxLength ?? shape.MaxPositionEmbeddings ?? 4096;
        if (shape.Family != ModelFamily.Baichuan) // Llama and Mistral: LlamaTokenizer over tokenizer.model
        {
            return new JsonObject
            {
                ["add_bos_token"] = true,
                ["add_eos_token"] = false,
                ["bos_token"] = "<s>",
                ["eos_token"] = "</s>",
                ["unk_token"] = "<unk>",
                ["pad_token"] = null,
                ["clean_up_tokenization_spaces"] = false,
                ["legacy"] = true,
                ["model_max_length"] = maxLength,
                ["sp_model_kwargs"] = new JsonObject(),
                ["spaces_between_special_tokens"] = false,
                ["tokenizer_class"] = "LlamaTokenizer",
                ["use_default_system_prompt"] = false,
            };
        }
        return new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_eos_token"] = false,
            ["auto_map"] = new JsonObject { ["AutoTokenizer"] = new JsonArray("tokenization_baichuan.BaichuanTokenizer", null) },
            ["bos_token"] = AddedToken("<s>", withType: true),
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = AddedToken("</s>", withType: true),
            ["model_max_length"] = maxLength,
            ["pad_token"] = AddedToken("<unk>", withType: true),
            ["sp_model_kwargs"] = new JsonObject(),
            ["tokenizer_class"] = "BaichuanTokenizer",
            ["unk_token"] = AddedToken("<unk>", withType: true),
        };
    }

    private static JsonObject BuildSpecialTokensMap(ModelShape shape) => shape.Family != ModelFamily.Baichuan
        ? new JsonObject { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>" }
        : new JsonObject
        {
            ["bos_token"] = AddedToken("<s>", withType: false),
            ["eos_token"] = AddedToken("</s>", withType: false),
            ["pad_token"] = AddedToken("<unk>", withType: false),
            ["unk_token"] = AddedToken("<unk>", withType: false),
        };

    private static JsonObject AddedToken(string content, bool withType)
    {
        var token = new JsonObject();
        if (withType) token["__type"] = "AddedToken";
        token["content"] = content;
        token["lstrip"] = false;
        token["normalized"] = true;
        token["rstrip"] = false;
        token["single_word"] = true;
        return token;
    }

    // Validates the shape through the loader's own parser, so a preset that loads wrongly fails before anything is written.
    private static void CheckConfig(ModelShape shape, JsonObject config)
    {
        if (shape.Family == ModelFamily.Baichuan && (shape.TieWordEmbeddings || shape.RopeScaling.Type != RopeScalingType.Default))
            throw new ArgumentException($"shape '{shape.Name}': Baichuan2 has neither tied embeddings nor RoPE scaling", nameof(shape));
        if (shape.Tokenizer == SyntheticTokenizer.ByteLevel && shape.Family is not (ModelFamily.Llama or ModelFamily.Phi3))
            throw new ArgumentException($"shape '{shape.Name}': only a Llama or Phi-3 shape gets a byte-level tokenizer", nameof(shape));
        if ((shape.Tokenizer == SyntheticTokenizer.Qwen) != (shape.Family is ModelFamily.Qwen2 or ModelFamily.Qwen3))
            throw new ArgumentException($"shape '{shape.Name}': Qwen shapes, and only they, get Qwen's tokenizer layout", nameof(shape));
        if (shape.Tokenizer == SyntheticTokenizer.Qwen && shape.VocabSize < QwenEndOfText + QwenSpecialTokens)
            throw new ArgumentException($"shape '{shape.Name}': Qwen's tokenizer layout needs a vocabulary of at least " +
                $"{QwenEndOfText + QwenSpecialTokens} (special tokens from {QwenEndOfText}), not {shape.VocabSize}", nameof(shape));
        if (shape.Tokenizer == SyntheticTokenizer.ByteLevel && shape.VocabSize < ByteLevelMinimumVocab)
            throw new ArgumentException($"shape '{shape.Name}': a byte-level tokenizer needs at least {ByteLevelMinimumVocab} tokens " +
                $"(256 bytes and {ByteLevelSpecialTokens} special tokens), not {shape.VocabSize}", nameof(shape));
        ModelConfig parsed;
        try
        {
            parsed = ModelConfig.Parse(config, $"shape '{shape.Name}'");
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new ArgumentException($"shape '{shape.Name}' does not make a valid config: {e.Message}", nameof(shape), e);
        }
        if (parsed.PositionEncoding != shape.PositionEncoding)
            throw new ArgumentException($"shape '{shape.Name}' would load as {parsed.PositionEncoding}, not {shape.PositionEncoding}", nameof(shape));
        if (shape.Family == ModelFamily.Baichuan && shape.NumKvHeads != shape.NumHeads)
            throw new ArgumentException($"shape '{shape.Name}': Baichuan has no grouped-query attention (kv heads must equal heads)", nameof(shape));
        if (shape.HiddenSize % shape.NumHeads != 0)
            throw new ArgumentException($"shape '{shape.Name}': hidden size {shape.HiddenSize} is not a multiple of {shape.NumHeads} heads", nameof(shape));
    }

    // An old entry kept under overwrite: anything but this writer's files and hidden leftovers (e.g. an interrupted run's temp files).
    private static bool IsCarried(string path)
    {
        string name = Path.GetFileName(path);
        return !name.StartsWith('.') && !s_ownedPatterns.Any(p => FileSystemName.MatchesSimpleExpression(p, name, ignoreCase: false));
    }

    private static void WriteJson(string dir, string name, JsonObject json) =>
        File.WriteAllText(Path.Combine(dir, name), json.ToJsonString(s_indented) + "\n");

    // The checkpoint's tensors in Hugging Face state-dict order, each streaming its own random data when written.
    private static List<TensorToWrite> Tensors(ModelShape s, DType dtype, int seed, Action written)
    {
        long h = s.HiddenSize, q = (long)s.NumHeads * s.HeadDim, kv = (long)s.NumKvHeads * s.HeadDim, inter = s.IntermediateSize;
        var list = new List<TensorToWrite>();
        void Linear(string name, params long[] dims) => list.Add(Random(name, dtype, new Shape(dims), seed, 0f, WeightStd, written));
        void Norm(string name) => list.Add(Random(name, dtype, new Shape(h), seed, 1f, WeightStd, written));

        Linear("model.embed_tokens.weight", s.VocabSize, h);
        for (int i = 0; i < s.NumLayers; i++)
        {
            string p = $"model.layers.{i}.";
            if (s.Family == ModelFamily.Baichuan)
            {
                Linear(p + "self_attn.W_pack.weight", q + 2 * kv, h);
            }
            else if (s.Family == ModelFamily.Phi3)
            {
                Linear(p + "self_attn.qkv_proj.weight", q + 2 * kv, h);
            }
            else
            {
                Linear(p + "self_attn.q_proj.weight", q, h);
                Linear(p + "self_attn.k_proj.weight", kv, h);
                Linear(p + "self_attn.v_proj.weight", kv, h);
            }
            if (s.Family == ModelFamily.Qwen2)
            {
                Linear(p + "self_attn.q_proj.bias", q);
                Linear(p + "self_attn.k_proj.bias", kv);
                Linear(p + "self_attn.v_proj.bias", kv);
            }
            if (s.Family == ModelFamily.Qwen3)
            {
                list.Add(Random(p + "self_attn.q_norm.weight", dtype, new Shape(s.HeadDim), seed, 1f, WeightStd, written));
                list.Add(Random(p + "self_attn.k_norm.weight", dtype, new Shape(s.HeadDim), seed, 1f, WeightStd, written));
            }
            Linear(p + "self_attn.o_proj.weight", h, q);
            if (s.Family == ModelFamily.Phi3)
            {
                Linear(p + "mlp.gate_up_proj.weight", 2 * inter, h);
            }
            else
            {
                Linear(p + "mlp.gate_proj.weight", inter, h);
                Linear(p + "mlp.up_proj.weight", inter, h);
            }
            Linear(p + "mlp.down_proj.weight", h, inter);
            Norm(p + "input_layernorm.weight");
            Norm(p + "post_attention_layernorm.weight");
        }
        Norm("model.norm.weight");
        if (!s.TieWordEmbeddings) Linear("lm_head.weight", s.VocabSize, h); // tied: the loader reuses the embedding, as real tied checkpoints do
        return list;
    }

    private static TensorToWrite Random(string name, DType dtype, Shape shape, int seed, float mean, float std, Action written) =>
        new(name, dtype, shape, stream =>
        {
            var rng = new WeightRandom(seed, name);
            var values = new float[ChunkElements];
            var bytes = new byte[ChunkElements * dtype.SizeOf()];
            for (long done = 0; done < shape.NumElements; done += ChunkElements)
            {
                int n = (int)Math.Min(ChunkElements, shape.NumElements - done);
                rng.FillNormal(values.AsSpan(0, n), mean, std);
                stream.Write(bytes.AsSpan(0, Encode(values.AsSpan(0, n), dtype, bytes)));
            }
            written();
        });

    // Little-endian encoding of values in dtype; returns the byte count.
    private static int Encode(ReadOnlySpan<float> values, DType dtype, Span<byte> bytes)
    {
        switch (dtype)
        {
            case DType.F32:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], values[i]);
                return 4 * values.Length;
            case DType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], (Half)values[i]);
                return 2 * values.Length;
            default:
                for (int i = 0; i < values.Length; i++)
                {
                    // bfloat16 by round-to-nearest-even on the upper 16 bits (values here are finite).
                    uint bits = BitConverter.SingleToUInt32Bits(values[i]);
                    bits += 0x7FFFu + ((bits >> 16) & 1);
                    BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], (ushort)(bits >> 16));
                }
                return 2 * values.Length;
        }
    }
}
