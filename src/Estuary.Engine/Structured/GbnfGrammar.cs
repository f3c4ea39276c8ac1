// Grammars written in GBNF, the EBNF dialect of llama.cpp that xgrammar (vLLM's guided_grammar) also reads:
//   root ::= "yes" | "no" ws item+     rule names [A-Za-z0-9_-]; "literals" and [character classes] with \n \t \r \\ \" \xHH
//   item ::= [a-z]{1,3} ("," item)?    \uHHHH \UHHHHHHHH escapes; "." any character; ( ) groups; * + ? {m} {m,} {m,n} {,n};
//   ws   ::= [ \t\n]*                   "#" comments. A rule's body runs until the next "name ::=".
// The text generated is a sentence of "root". Invariant: undefined or duplicate rules, left recursion (which a parser without
// lookahead cannot run) and malformed syntax are refused with a GrammarException naming the rule or the position.
using System.Globalization;
using System.Text;

namespace Estuary.Engine.Structured;

internal static class GbnfGrammar
{
    /// <summary>The grammar whose sentences are those of <paramref name="text"/>'s "root" rule.</summary>
    public static Grammar Build(string text)
    {
        var rules = new Parser(text).ParseRules();
        var builder = new GrammarBuilder();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, _, position) in rules)
        {
            if (ids.ContainsKey(name)) throw new GrammarException($"grammar: rule '{name}' is defined twice (again at position {position})");
            ids[name] = builder.DeclareRule(name);
        }
        if (!ids.ContainsKey("root")) throw new GrammarException("grammar: there is no 'root' rule (the output is a sentence of root)");
        var bodies = rules.ToDictionary(r => r.Name, r => r.Body, StringComparer.Ordinal);
        CheckReferences(bodies);
        CheckLeftRecursion(bodies);
        foreach (var (name, body, _) in rules)
        {
            if (body is ChoiceRegexNode choice)
                foreach (var option in choice.Options) builder.AddAlternative(ids[name], Emit(builder, ids, option));
            else builder.AddAlternative(ids[name], Emit(builder, ids, body));
        }
        return builder.Build(GrammarBuilder.Ref(ids["root"]));
    }

    private sealed record RuleReference(string Name, int Position) : RegexNode;

    private static GrammarSymbol Emit(GrammarBuilder b, Dictionary<string, int> ids, RegexNode node) => node switch
    {
        EmptyRegexNode => b.Empty(),
        CharactersRegexNode c => c.Single >= 0 ? b.Literal(char.ConvertFromUtf32(c.Single)) : b.CodePoints(c.Ranges),
        SequenceRegexNode s => b.Sequence([.. s.Items.Select(i => Emit(b, ids, i))]),
        ChoiceRegexNode c => b.Choice([.. c.Options.Select(o => Emit(b, ids, o))]),
        RepeatRegexNode r => b.Repeat(Emit(b, ids, r.Item), r.Min, r.Max),
        RuleReference r => GrammarBuilder.Ref(ids[r.Name]),
        _ => throw new InvalidOperationException($"unknown grammar node {node.GetType().Name}"),
    };

    private static void CheckReferences(Dictionary<string, RegexNode> bodies)
    {
        foreach (var (name, body) in bodies)
            foreach (var reference in References(body))
                if (!bodies.ContainsKey(reference.Name))
                    throw new GrammarException($"grammar: rule '{name}' refers to '{reference.Name}' (position {reference.Position}), which is not defined");
    }

    private static IEnumerable<RuleReference> References(RegexNode node) => node switch
    {
        RuleReference r => [r],
        SequenceRegexNode s => s.Items.SelectMany(References),
        ChoiceRegexNode c => c.Options.SelectMany(References),
        RepeatRegexNode r => References(r.Item),
        _ => [],
    };

    // A rule that can reach itself before matching any character would make the parse stacks grow without end.
    private static void CheckLeftRecursion(Dictionary<string, RegexNode> bodies)
    {
        var nullable = new HashSet<string>(StringComparer.Ordinal);
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (name, body) in bodies)
                if (!nullable.Contains(name) && Nullable(body, nullable)) grew = nullable.Add(name);
        }
        var first = bodies.ToDictionary(r => r.Key, r => LeftReferences(r.Value, nullable).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();
        foreach (var name in bodies.Keys) Visit(name);

        void Visit(string name)
        {
            if (state.GetValueOrDefault(name) == 2) return;
            if (state.GetValueOrDefault(name) == 1)
            {
                var cycle = path.Skip(path.IndexOf(name)).Append(name);
                throw new GrammarException($"grammar: rule '{name}' is left-recursive ({string.Join(" -> ", cycle)}); rewrite it with repetition, e.g. x ::= y (\",\" y)*");
            }
            state[name] = 1;
            path.Add(name);
            foreach (var next in first[name]) Visit(next);
            path.RemoveAt(path.Count - 1);
            state[name] = 2;
        }
    }

    private static bool Nullable(RegexNode node, HashSet<string> nullable) => node switch
    {
        EmptyRegexNode => true,
        CharactersRegexNode => false,
        RuleReference r => nullable.Contains(r.Name),
        SequenceRegexNode s => s.Items.All(i => Nullable(i, nullable)),
        ChoiceRegexNode c => c.Options.Any(o => Nullable(o, nullable)),
        RepeatRegexNode r => r.Min == 0 || Nullable(r.Item, nullable),
        _ => false,
    };

    // The rules that can come first in node (before any character), looking past nullable items.
    private static IEnumerable<string> LeftReferences(RegexNode node, HashSet<string> nullable)
    {
        switch (node)
        {
            case RuleReference r:
                yield return r.Name;
                break;
            case SequenceRegexNode s:
                foreach (var item in s.Items)
                {
                    foreach (var name in LeftReferences(item, nullable)) yield return name;
                    if (!Nullable(item, nullable)) yield break;
                }
                break;
            case ChoiceRegexNode c:
                foreach (var name in c.Options.SelectMany(o => LeftReferences(o, nullable))) yield return name;
                break;
            case RepeatRegexNode r:
                foreach (var name in LeftReferences(r.Item, nullable)) yield return name;
                break;
        }
    }

    private sealed class Parser(string text)
    {
        private int _at;

        public List<(string Name, RegexNode Body, int Position)> ParseRules()
        {
            var rules = new List<(string, RegexNode, int)>();
            SkipSpace();
            while (_at < text.Length)
            {
                int start = _at;
                var name = Name() ?? throw Error("a rule name");
                SkipSpace();
                if (!text.AsSpan(_at).StartsWith("::=")) throw Error("'::=' after the rule name");
                _at += 3;
                rules.Add((name, Alternatives(), start));
                SkipSpace();
            }
            if (rules.Count == 0) throw new GrammarException("grammar: the grammar is empty");
            return rules;
        }

        private RegexNode Alternatives()
        {
            var options = new List<RegexNode> { Sequence() };
            while (Peek() == '|')
            {
                _at++;
                options.Add(Sequence());
            }
            return options.Count == 1 ? options[0] : new ChoiceRegexNode(options);
        }

        private RegexNode Sequence()
        {
            var items = new List<RegexNode>();
            while (true)
            {
                SkipSpace();
                if (_at >= text.Length || text[_at] is '|' or ')' || AtRuleStart()) break;
                items.Add(Postfix(Term()));
            }
            return items.Count switch { 0 => EmptyRegexNode.Instance, 1 => items[0], _ => new SequenceRegexNode(items) };
        }

        private RegexNode Term()
        {
            int start = _at;
            char c = text[_at];
            switch (c)
            {
                case '"':
                {
                    _at++;
                    var literal = new List<RegexNode>();
                    while (_at < text.Length && text[_at] != '"')
                    {
                        if (text[_at] is '\n' or '\r') throw Error("the closing '\"' of the literal that starts", start);
                        int cp = Character();
                        literal.Add(new CharactersRegexNode([(cp, cp)]));
                    }
                    if (_at >= text.Length) throw Error("the closing '\"' of the literal that starts", start);
                    _at++;
                    return literal.Count switch { 0 => EmptyRegexNode.Instance, 1 => literal[0], _ => new SequenceRegexNode(literal) };
                }
                case '[':
                    return Class();
                case '(':
                {
                    _at++;
                    var inner = Alternatives();
                    SkipSpace();
                    if (Peek() != ')') throw Error("')' closing the group that starts", start);
                    _at++;
                    return inner;
                }
                case '.':
                    _at++;
                    return new CharactersRegexNode([(0, 0xD7FF), (0xE000, 0x10FFFF)]);
                default:
                    if (Name() is { } name) return new RuleReference(name, start);
                    throw Error("a literal, a character class, a group, '.' or a rule name");
            }
        }

        private RegexNode Postfix(RegexNode item)
        {
            while (_at < text.Length)
            {
                int start = _at;
                switch (text[_at])
                {
                    case '*': _at++; item = new RepeatRegexNode(item, 0, null, start); continue;
                    case '+': _at++; item = new RepeatRegexNode(item, 1, null, start); continue;
                    case '?': _at++; item = new RepeatRegexNode(item, 0, 1, start); continue;
                    case '{':
                    {
                        int close = text.IndexOf('}', _at);
                        if (close < 0) throw Error("'}' closing the repetition count");
                        var parts = text[(_at + 1)..close].Split(',');
                        static int? Count(string s) => s.Trim().Length == 0 ? null
                            : int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new GrammarException($"grammar: '{s.Trim()}' is not a repetition count");
                        int min = Count(parts[0]) ?? 0;
                        int? max = parts.Length == 1 ? min : parts.Length == 2 ? Count(parts[1]) : throw Error("{m}, {m,}, {m,n} or {,n}");
                        if (max < min) throw Error($"a maximum of at least {min} in the repetition");
                        _at = close + 1;
                        item = new RepeatRegexNode(item, min, max, start);
                        continue;
                    }
                }
                break;
            }
            return item;
        }

        private CharactersRegexNode Class()
        {
            int start = _at++;
            bool negated = Raw() == '^'; // inside a class, spaces are characters: no skipping
            if (negated) _at++;
            var ranges = new List<(int Lo, int Hi)>();
            while (_at < text.Length && text[_at] != ']')
            {
                int lo = Character();
                int hi = lo;
                if (Raw() == '-' && _at + 1 < text.Length && text[_at + 1] != ']')
                {
                    _at++;
                    hi = Character();
                    if (hi < lo) throw Error($"a range that does not go backwards (U+{lo:X4}-U+{hi:X4})", start);
                }
                ranges.Add((lo, hi));
            }
            if (_at >= text.Length) throw Error("']' closing the character class that starts", start);
            _at++;
            if (ranges.Count == 0 && !negated) throw Error("a character class that holds at least one character", start);
            var merged = GrammarBuilder.MergeRanges(ranges);
            return new CharactersRegexNode(negated ? GrammarBuilder.Complement(merged) : merged);
        }

        // One character of a literal or class: itself (a surrogate pair as one code point) or an escape.
        private int Character()
        {
            char c = text[_at++];
            if (c != '\\')
            {
                if (char.IsHighSurrogate(c) && _at < text.Length && char.IsLowSurrogate(text[_at])) return char.ConvertToUtf32(c, text[_at++]);
                if (char.IsSurrogate(c)) throw Error("a whole character, not half of a surrogate pair", _at - 1);
                return c;
            }
            if (_at >= text.Length) throw Error("a character after '\\'", _at - 1);
            char e = text[_at++];
            return e switch
            {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'x' => Hex(2),
                'u' => Hex(4),
                'U' => Hex(8),
                '\\' or '"' or '[' or ']' or '-' or '^' or '/' => e,
                _ => throw Error($"a known escape (\\n \\r \\t \\xHH \\uHHHH \\UHHHHHHHH \\\\ \\\" \\[ \\] \\- \\^), not '\\{e}'", _at - 2),
            };
        }

        private int Hex(int digits)
        {
            if (_at + digits > text.Length || !int.TryParse(text.AsSpan(_at, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int cp))
                throw Error($"{digits} hexadecimal digits", _at);
            _at += digits;
            if (cp > 0x10FFFF || cp is >= 0xD800 and <= 0xDFFF) throw Error("a code point that is not a surrogate and at most U+10FFFF", _at - digits);
            return cp;
        }

        private string? Name()
        {
            int start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '_' or '-')) _at++;
            return _at > start ? text[start.._at] : null;
        }

        private bool AtRuleStart()
        {
            int save = _at;
            bool rule = Name() is not null && SkipSpaceThen("::=");
            _at = save;
            return rule;
        }

        private bool SkipSpaceThen(string token)
        {
            SkipSpace();
            return text.AsSpan(_at).StartsWith(token);
        }

        private char Raw() => _at < text.Length ? text[_at] : '\0';

        private char Peek()
        {
            SkipSpace();
            return _at < text.Length ? text[_at] : '\0';
        }

        private void SkipSpace()
        {
            while (_at < text.Length)
            {
                if (char.IsWhiteSpace(text[_at])) _at++;
                else if (text[_at] == '#')
                    while (_at < text.Length && text[_at] != '\n') _at++;
                else break;
            }
        }

        private GrammarException Error(string expected, int? at = null)
        {
            int position = at ?? _at;
            var found = position < text.Length ? $"'{text[position]}'" : "the end";
            return new GrammarException($"grammar: expected {expected} at position {position} (found {found})");
        }
    }
}
