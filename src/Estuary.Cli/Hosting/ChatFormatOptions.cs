// --chat-format and --chat-template for the commands that build chat prompts (generate --chat, chat, serve): one definition,
// one resolution against the model folder (ChatFormats.ForModel), one set of usage errors.
using System.CommandLine;
using Estuary.Tokenization;

namespace Estuary.Cli.Hosting;

/// <summary>The chat-format options of a command.</summary>
internal sealed class ChatFormatOptions
{
    private readonly Option<string?> _format = new("--chat-format")
    {
        Description = "Override the chat format: baichuan2, llama2 or template (the model folder's chat template)",
    };

    private readonly Option<string?> _template = new("--chat-template")
    {
        Description = "A chat template (Jinja) file, or the template itself, to use instead of the model's (as vLLM's --chat-template)",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_format);
        command.Options.Add(_template);
    }

    /// <summary>Whether either option was given.</summary>
    public bool Given(ParseResult r) => r.GetValue(_format) is not null || r.GetValue(_template) is not null;

    /// <summary>Checks the options before the model loads (a bad name or a missing file fails fast).</summary>
    public string? TemplateText(ParseResult r)
    {
        if (r.GetValue(_format) is { } name && !ChatFormats.Names.Contains(name))
            throw new UsageException($"--chat-format must be one of {string.Join(", ", ChatFormats.Names)} (got '{name}')");
        if (r.GetValue(_template) is not { } value) return null;
        string text = File.Exists(value) ? File.ReadAllText(value)
            : value.Contains("{{", StringComparison.Ordinal) || value.Contains("{%", StringComparison.Ordinal) ? value
            : throw new UsageException($"--chat-template: '{value}' is neither a file nor a template");
        try
        {
            Tokenization.Templates.ChatTemplate.Parse(text);
        }
        catch (Tokenization.Templates.TemplateException e)
        {
            throw new UsageException($"--chat-template: {e.Message}");
        }
        return text;
    }

    /// <summary>The chat format for the model in <paramref name="modelDir"/> with these options.</summary>
    /// <remarks>Its ArgumentException (a format contradicting a given template) reaches Program's handler, which words it.</remarks>
    public IChatFormat Resolve(ParseResult r, string modelDir, TextTokenizer tokenizer) =>
        ChatFormats.ForModel(modelDir, tokenizer, r.GetValue(_format), TemplateText(r));
}
