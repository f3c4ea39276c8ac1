// JSON strings whose content (after unescaping) fully matches a regular expression: the pattern is compiled on its own
// by RegexGrammar, then copied into the schema's builder with every character JSON cannot hold raw ('"', '\' and
// U+0000–U+001F) replaced by its escape. Invariant: the decoded content of each string matched is exactly a full match of
// the pattern; one escape form per character (\" \\ \n \t \r \b \f, else \u00XX) is accepted, other characters only raw.
namespace Estuary.Engine.Structured;

/// <summary>Pattern-constrained JSON strings.</summary>
internal static class JsonPatternString
{
    // Bytes JSON requires escaped in a string. All are ASCII, so in a UTF-8 grammar they only ever stand for whole characters.
    private static readonly ByteSet MustEscape = ByteSet.Range(0x00, 0x1F).Union(ByteSet.Of((byte)'"')).Union(ByteSet.Of((byte)'\\'));

    /// <summary>A JSON string (quotes included) whose content fully matches <paramref name="pattern"/>.</summary>
    public static GrammarSymbol Build(JsonGrammarParts json, string pattern)
    {
        var scratch = new GrammarBuilder();
        var regex = scratch.Build(RegexGrammar.Compile(scratch, pattern));
        var copier = new Copier(json.Builder, regex);
        return json.Builder.Sequence(json.Quote, copier.Copy(), json.Quote);
    }

    /// <summary>
    /// The JSON escape of <paramref name="value"/>, an ASCII character in <see cref="MustEscape"/>: \" \\ \n \t \r \b \f,
    /// else \u00XX (hex digits in either case).
    /// </summary>
    private static GrammarSymbol Escape(GrammarBuilder builder, byte value)
    {
        string? shortEscape = value switch
        {
            (byte)'"' => "\\\"",
            (byte)'\\' => "\\\\",
            (byte)'\n' => "\\n",
            (byte)'\t' => "\\t",
            (byte)'\r' => "\\r",
            (byte)'\b' => "\\b",
            (byte)'\f' => "\\f",
            _ => null,
        };
        if (shortEscape is not null) return builder.Literal(shortEscape);
        const string hex = "0123456789abcdef";
        char low = hex[value & 0xF];
        var lowSet = ByteSet.Of((byte)low).Union(ByteSet.Of((byte)char.ToUpperInvariant(low)));
        return builder.Sequence(builder.Literal($"\\u00{value >> 4}"), builder.Bytes(lowSet));
    }

    // Copies the rules reachable from the regex grammar's start, mapping terminals through MustEscape.
    private sealed class Copier(GrammarBuilder target, Grammar source)
    {
        private readonly Dictionary<int, int> _rules = [];
        private readonly Dictionary<int, GrammarSymbol> _terminals = [];
        private readonly Queue<int> _pending = new();

        public GrammarSymbol Copy()
        {
            int start = Rule(source.StartRule);
            while (_pending.Count > 0)
            {
                int rule = _pending.Dequeue();
                foreach (int alternative in source.RuleAlternatives[rule])
                {
                    var symbols = new List<GrammarSymbol>();
                    for (int p = alternative; source.Elements[p] != Grammar.End; p++)
                    {
                        int element = source.Elements[p];
                        symbols.Add(element >= 0 ? GrammarBuilder.Ref(Rule(element)) : Terminal(~element));
                    }
                    target.AddAlternative(_rules[rule], [.. symbols]);
                }
            }
            return GrammarBuilder.Ref(start);
        }

        private int Rule(int sourceRule)
        {
            if (!_rules.TryGetValue(sourceRule, out int rule))
            {
                rule = target.DeclareRule("pattern");
                _rules.Add(sourceRule, rule);
                _pending.Enqueue(sourceRule);
            }
            return rule;
        }

        private GrammarSymbol Terminal(int index)
        {
            if (_terminals.TryGetValue(index, out var known)) return known;
            var set = source.Terminals[index];
            var options = new List<GrammarSymbol>();
            var raw = set.Except(MustEscape);
            if (!raw.IsEmpty) options.Add(target.Bytes(raw));
            for (int value = 0; value < 0x80; value++)
                if (MustEscape.Contains((byte)value) && set.Contains((byte)value)) options.Add(Escape(target, (byte)value));
            var symbol = target.Choice([.. options]);
            _terminals.Add(index, symbol);
            return symbol;
        }
    }
}
