// Compiles a regular expression (vLLM guided_regex, JSON-schema "pattern") into grammar rules that match exactly the
// texts the whole pattern matches (a full match), as UTF-8 bytes. Invariant: only GrammarBuilder combinators are used,
// so the rules are never left-recursive; every refusal is a GrammarException.
using System.Text;

namespace Estuary.Engine.Structured;

/// <summary>Regular expressions as structured-output grammars.</summary>
internal static class RegexGrammar
{
    /// <summary>
    /// Adds rules for <paramref name="pattern"/> to <paramref name="builder"/> and returns the symbol matching exactly the
    /// texts the whole pattern matches. Throws <see cref="GrammarException"/> for invalid or unsupported patterns (before
    /// adding anything) and for repetitions too large for a grammar.
    /// </summary>
    public static GrammarSymbol Compile(GrammarBuilder builder, string pattern)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var node = RegexParser.Parse(pattern);
        return new Emitter(builder).Emit(node);
    }

    /// <summary>A grammar whose sentences are exactly the texts <paramref name="pattern"/> fully matches.</summary>
    public static Grammar Build(string pattern)
    {
        var builder = new GrammarBuilder();
        return builder.Build(Compile(builder, pattern));
    }

    // Turns nodes into symbols; runs of single code points become one literal, and equal classes share a rule.
    private sealed class Emitter(GrammarBuilder builder)
    {
        private readonly Dictionary<string, GrammarSymbol> _classes = new(StringComparer.Ordinal);

        public GrammarSymbol Emit(RegexNode node) => node switch
        {
            EmptyRegexNode => builder.Empty(),
            CharactersRegexNode c => c.Single >= 0 ? builder.Literal(char.ConvertFromUtf32(c.Single)) : Class(c),
            SequenceRegexNode s => Sequence(s),
            ChoiceRegexNode c => AllLiterals(c) is { } words ? builder.OneOfLiterals(words) : builder.Choice([.. c.Options.Select(Emit)]),
            RepeatRegexNode r => Repeat(r),
            _ => throw new InvalidOperationException($"unknown regular-expression node {node.GetType().Name}"),
        };

        // An alternation of plain strings (a|ab|abc, long word lists) shares prefixes as a byte trie.
        private static List<string>? AllLiterals(ChoiceRegexNode node)
        {
            var words = new List<string>(node.Options.Count);
            var text = new StringBuilder();
            foreach (var option in node.Options)
            {
                text.Clear();
                var items = option is SequenceRegexNode s ? s.Items : [option];
                foreach (var item in items)
                {
                    if (item is CharactersRegexNode { Single: >= 0 } c) text.Append(char.ConvertFromUtf32(c.Single));
                    else if (item is not EmptyRegexNode) return null;
                }
                words.Add(text.ToString());
            }
            return words;
        }

        private GrammarSymbol Class(CharactersRegexNode node)
        {
            var key = string.Join(',', node.Ranges.Select(r => $"{r.Lo:X}-{r.Hi:X}"));
            if (!_classes.TryGetValue(key, out var symbol))
            {
                symbol = builder.CodePoints(node.Ranges);
                _classes.Add(key, symbol);
            }
            return symbol;
        }

        private GrammarSymbol Sequence(SequenceRegexNode node)
        {
            var parts = new List<GrammarSymbol>();
            var literal = new StringBuilder();
            foreach (var item in node.Items)
            {
                if (item is CharactersRegexNode { Single: >= 0 } c)
                {
                    literal.Append(char.ConvertFromUtf32(c.Single));
                    continue;
                }
                if (item is EmptyRegexNode) continue;
                Flush();
                parts.Add(Emit(item));
            }
            Flush();
            return parts.Count == 0 ? builder.Empty() : builder.Sequence([.. parts]);

            void Flush()
            {
                if (literal.Length == 0) return;
                parts.Add(builder.Literal(literal.ToString()));
                literal.Clear();
            }
        }

        private GrammarSymbol Repeat(RepeatRegexNode node)
        {
            if (node.Item is EmptyRegexNode || node.Max == 0) return builder.Empty();
            var item = Emit(node.Item);
            try
            {
                return builder.Repeat(item, node.Min, node.Max);
            }
            catch (GrammarException e)
            {
                throw new GrammarException($"{e.Message} (the quantifier at position {node.Position} of the regular expression)");
            }
        }
    }
}
