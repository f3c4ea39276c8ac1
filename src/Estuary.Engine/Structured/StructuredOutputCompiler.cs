// Compiles StructuredOutput specifications into automata over the engine's vocabulary, keeping the most recent ones so
// that repeated schemas (every request of a client usually sends the same) reuse their grammar, states and token masks.
// Thread-safe: the server validates on request threads while the engine loop samples.
namespace Estuary.Engine.Structured;

internal sealed class StructuredOutputCompiler(Func<TokenVocabulary> vocabulary)
{
    private const int MaxCached = 8; // automata kept (each bounded to about 40 MB of caches)

    private readonly Lazy<TokenVocabulary> _vocabulary = new(vocabulary, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, GrammarAutomaton Automaton)>> _cache = [];
    private readonly LinkedList<(string Key, GrammarAutomaton Automaton)> _recent = new();

    /// <summary>The automaton for <paramref name="spec"/>.</summary>
    /// <exception cref="GrammarException">the specification is invalid or unsupported, or allows only empty text.</exception>
    public GrammarAutomaton Compile(StructuredOutput spec)
    {
        var key = spec.CacheKey;
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var hit))
            {
                _recent.Remove(hit);
                _recent.AddFirst(hit);
                return hit.Value.Automaton;
            }
        }
        var automaton = new GrammarAutomaton(BuildGrammar(spec), _vocabulary.Value);
        if (!automaton.Initial.CanContinue)
            throw new GrammarException($"the structured output ({spec}) allows only empty text");
        lock (_gate)
        {
            if (_cache.TryGetValue(key, out var raced)) return raced.Value.Automaton;
            _cache[key] = _recent.AddFirst((key, automaton));
            if (_recent.Count > MaxCached)
            {
                _cache.Remove(_recent.Last!.Value.Key);
                _recent.RemoveLast();
            }
        }
        return automaton;
    }

    internal static Grammar BuildGrammar(StructuredOutput spec) => spec.Kind switch
    {
        StructuredOutputKind.Choice => ChoiceGrammar(spec.Choices),
        StructuredOutputKind.Regex => RegexGrammar.Build(spec.Text),
        StructuredOutputKind.Grammar => GbnfGrammar.Build(spec.Text),
        StructuredOutputKind.JsonObject => JsonSchemaGrammar.AnyObject(),
        StructuredOutputKind.JsonSchema => JsonSchema(spec.Text),
        StructuredOutputKind.JsonSchemaOrText => JsonSchema(spec.Text, JsonOrTextGrammar.Build),
        _ => throw new GrammarException($"structured output of kind {spec.Kind} is not supported"),
    };

    private static Grammar JsonSchema(string text, Func<System.Text.Json.JsonElement, Grammar>? build = null)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(text);
        try
        {
            return (build ?? JsonSchemaGrammar.Build)(doc.RootElement);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json's reads: a keyword's value of the wrong JSON kind, or a string with an unpaired surrogate escape.
            throw new GrammarException($"json_schema: a keyword has a value of the wrong kind or invalid text ({e.Message})");
        }
    }

    private static Grammar ChoiceGrammar(IReadOnlyList<string> choices)
    {
        if (choices.Count == 0) throw new GrammarException("the choice list is empty");
        var builder = new GrammarBuilder();
        return builder.Build(builder.OneOfLiterals(choices));
    }
}
