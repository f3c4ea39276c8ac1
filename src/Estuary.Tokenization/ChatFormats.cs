// Picks the chat format of a model folder from config.json / generation_config.json / tokenizer_config.json.
// Invariant: unknown override names and unusable configs fail with an exception naming the valid choice or file.
using System.Text.Json;

namespace Estuary.Tokenization;

/// <summary>Chooses and configures the chat format for a model folder.</summary>
public static class ChatFormats
{
    /// <summary>Names accepted by <see cref="ForModel"/>'s override.</summary>
    public static IReadOnlyList<string> Names { get; } = ["baichuan2", "llama2", "template"];

    /// <summary>
    /// Returns the chat format of the model in <paramref name="modelDir"/>: config.json <c>model_type</c> "baichuan"
    /// gives <see cref="Baichuan2ChatFormat"/> (marker ids and max_new_tokens from generation_config.json, defaults
    /// 195/196/2048; length from config.json model_max_length, else max_position_embeddings, else tokenizer_config.json
    /// model_max_length); another model with a chat template (<c>chat_template.jinja</c>, <c>chat_template.json</c> or
    /// tokenizer_config.json's <c>chat_template</c>, its "default" one when there are several) gives
    /// <see cref="TemplateChatFormat"/>, as vLLM and transformers apply it; a byte-level (tokenizer.json) folder without one
    /// <see cref="MissingChatFormat"/>, which refuses chat prompts; anything else <see cref="Llama2ChatFormat"/>.
    /// </summary>
    /// <param name="modelDir">The model folder.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="overrideName">"baichuan2", "llama2" or "template" to force a format; null to pick from the folder.</param>
    /// <param name="chatTemplate">A chat template to use instead of the folder's (vLLM's --chat-template); implies "template".</param>
    /// <exception cref="ArgumentException">overrideName is not one of <see cref="Names"/>, or contradicts a given template.</exception>
    /// <exception cref="InvalidDataException">a config file is not valid JSON, Baichuan2 finds no length limit, or the
    /// template is missing or uses what the renderer does not support.</exception>
    public static IChatFormat ForModel(string modelDir, TextTokenizer tokenizer, string? overrideName = null, string? chatTemplate = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (overrideName is not null && !Names.Contains(overrideName))
            throw new ArgumentException($"unknown chat format '{overrideName}'; valid formats are {string.Join(", ", Names)}", nameof(overrideName));
        if (chatTemplate is not null && overrideName is not null && overrideName != "template")
            throw new ArgumentException($"a chat template was given, but the chat format '{overrideName}' was asked for", nameof(overrideName));

        using var config = ReadJsonIfExists(Path.Combine(modelDir, "config.json"));
        using var tokenizerConfig = ReadJsonIfExists(Path.Combine(modelDir, "tokenizer_config.json"));
        bool baichuan = GetString(config, "model_type") == "baichuan";
        var (folderTemplate, templateFile) = baichuan && overrideName is null && chatTemplate is null ? (null, null) : FolderTemplate(modelDir, tokenizerConfig);
        // A byte-level (Llama 3-style) folder without a template has no format to fall back on: Llama 2's would be wrong.
        if (chatTemplate is null && overrideName is null && !baichuan && folderTemplate is null && tokenizer.IsByteLevel) return new MissingChatFormat(modelDir);
        var name = chatTemplate is not null ? "template" : overrideName ?? (baichuan ? "baichuan2" : folderTemplate is not null ? "template" : "llama2");
        if (name == "llama2") return new Llama2ChatFormat(tokenizer);
        if (name == "template") return Template(tokenizer, tokenizerConfig, chatTemplate ?? folderTemplate
            ?? throw new InvalidDataException($"'{modelDir}' has no chat template (chat_template.jinja, chat_template.json or tokenizer_config.json's chat_template)"),
            chatTemplate is not null ? "the given chat template" : templateFile!);

        using var generation = ReadJsonIfExists(Path.Combine(modelDir, "generation_config.json"));
        var maxLength = GetInt(config, "model_max_length") ?? GetInt(config, "max_position_embeddings") ?? GetInt(tokenizerConfig, "model_max_length")
            ?? throw new InvalidDataException($"'{modelDir}': no model_max_length or max_position_embeddings in config.json and no model_max_length in tokenizer_config.json");
        return new Baichuan2ChatFormat(
            tokenizer,
            maxLength,
            GetInt(generation, "user_token_id") ?? 195,
            GetInt(generation, "assistant_token_id") ?? 196,
            GetInt(generation, "max_new_tokens") ?? 2048);
    }

    private static TemplateChatFormat Template(TextTokenizer tokenizer, JsonDocument? tokenizerConfig, string source, string where)
    {
        Templates.ChatTemplate template;
        try
        {
            template = Templates.ChatTemplate.Parse(source);
        }
        catch (Templates.TemplateException e)
        {
            throw new InvalidDataException($"{where}: the chat template cannot be used: {e.Message}", e);
        }
        // bos_token / eos_token as the tokenizer config writes them (a string or an AddedToken object), else the pieces.
        string Special(string key, int id) => TokenText(tokenizerConfig, key) ?? (id >= 0 ? tokenizer.IdToPiece(id) : "");
        bool legacy = !(tokenizerConfig?.RootElement.ValueKind == JsonValueKind.Object
            && tokenizerConfig.RootElement.TryGetProperty("legacy", out var l) && l.ValueKind == JsonValueKind.False);
        return new TemplateChatFormat(tokenizer, template, Special("bos_token", tokenizer.BosId), Special("eos_token", tokenizer.EosId), legacy);
    }

    // The folder's chat template and where it came from: chat_template.jinja, chat_template.json, then tokenizer_config.json.
    private static (string? Source, string? File) FolderTemplate(string modelDir, JsonDocument? tokenizerConfig)
    {
        var jinja = Path.Combine(modelDir, "chat_template.jinja");
        if (File.Exists(jinja)) return (File.ReadAllText(jinja), jinja);
        var json = Path.Combine(modelDir, "chat_template.json");
        using var separate = ReadJsonIfExists(json);
        if (TemplateValue(separate) is { } fromJson) return (fromJson, json);
        return TemplateValue(tokenizerConfig) is { } fromConfig ? (fromConfig, Path.Combine(modelDir, "tokenizer_config.json")) : (null, null);
    }

    // "chat_template": a string, or a list of {"name", "template"} from which "default" (else the first) is taken.
    private static string? TemplateValue(JsonDocument? doc)
    {
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("chat_template", out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind != JsonValueKind.Array) return null;
        string? first = null;
        foreach (var entry in v.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("template", out var t) || t.ValueKind != JsonValueKind.String) continue;
            first ??= t.GetString();
            if (entry.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default") return t.GetString();
        }
        return first;
    }

    private static string? TokenText(JsonDocument? doc, string key)
    {
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        return v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
    }

    private static JsonDocument? ReadJsonIfExists(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string? GetString(JsonDocument? doc, string key) =>
        doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v)
            && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? GetInt(JsonDocument? doc, string key) =>
        doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v)
            && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;
}
