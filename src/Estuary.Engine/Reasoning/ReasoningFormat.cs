// The reasoning tags of a served model and where a reply starts: inside the reasoning, or past it. The chat template decides
// that as often as the model: DeepSeek-R1's opens "<think>\n" in the prompt, Qwen3's closes an empty "<think>\n\n</think>\n\n"
// there when thinking is off; otherwise the parser's own rule applies.
// Invariant: both tags are single tokens of the tokenizer (checked at creation, as vLLM's parsers check them).
using System.Text.Json;
using Estuary.Tokenization;

namespace Estuary.Engine.Reasoning;

public sealed class ReasoningFormat
{
    public const string Open = "<think>";
    public const string Close = "</think>";

    // How many prompt tokens from the end are looked through (white space only) for the tag the prompt ends with.
    private const int TailTokens = 8;

    private readonly TextTokenizer _tokenizer;

    private ReasoningFormat(ReasoningParser parser, TextTokenizer tokenizer, int openId, int closeId)
    {
        Parser = parser;
        _tokenizer = tokenizer;
        OpenId = openId;
        CloseId = closeId;
        TagsAreSpecial = tokenizer.IsControl(openId) || tokenizer.IsControl(closeId);
    }

    public ReasoningParser Parser { get; }

    /// <summary>The token of &lt;think&gt;.</summary>
    public int OpenId { get; }

    /// <summary>The token of &lt;/think&gt;: the reasoning's end, after which a structured output applies.</summary>
    public int CloseId { get; }

    /// <summary>Whether a tag is a special token, so replies must keep special tokens in their text for the tags to be read.</summary>
    public bool TagsAreSpecial { get; }

    /// <summary>The format of <paramref name="parser"/> on <paramref name="tokenizer"/>; null for <see cref="ReasoningParser.None"/>.</summary>
    /// <exception cref="ArgumentException">a tag is not one token of the tokenizer.</exception>
    public static ReasoningFormat? Create(ReasoningParser parser, TextTokenizer tokenizer)
    {
        if (parser == ReasoningParser.None) return null;
        int Id(string tag) => tokenizer.PieceToId(tag) ?? throw new ArgumentException(
            $"reasoning_parser {Name(parser)} needs '{tag}' as one token of the model's tokenizer, and it has none");
        return new ReasoningFormat(parser, tokenizer, Id(Open), Id(Close));
    }

    /// <summary>The parser's name on the command line (vLLM's).</summary>
    public static string Name(ReasoningParser parser) => parser switch
    {
        ReasoningParser.DeepSeekR1 => "deepseek_r1",
        ReasoningParser.Qwen3 => "qwen3",
        _ => "none",
    };

    /// <summary>The parser a command-line name (or null, "none") names; null for a name it does not know.</summary>
    public static ReasoningParser? Parse(string? name) => name switch
    {
        null or "none" => ReasoningParser.None,
        "deepseek_r1" => ReasoningParser.DeepSeekR1,
        "qwen3" => ReasoningParser.Qwen3,
        _ => null,
    };

    /// <summary>A counter of a reply's reasoning tokens (none when it starts past its reasoning).</summary>
    public ReasoningTokenCounter TokenCounter(bool startsInReasoning) => new(startsInReasoning ? CloseId : null);

    /// <summary>
    /// Whether a reply to <paramref name="promptIds"/> starts inside its reasoning: yes when the prompt ends (but for white
    /// space) with &lt;think&gt;, no when it ends with &lt;/think&gt;; otherwise yes, except for Qwen3 with thinking turned off
    /// (<paramref name="templateKwargsJson"/> has <c>"enable_thinking": false</c>).
    /// </summary>
    public bool StartsInReasoning(ReadOnlySpan<int> promptIds, string? templateKwargsJson)
    {
        for (int i = promptIds.Length - 1; i >= Math.Max(0, promptIds.Length - TailTokens); i--)
        {
            int id = promptIds[i];
            if (id == OpenId) return true;
            if (id == CloseId) return false;
            if ((uint)id >= (uint)_tokenizer.VocabSize || !string.IsNullOrWhiteSpace(_tokenizer.TokenText(id))) break;
        }
        return Parser != ReasoningParser.Qwen3 || !ThinkingTurnedOff(templateKwargsJson);
    }

    /// <summary>
    /// <paramref name="sampling"/> for a reply to <paramref name="promptIds"/>, and whether the reply starts inside its
    /// reasoning (<see cref="StartsInReasoning"/>): then a structured output applies only after &lt;/think&gt; (as vLLM defers
    /// the grammar to the end of reasoning); special tokens stay in the text when a tag is one, so the tags can be read.
    /// </summary>
    public (SamplingParams Sampling, bool StartsInReasoning) Prepare(SamplingParams sampling, ReadOnlySpan<int> promptIds, string? templateKwargsJson)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        bool starts = StartsInReasoning(promptIds, templateKwargsJson);
        if (starts && sampling.StructuredOutput is not null) sampling = sampling with { StructuredOutputAfterTokenId = CloseId };
        if (TagsAreSpecial) sampling = sampling with { SkipSpecialTokens = false };
        return (sampling, starts);
    }

    private static bool ThinkingTurnedOff(string? templateKwargsJson)
    {
        if (templateKwargsJson is null) return false;
        using var doc = JsonDocument.Parse(templateKwargsJson);
        return doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("enable_thinking", out var value) && value.ValueKind == JsonValueKind.False;
    }
}
