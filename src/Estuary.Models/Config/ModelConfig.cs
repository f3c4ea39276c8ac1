// The architecture-level settings of a checkpoint, read once from config.json and validated.
// Invariant: every field is consistent (heads divide hidden, kv heads divide heads) or construction throws naming the field.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>Model architecture settings from a Hugging Face <c>config.json</c>.</summary>
public sealed record ModelConfig
{
    /// <summary>The architecture class name (first of <c>architectures</c>).</summary>
    public required string Architecture { get; init; }
    /// <summary><c>model_type</c>.</summary>
    public required string ModelType { get; init; }
    /// <summary>H.</summary>
    public required int HiddenSize { get; init; }
    /// <summary>I.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary>L.</summary>
    public required int NumLayers { get; init; }
    /// <summary>Hq.</summary>
    public required int NumHeads { get; init; }
    /// <summary>Hkv.</summary>
    public required int NumKvHeads { get; init; }
    /// <summary>D.</summary>
    public required int HeadDim { get; init; }
    /// <summary>V.</summary>
    public required int VocabSize { get; init; }
    /// <summary>RMSNorm epsilon (added to the mean square).</summary>
    public required float RmsNormEps { get; init; }
    /// <summary>RoPE base.</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>RoPE frequency scaling (<c>rope_scaling</c>); <see cref="RopeScaling.None"/> when absent, null or <c>"default"</c>.</summary>
    public RopeScaling RopeScaling { get; init; } = RopeScaling.None;
    /// <summary>RoPE or ALiBi.</summary>
    public required PositionEncoding PositionEncoding { get; init; }
    /// <summary>Longest sequence (prompt + output) the model supports.</summary>
    public required int MaxPositions { get; init; }
    /// <summary>Whether the output projection reuses the embedding table.</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Whether lm_head rows are L2-normalised before use (Baichuan2 NormHead).</summary>
    public bool NormHead { get; init; }
    /// <summary>Whether q, k, v are one fused checkpoint tensor (Baichuan's W_pack, Phi-3's qkv_proj).</summary>
    public bool FusedQkv { get; init; }
    /// <summary>Whether the MLP's gate and up rows are one fused checkpoint tensor, gate first (Phi-3's gate_up_proj).</summary>
    public bool FusedGateUp { get; init; }
    /// <summary>
    /// The dimensions of each head RoPE turns: D, or the first D·partial_rotary_factor of it (Phi-4-mini's 0.75), an even number.
    /// </summary>
    public int RotaryDim { get => _rotaryDim > 0 ? _rotaryDim : HeadDim; init => _rotaryDim = value; }
    private readonly int _rotaryDim;
    /// <summary>Linear biases, per-head q/k norm and sliding-window layers (Qwen2, Qwen3, Mistral, Llama's bias keys).</summary>
    public DecoderVariant Variant { get; init; } = DecoderVariant.Llama;
    /// <summary>Stored dtype name (<c>torch_dtype</c>), informational.</summary>
    public string TorchDtype { get; init; } = "float32";
    /// <summary>BOS id from the config, if any.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>EOS ids from the config (may be several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>The raw JSON, for keys other layers need (e.g. <c>quantization_config</c>).</summary>
    public JsonObject Raw { get; init; } = [];

    /// <summary>Reads and validates <c>config.json</c> in <paramref name="modelDir"/>.</summary>
    public static ModelConfig Load(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"config.json not found in model directory '{modelDir}'", path);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message})", e);
        }
        return Parse(json, path);
    }

    /// <summary>Builds a config from parsed JSON; <paramref name="source"/> names the file in errors.</summary>
    public static ModelConfig Parse(JsonObject json, string source = "config.json")
    {
        var reader = new ConfigReader(json, source);
        var arch = reader.ArchitectureName();
        var modelType = reader.String("model_type") ?? "";
        int hidden = reader.RequiredInt("hidden_size");
        int heads = reader.RequiredInt("num_attention_heads");
        int kvHeads = reader.Int("num_key_value_heads") ?? heads;
        int? explicitHeadDim = reader.Int("head_dim");
        if (explicitHeadDim is null && heads > 0 && hidden % heads != 0)
            throw new InvalidDataException($"{source}: hidden_size ({hidden}) must be a multiple of num_attention_heads ({heads})");
        int headDim = explicitHeadDim ?? (heads > 0 ? hidden / heads : 0);
        bool baichuan = arch == "BaichuanForCausalLM";
        bool phi3 = arch == Phi3Architecture;
        if (!SupportedArchitectures.Contains(arch))
            throw new NotSupportedException($"{source}: unknown architecture '{arch}' (supported: {string.Join(", ", SupportedArchitectures)})");
        var act = reader.String("hidden_act") ?? "silu";
        if (act != "silu") throw new NotSupportedException($"{source}: hidden_act '{act}' is not supported (only silu)");
        // transformers v5 writes rope_parameters (rope_type, rope_theta and the scaling keys together) instead of rope_scaling and
        // rope_theta; either form is read, and both at once must agree.
        var ropeParameters = json["rope_parameters"];
        if (ropeParameters is not null and not JsonObject)
            throw new InvalidDataException($"{source}: rope_parameters must be an object (got {ropeParameters.ToJsonString()})");
        var ropeScaling = RopeScaling.Parse(json["rope_scaling"], source);
        double? ropeTheta = reader.Double("rope_theta");
        if (ropeParameters is JsonObject parameters)
        {
            // transformers v5 nests per-layer-type parameters ({"full_attention": {…}, "sliding_attention": {…}}) for models
            // with several attention kinds; a Llama has one, so an object with neither a type nor a theta is not understood.
            if (parameters["rope_type"] is null && parameters["type"] is null && parameters["rope_theta"] is null)
                throw new NotSupportedException($"{source}: rope_parameters {parameters.ToJsonString()} has neither rope_type nor rope_theta " +
                    "(per-layer-type RoPE parameters are not supported)");
            var fromParameters = RopeScaling.Parse(parameters["rope_type"] is null && parameters["type"] is null
                ? null : parameters, source.Length > 0 ? source + " (rope_parameters)" : "rope_parameters");
            if (json["rope_scaling"] is not null && fromParameters != ropeScaling)
                throw new InvalidDataException($"{source}: rope_scaling and rope_parameters describe different RoPE scalings");
            ropeScaling = fromParameters;
            var thetaReader = new ConfigReader(parameters, source, "rope_parameters.");
            if (thetaReader.Double("rope_theta") is { } parameterTheta)
            {
                if (ropeTheta is { } topTheta && topTheta != parameterTheta)
                    throw new InvalidDataException($"{source}: rope_theta {topTheta} and rope_parameters.rope_theta {parameterTheta} disagree");
                ropeTheta = parameterTheta;
            }
        }
        if (baichuan && ropeScaling.Type != RopeScalingType.Default)
            throw new NotSupportedException($"{source}: rope_scaling type '{ropeScaling.Type.ToString().ToLowerInvariant()}' is not supported for " +
                "BaichuanForCausalLM (Baichuan2's modeling code has no RoPE scaling)");
        int? maxPos = reader.Int("max_position_embeddings");
        // Phi-3 (transformers' Phi3Config): the lengths longrope needs are at the top of config.json; only Phi-3 rotates part of a head.
        if (ropeScaling.Type == RopeScalingType.LongRope)
            ropeScaling = ropeScaling.ResolveLongRope(reader.Int("original_max_position_embeddings"), maxPos ?? 0, source);
        double partialRotary = phi3 ? reader.Double("partial_rotary_factor") ?? 1.0 : 1.0;
        if (!(partialRotary > 0 && partialRotary <= 1))
            throw new InvalidDataException($"{source}: partial_rotary_factor must be in (0, 1] (got {partialRotary})");
        int rotaryDim = (int)(headDim * partialRotary);
        int numLayers = reader.RequiredInt("num_hidden_layers");
        var variant = DecoderVariant.Parse(arch, json, Math.Max(numLayers, 0), source);
        int? modelMaxLen = reader.Int("model_max_length");
        var config = new ModelConfig
        {
            Architecture = arch,
            ModelType = modelType,
            HiddenSize = hidden,
            IntermediateSize = reader.RequiredInt("intermediate_size"),
            NumLayers = numLayers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            VocabSize = reader.RequiredInt("vocab_size"),
            RmsNormEps = (float)(reader.Double("rms_norm_eps") ?? 1e-6),
            RopeTheta = ropeTheta ?? 10000.0,
            RopeScaling = ropeScaling,
            PositionEncoding = baichuan ? BaichuanPositionEncoding(reader, maxPos) : PositionEncoding.Rope,
            MaxPositions = maxPos ?? modelMaxLen ?? 4096,
            TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? false,
            NormHead = baichuan,
            FusedQkv = baichuan || phi3,
            FusedGateUp = phi3,
            RotaryDim = rotaryDim,
            Variant = variant,
            TorchDtype = reader.String("torch_dtype") ?? "float32",
            BosTokenId = reader.Int("bos_token_id"),
            EosTokenIds = reader.IntOrList("eos_token_id"),
            Raw = json,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Architecture names config.json may declare.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } =
        ["LlamaForCausalLM", "BaichuanForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "MistralForCausalLM", Phi3Architecture];

    /// <summary>Phi-3's architecture name (Phi-3, Phi-3.5-mini, Phi-4-mini): fused qkv_proj and gate_up_proj, partial rotary, longrope.</summary>
    public const string Phi3Architecture = "Phi3ForCausalLM";

    // Baichuan2 ships one architecture name for two position encodings. The real 7B config carries
    // max_position_embeddings (its RoPE cache length); the real 13B config has only model_max_length (ALiBi has
    // no position table). An explicit "position_encoding" key ("rope"/"alibi") overrides the rule.
    private static PositionEncoding BaichuanPositionEncoding(ConfigReader reader, int? maxPositionEmbeddings)
    {
        var explicitValue = reader.String("position_encoding") ?? reader.String("position_embedding");
        if (explicitValue != null)
        {
            return explicitValue.ToLowerInvariant() switch
            {
                "rope" => PositionEncoding.Rope,
                "alibi" => PositionEncoding.Alibi,
                _ => throw new InvalidDataException($"position_encoding '{explicitValue}' must be 'rope' or 'alibi'"),
            };
        }
        return maxPositionEmbeddings.HasValue ? PositionEncoding.Rope : PositionEncoding.Alibi;
    }

    private void Validate(string source)
    {
        static void Positive(int value, string field, string source)
        {
            if (value <= 0) throw new InvalidDataException($"{source}: {field} must be positive (got {value})");
        }
        Positive(HiddenSize, "hidden_size", source);
        Positive(IntermediateSize, "intermediate_size", source);
        Positive(NumLayers, "num_hidden_layers", source);
        Positive(NumHeads, "num_attention_heads", source);
        Positive(NumKvHeads, "num_key_value_heads", source);
        Positive(HeadDim, "head_dim", source);
        Positive(VocabSize, "vocab_size", source);
        Positive(MaxPositions, "max_position_embeddings", source);
        if (NumHeads % NumKvHeads != 0)
            throw new InvalidDataException($"{source}: num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKvHeads})");
        if (PositionEncoding == PositionEncoding.Rope && HeadDim % 2 != 0)
            throw new InvalidDataException($"{source}: head_dim ({HeadDim}) must be even for RoPE");
        if (PositionEncoding == PositionEncoding.Rope && (RotaryDim <= 0 || RotaryDim % 2 != 0 || RotaryDim > HeadDim))
            throw new InvalidDataException($"{source}: the rotary dimension head_dim × partial_rotary_factor ({RotaryDim}) must be an even number in (0, {HeadDim}]");
        if (RopeScaling.Type == RopeScalingType.LongRope && RopeScaling.ShortFactors.Count != RotaryDim / 2)
            throw new InvalidDataException($"{source}: rope_scaling.short_factor and long_factor have {RopeScaling.ShortFactors.Count} entries; " +
                $"the rotary dimension {RotaryDim} needs {RotaryDim / 2} (one per pair of turned dimensions)");
        if (!(RmsNormEps > 0 && RmsNormEps < 1))
            throw new InvalidDataException($"{source}: rms_norm_eps must be in (0, 1) (got {RmsNormEps})");
        if (PositionEncoding == PositionEncoding.Rope && !(RopeTheta > 1 && double.IsFinite(RopeTheta)))
            throw new InvalidDataException($"{source}: rope_theta must be a finite number greater than 1 (got {RopeTheta})");
        if (BosTokenId is { } bos && (bos < 0 || bos >= VocabSize))
            throw new InvalidDataException($"{source}: bos_token_id {bos} is outside the vocabulary [0, {VocabSize})");
        foreach (int eos in EosTokenIds)
        {
            if (eos < 0 || eos >= VocabSize)
                throw new InvalidDataException($"{source}: eos_token_id {eos} is outside the vocabulary [0, {VocabSize})");
        }
    }
}
