// Walks one JSON Schema (2020-12 keywords, plus draft-4 boolean exclusiveMinimum/Maximum and "definitions") and adds its
// grammar to a builder. Invariant: every sentence validates against the schema (the grammar may be stricter: see below);
// whatever cannot be enforced that way is refused with a GrammarException naming the keyword and its JSON pointer.
//
// Supported: type (one or a list; without "type", the types whose keywords appear, as outlines does, else any value),
// enum/const (next to "type" only), anyOf and oneOf (a choice: oneOf's exclusivity is not enforced), allOf with one
// subschema, $ref to "#", "#/$defs/NAME" or "#/definitions/NAME" (recursion through objects/arrays allowed; left recursion
// refused); strings: minLength/maxLength (code points, an escape counts as one), pattern (whole-content match, see
// JsonPatternString), format date/time/date-time/uuid (others are annotations and not checked, as JSON Schema does by
// default); integers: minimum/maximum/exclusive* exactly; numbers: bounds of 0 as a sign (exponents allowed), other
// bounds exactly on plain decimals (no exponent, see DecimalRangeGrammar); objects: properties in declared order, required, additionalProperties (absent with non-empty
// "properties" means none, as OpenAI's strict mode and outlines do; extra keys next to listed ones are raw and never a listed
// name, see JsonKeyExclusion); arrays: items, prefixItems (all present, as a tuple,
// unless maxItems cuts them), minItems/maxItems, uniqueItems false.
// Refused: not, if/then/else, multipleOf, allOf with several subschemas, uniqueItems true, contains, pattern/length next to
// format or each other, "required" naming an unlisted property, min/maxProperties, patternProperties, propertyNames,
// dependencies, unevaluated*, $id below the root, nullable true, validation keywords next to $ref/anyOf/oneOf/allOf/enum.
// Definitions are compiled only when referenced (an unused one is not checked). A false subschema forbids what it guards
// (an optional property, the rest of a tuple, an anyOf branch); where that leaves nothing, the schema is refused.
using System.Collections.Frozen;
using System.Numerics;
using System.Text.Json;

namespace Estuary.Engine.Structured;

/// <summary>A JSON Schema compiled to a grammar (one use per instance).</summary>
internal sealed class JsonSchemaCompiler
{
    /// <summary>Most subschemas compiled one inside another (nesting plus $ref chains).</summary>
    public const int MaxDepth = 200;

    private static readonly FrozenSet<string> Annotations = FrozenSet.Create(StringComparer.Ordinal,
        "title", "description", "default", "examples", "$schema", "$comment", "deprecated", "readOnly", "writeOnly");
    private static readonly FrozenSet<string> StringKeywords = FrozenSet.Create(StringComparer.Ordinal, "minLength", "maxLength", "pattern", "format");
    private static readonly FrozenSet<string> NumberKeywords = FrozenSet.Create(StringComparer.Ordinal, "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static readonly FrozenSet<string> ObjectKeywords = FrozenSet.Create(StringComparer.Ordinal, "properties", "required", "additionalProperties");
    private static readonly FrozenSet<string> ArrayKeywords = FrozenSet.Create(StringComparer.Ordinal, "items", "prefixItems", "minItems", "maxItems");
    private static readonly FrozenSet<string> OtherKeywords = FrozenSet.Create(StringComparer.Ordinal, "type", "enum", "const", "$ref", "allOf", "anyOf", "oneOf");
    private static readonly string[] TypeNames = ["null", "boolean", "object", "array", "number", "integer", "string"];

    private readonly JsonElement _root;
    private readonly JsonGrammarParts _json = new(new GrammarBuilder());
    private readonly Dictionary<string, int> _targetRules = new(StringComparer.Ordinal);
    // Targets a text may start with, for each $ref target (edges of the left-recursion check).
    private readonly Dictionary<string, HashSet<string>> _startsWith = new(StringComparer.Ordinal);
    // The $ref targets being compiled whose text has not consumed a byte yet here (innermost last).
    private List<string> _leftEdge = [];
    // Subschemas being compiled, one inside the other (bounded so a deep schema or $ref chain cannot exhaust the stack).
    private int _depth;

    /// <summary>A compiler for <paramref name="schema"/> (the whole document: $refs resolve against it).</summary>
    public JsonSchemaCompiler(JsonElement schema) => _root = schema;

    /// <summary>The grammar of the JSON texts valid against the schema.</summary>
    public Grammar Build() => _json.Builder.Build(BuildRoot());

    /// <summary>
    /// The schema's symbol, for a grammar that embeds it (finish with <see cref="Builder"/>.Build). Call once.
    /// </summary>
    public GrammarSymbol BuildRoot()
    {
        var root = Target("", _root);
        CheckLeftRecursion();
        return root;
    }

    /// <summary>The builder the schema's rules are declared in.</summary>
    public GrammarBuilder Builder => _json.Builder;

    /// <summary>"at /a/b" for the JSON pointer /a/b, "at the top level" for the root.</summary>
    private static string Where(string pointer) => pointer.Length == 0 ? "at the top level" : $"at {pointer}";

    private static GrammarException Unsupported(string keyword, string pointer, string? why = null) =>
        new($"json_schema: '{keyword}' {Where(pointer)} is not supported{(why is null ? "" : $" ({why})")}");

    private static GrammarException Invalid(string keyword, string pointer, string problem) =>
        new($"json_schema: '{keyword}' {Where(pointer)} {problem}");

    private static string Child(string pointer, string name) => $"{pointer}/{name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}";

    // A $ref target (or the root): one rule, compiled on first use, so recursion refers back to it.
    private GrammarSymbol Target(string key, JsonElement schema)
    {
        if (_leftEdge.Count > 0) _startsWith[_leftEdge[^1]].Add(key);
        if (_targetRules.TryGetValue(key, out int known)) return GrammarBuilder.Ref(known);
        int rule = _json.Builder.DeclareRule($"schema #{key}");
        _targetRules.Add(key, rule);
        _startsWith.Add(key, new HashSet<string>(StringComparer.Ordinal));
        _leftEdge.Add(key);
        var symbol = Compile(schema, key);
        _leftEdge.RemoveAt(_leftEdge.Count - 1);
        _json.Builder.AddAlternative(rule, symbol);
        return GrammarBuilder.Ref(rule);
    }

    // Compiles what comes after an opening '{' or '[' (so no longer at the left edge of any $ref target).
    private T Inside<T>(Func<T> compile)
    {
        var saved = _leftEdge;
        _leftEdge = [];
        try
        {
            return compile();
        }
        finally
        {
            _leftEdge = saved;
        }
    }

    private void CheckLeftRecursion()
    {
        // Iterative depth-first search for a cycle among "may start with" edges (chains can be as long as $defs is).
        var done = new HashSet<string>(StringComparer.Ordinal);
        var onPath = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<(string Key, IEnumerator<string> Next)>();
        foreach (var start in _startsWith.Keys)
        {
            if (done.Contains(start)) continue;
            Push(start);
            while (path.Count > 0)
            {
                var (key, next) = path[^1];
                if (!next.MoveNext())
                {
                    path.RemoveAt(path.Count - 1);
                    onPath.Remove(key);
                    done.Add(key);
                    continue;
                }
                if (onPath.Contains(next.Current))
                {
                    var cycle = path.Select(p => p.Key).SkipWhile(k => k != next.Current).Append(next.Current).Select(k => "#" + k);
                    throw new GrammarException($"json_schema: '$ref' recursion with no object or array in between ({string.Join(" -> ", cycle)}) is not supported");
                }
                if (!done.Contains(next.Current)) Push(next.Current);
            }
        }

        void Push(string key)
        {
            onPath.Add(key);
            path.Add((key, _startsWith[key].GetEnumerator()));
        }
    }

    private GrammarSymbol Compile(JsonElement schema, string pointer)
    {
        if (++_depth > MaxDepth) throw new GrammarException($"json_schema: the schema nests more than {MaxDepth} subschemas deep (counting $ref) {Where(pointer)}");
        try
        {
            return schema.ValueKind switch
            {
                JsonValueKind.True => _json.AnyValue,
                JsonValueKind.False => throw new GrammarException($"json_schema: the schema {Where(pointer)} is false, which no value satisfies"),
                JsonValueKind.Object => CompileObjectSchema(schema, pointer),
                _ => throw new GrammarException($"json_schema: the schema {Where(pointer)} must be an object or a boolean"),
            };
        }
        finally
        {
            _depth--;
        }
    }

    private GrammarSymbol CompileObjectSchema(JsonElement schema, string pointer)
    {
        var keywords = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in schema.EnumerateObject())
        {
            string name = property.Name;
            var value = property.Value;
            if (Annotations.Contains(name)) continue;
            switch (name)
            {
                case "$defs" or "definitions":
                    if (value.ValueKind != JsonValueKind.Object) throw Invalid(name, pointer, "must be an object");
                    continue;
                case "$id":
                    if (pointer.Length > 0) throw Unsupported(name, pointer, "only the top-level schema may have an $id");
                    continue;
                case "nullable":
                    if (value.ValueKind == JsonValueKind.True) throw Unsupported("nullable: true", pointer, "list \"null\" in \"type\" instead");
                    if (value.ValueKind != JsonValueKind.False) throw Invalid(name, pointer, "must be a boolean");
                    continue;
                case "uniqueItems":
                    if (value.ValueKind == JsonValueKind.True) throw Unsupported("uniqueItems: true", pointer);
                    if (value.ValueKind != JsonValueKind.False) throw Invalid(name, pointer, "must be a boolean");
                    continue;
            }
            if (!OtherKeywords.Contains(name) && !StringKeywords.Contains(name) && !NumberKeywords.Contains(name)
                && !ObjectKeywords.Contains(name) && !ArrayKeywords.Contains(name))
                throw Unsupported(name, pointer);
            keywords[name] = value;
        }
        if (keywords.Count == 0) return _json.AnyValue;
        foreach (var combinator in (ReadOnlySpan<string>)["$ref", "allOf", "anyOf", "oneOf"])
        {
            if (!keywords.TryGetValue(combinator, out var value)) continue;
            var other = keywords.Keys.FirstOrDefault(k => k != combinator);
            if (other is not null) throw Unsupported(other, pointer, $"next to '{combinator}'");
            return combinator == "$ref" ? Reference(value, pointer) : Combination(combinator, value, pointer);
        }
        if (keywords.ContainsKey("enum") || keywords.ContainsKey("const"))
        {
            var other = keywords.Keys.FirstOrDefault(k => k is not ("type" or "enum" or "const"));
            if (other is not null) throw Unsupported(other, pointer, $"next to '{(keywords.ContainsKey("enum") ? "enum" : "const")}'");
            return Values(keywords, pointer);
        }
        return Types(keywords, pointer);
    }

    private GrammarSymbol Reference(JsonElement value, string pointer)
    {
        if (value.ValueKind != JsonValueKind.String) throw Invalid("$ref", pointer, "must be a string");
        string reference = value.GetString()!;
        if (reference == "#") return Target("", _root);
        foreach (var container in (ReadOnlySpan<string>)["$defs", "definitions"])
        {
            string prefix = $"#/{container}/";
            if (!reference.StartsWith(prefix, StringComparison.Ordinal) || reference.IndexOf('/', prefix.Length) >= 0) continue;
            string name = Uri.UnescapeDataString(reference[prefix.Length..]).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (_root.ValueKind != JsonValueKind.Object || !_root.TryGetProperty(container, out var definitions)
                || definitions.ValueKind != JsonValueKind.Object || !definitions.TryGetProperty(name, out var target))
                throw Invalid("$ref", pointer, $"points to '{reference}', which does not exist");
            return Target(Child($"/{container}", name), target);
        }
        throw Unsupported("$ref", pointer, $"'{reference}': only \"#\", \"#/$defs/NAME\" and \"#/definitions/NAME\" are");
    }

    private GrammarSymbol Combination(string keyword, JsonElement value, string pointer)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0) throw Invalid(keyword, pointer, "must be a non-empty array of schemas");
        if (keyword == "allOf" && value.GetArrayLength() != 1)
            throw Unsupported(keyword, pointer, $"with {value.GetArrayLength()} subschemas; only one is");
        var options = new List<GrammarSymbol>();
        int i = 0;
        foreach (var branch in value.EnumerateArray())
        {
            // A false branch (of anyOf/oneOf) adds nothing; an all-false list is refused below.
            if (branch.ValueKind != JsonValueKind.False || keyword == "allOf") options.Add(Compile(branch, $"{pointer}/{keyword}/{i}"));
            i++;
        }
        if (options.Count == 0) throw new GrammarException($"json_schema: every subschema of '{keyword}' {Where(pointer)} is false, which no value satisfies");
        return _json.Builder.Choice([.. options]);
    }

    private GrammarSymbol Values(Dictionary<string, JsonElement> keywords, string pointer)
    {
        var values = new List<JsonElement>();
        string source = keywords.ContainsKey("enum") ? "enum" : "const";
        if (keywords.TryGetValue("enum", out var enumValues))
        {
            if (enumValues.ValueKind != JsonValueKind.Array) throw Invalid("enum", pointer, "must be an array");
            values.AddRange(enumValues.EnumerateArray());
        }
        if (keywords.TryGetValue("const", out var constant))
        {
            if (source == "enum") values.RemoveAll(v => !JsonElement.DeepEquals(v, constant));
            else values.Add(constant);
        }
        var types = ParseType(keywords, pointer);
        if (types is not null) values.RemoveAll(v => !types.Any(t => HasType(v, t)));
        if (values.Count == 0) throw new GrammarException($"json_schema: no value of '{source}' {Where(pointer)} satisfies the schema");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var options = new List<GrammarSymbol>();
        var scalars = new List<string>(); // literal texts, matched through one byte trie (large enums stay one parse stack)
        try
        {
            foreach (var v in values)
            {
                string text = v.ValueKind == JsonValueKind.String ? JsonGrammarParts.StringLiteral(v.GetString()!) : v.GetRawText();
                if (!seen.Add(text)) continue;
                if (v.ValueKind is JsonValueKind.Object or JsonValueKind.Array) options.Add(_json.Value(v));
                else scalars.Add(text);
            }
            if (scalars.Count > 0) options.Add(_json.Builder.OneOfLiterals(scalars));
        }
        catch (InvalidOperationException e)
        {
            throw Invalid(source, pointer, $"holds a string that is not valid Unicode ({e.Message})");
        }
        return _json.Builder.Choice([.. options]);
    }

    private static bool HasType(JsonElement value, string type) => (value.ValueKind, type) switch
    {
        (JsonValueKind.Null, "null") or (JsonValueKind.True or JsonValueKind.False, "boolean") or (JsonValueKind.Object, "object")
            or (JsonValueKind.Array, "array") or (JsonValueKind.String, "string") or (JsonValueKind.Number, "number") => true,
        (JsonValueKind.Number, "integer") => JsonDecimal.Parse(value.GetRawText()) is { IsInteger: true },
        _ => false,
    };

    // The "type" keyword's names, or null without one.
    private static HashSet<string>? ParseType(Dictionary<string, JsonElement> keywords, string pointer)
    {
        if (!keywords.TryGetValue("type", out var type)) return null;
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (type.ValueKind == JsonValueKind.String) names.Add(type.GetString()!);
        else if (type.ValueKind == JsonValueKind.Array && type.GetArrayLength() > 0 && type.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String))
            foreach (var t in type.EnumerateArray()) names.Add(t.GetString()!);
        else throw Invalid("type", pointer, "must be a type name or a non-empty array of type names");
        foreach (var name in names)
            if (!TypeNames.Contains(name)) throw Invalid("type", pointer, $"names an unknown type '{name}' (known: {string.Join(", ", TypeNames)})");
        return names;
    }

    private GrammarSymbol Types(Dictionary<string, JsonElement> keywords, string pointer)
    {
        var types = ParseType(keywords, pointer);
        if (types is null)
        {
            // No "type": the types the keywords constrain (a schema with "properties" means an object).
            types = new HashSet<string>(StringComparer.Ordinal);
            foreach (var keyword in keywords.Keys)
            {
                if (StringKeywords.Contains(keyword)) types.Add("string");
                if (NumberKeywords.Contains(keyword)) types.Add("number");
                if (ObjectKeywords.Contains(keyword)) types.Add("object");
                if (ArrayKeywords.Contains(keyword)) types.Add("array");
            }
            if (types.Count == 0) return _json.AnyValue;
        }
        var b = _json.Builder;
        var options = new List<GrammarSymbol>();
        if (types.Contains("null")) options.Add(_json.Null);
        if (types.Contains("boolean")) options.Add(_json.Boolean);
        if (types.Contains("number")) options.Add(CompileNumber(keywords, pointer, integer: false));
        else if (types.Contains("integer")) options.Add(CompileNumber(keywords, pointer, integer: true));
        if (types.Contains("string")) options.Add(CompileString(keywords, pointer));
        if (types.Contains("object")) options.Add(CompileObject(keywords, pointer));
        if (types.Contains("array")) options.Add(CompileArray(keywords, pointer));
        return b.Choice([.. options]);
    }

    // The bounds on one side: 'plain' (minimum/maximum, exclusive when draft 4's boolean 'exclusive' is true) and
    // 'exclusive' (exclusiveMinimum/Maximum) when it is a number.
    private static List<(JsonDecimal Value, bool Exclusive, string Keyword)> Bounds(Dictionary<string, JsonElement> keywords, string pointer, string plain, string exclusive)
    {
        var bounds = new List<(JsonDecimal, bool, string)>();
        bool draft4Exclusive = false;
        if (keywords.TryGetValue(exclusive, out var e))
        {
            if (e.ValueKind == JsonValueKind.Number) bounds.Add((Parse(exclusive, e), true, exclusive));
            else if (e.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                if (!keywords.ContainsKey(plain)) throw Invalid(exclusive, pointer, $"as a boolean needs '{plain}'");
                draft4Exclusive = e.ValueKind == JsonValueKind.True;
            }
            else throw Invalid(exclusive, pointer, "must be a number");
        }
        if (keywords.TryGetValue(plain, out var p)) bounds.Add((Parse(plain, p), draft4Exclusive, plain));
        return bounds;

        JsonDecimal Parse(string keyword, JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Number) throw Invalid(keyword, pointer, "must be a number");
            return JsonDecimal.Parse(value.GetRawText())
                ?? throw Unsupported(keyword, pointer, $"{value.GetRawText()} is beyond ±10^{JsonDecimal.MaxDigits}");
        }
    }

    private GrammarSymbol CompileNumber(Dictionary<string, JsonElement> keywords, string pointer, bool integer)
    {
        var lower = Bounds(keywords, pointer, "minimum", "exclusiveMinimum");
        var upper = Bounds(keywords, pointer, "maximum", "exclusiveMaximum");
        if (integer)
        {
            BigInteger? lo = null, hi = null;
            foreach (var (value, exclusive, _) in lower)
            {
                var bound = exclusive ? value.Floor() + 1 : value.Ceiling();
                if (lo is null || bound > lo) lo = bound;
            }
            foreach (var (value, exclusive, _) in upper)
            {
                var bound = exclusive ? value.Ceiling() - 1 : value.Floor();
                if (hi is null || bound < hi) hi = bound;
            }
            if (lo > hi) throw new GrammarException($"json_schema: no integer satisfies the bounds {Where(pointer)}");
            return lo is null && hi is null ? _json.Integer : IntegerRangeGrammar.Build(_json, lo, hi);
        }
        if (lower.Concat(upper).Any(b => !b.Value.IsZero))
        {
            // Other bounds: plain decimals (no exponent) compared digit by digit against the tightest bounds.
            DecimalRangeGrammar.Bound? low = null, high = null;
            foreach (var (value, exclusive, _) in lower)
            {
                int c = low is { } l ? value.CompareTo(l.Value) : 1;
                if (c > 0 || (c == 0 && exclusive)) low = new(value, exclusive);
            }
            foreach (var (value, exclusive, _) in upper)
            {
                int c = high is { } h ? value.CompareTo(h.Value) : -1;
                if (c < 0 || (c == 0 && exclusive)) high = new(value, exclusive);
            }
            return DecimalRangeGrammar.Build(_json, low, high)
                ?? throw new GrammarException($"json_schema: no number satisfies the bounds {Where(pointer)}");
        }
        bool lowerExclusive = lower.Any(l => l.Exclusive), upperExclusive = upper.Any(u => u.Exclusive);
        JsonNumberSign sign = (lower.Count > 0, upper.Count > 0) switch
        {
            (false, false) => JsonNumberSign.Any,
            (true, false) => lowerExclusive ? JsonNumberSign.Positive : JsonNumberSign.NonNegative,
            (false, true) => upperExclusive ? JsonNumberSign.Negative : JsonNumberSign.NonPositive,
            _ => lowerExclusive || upperExclusive
                ? throw new GrammarException($"json_schema: no number satisfies the bounds {Where(pointer)}")
                : JsonNumberSign.Zero,
        };
        return _json.Number(sign);
    }

    // A keyword whose value must be a non-negative integer; null when absent.
    private static int? Count(Dictionary<string, JsonElement> keywords, string pointer, string keyword)
    {
        if (!keywords.TryGetValue(keyword, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || JsonDecimal.Parse(value.GetRawText()) is not { IsInteger: true } parsed
            || parsed.Floor() < 0)
            throw Invalid(keyword, pointer, "must be a non-negative integer");
        var count = parsed.Floor();
        if (count > GrammarBuilder.MaxSymbols) throw Unsupported(keyword, pointer, $"{count} is too large for a structured-output grammar");
        return (int)count;
    }

    // Runs a builder step that may refuse a too-large repetition, naming the keyword responsible.
    private static GrammarSymbol Sized(string keyword, string pointer, Func<GrammarSymbol> build)
    {
        try
        {
            return build();
        }
        catch (GrammarException e) when (!e.Message.StartsWith("json_schema:", StringComparison.Ordinal))
        {
            throw Unsupported(keyword, pointer, e.Message);
        }
    }

    private GrammarSymbol CompileString(Dictionary<string, JsonElement> keywords, string pointer)
    {
        int min = Count(keywords, pointer, "minLength") ?? 0;
        int? max = Count(keywords, pointer, "maxLength");
        if (max < min) throw new GrammarException($"json_schema: no string satisfies 'minLength' {min} and 'maxLength' {max} {Where(pointer)}");
        string? format = null, pattern = null;
        if (keywords.TryGetValue("format", out var f))
            format = f.ValueKind == JsonValueKind.String ? f.GetString() : throw Invalid("format", pointer, "must be a string");
        if (keywords.TryGetValue("pattern", out var p))
            pattern = p.ValueKind == JsonValueKind.String ? p.GetString() : throw Invalid("pattern", pointer, "must be a string");
        var b = _json.Builder;
        if (format is not null && StringFormatGrammar.IsEnforced(format))
        {
            var other = new[] { "pattern", "minLength", "maxLength" }.FirstOrDefault(keywords.ContainsKey);
            if (other is not null) throw Unsupported(other, pointer, $"together with 'format': \"{format}\"");
            return b.Sequence(_json.Quote, StringFormatGrammar.Build(_json, format), _json.Quote);
        }
        if (pattern is not null)
        {
            var other = new[] { "minLength", "maxLength" }.FirstOrDefault(keywords.ContainsKey);
            if (other is not null) throw Unsupported(other, pointer, "together with 'pattern'");
            try
            {
                return JsonPatternString.Build(_json, pattern);
            }
            catch (GrammarException e)
            {
                throw new GrammarException($"json_schema: 'pattern' {Where(pointer)}: {e.Message}");
            }
        }
        return Sized(max is null ? "minLength" : "maxLength", pointer, () => _json.StringOfLength(min, max));
    }

    private GrammarSymbol CompileObject(Dictionary<string, JsonElement> keywords, string pointer)
    {
        var names = new List<string>();
        var schemas = new List<JsonElement>();
        var forbidden = new HashSet<string>(StringComparer.Ordinal); // properties whose schema is false: never written
        if (keywords.TryGetValue("properties", out var properties))
        {
            if (properties.ValueKind != JsonValueKind.Object) throw Invalid("properties", pointer, "must be an object");
            foreach (var property in properties.EnumerateObject())
            {
                if (names.Contains(property.Name)) throw Invalid("properties", pointer, $"lists '{property.Name}' twice");
                names.Add(property.Name);
                schemas.Add(property.Value);
            }
            forbidden.UnionWith(names.Where((_, i) => schemas[i].ValueKind == JsonValueKind.False));
        }
        var required = new HashSet<string>(StringComparer.Ordinal);
        if (keywords.TryGetValue("required", out var requiredList))
        {
            if (requiredList.ValueKind != JsonValueKind.Array || requiredList.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String))
                throw Invalid("required", pointer, "must be an array of strings");
            foreach (var r in requiredList.EnumerateArray())
            {
                string name = r.GetString()!;
                if (!names.Contains(name)) throw Unsupported("required", pointer, $"it names '{name}', which is not in 'properties'");
                if (forbidden.Contains(name)) throw new GrammarException($"json_schema: no object satisfies the schema {Where(pointer)}: '{name}' is required but its schema is false");
                required.Add(name);
            }
        }
        for (int i = names.Count - 1; i >= 0; i--)
        {
            if (!forbidden.Contains(names[i])) continue;
            names.RemoveAt(i);
            schemas.RemoveAt(i);
        }
        var b = _json.Builder;
        var ws = _json.Whitespace;
        var (values, additional) = Inside(() =>
        {
            var symbols = new List<GrammarSymbol>();
            for (int i = 0; i < names.Count; i++) symbols.Add(Compile(schemas[i], Child(Child(pointer, "properties"), names[i])));
            GrammarSymbol? extra = null;
            if (keywords.TryGetValue("additionalProperties", out var additionalSchema))
            {
                if (additionalSchema.ValueKind != JsonValueKind.False) extra = Compile(additionalSchema, Child(pointer, "additionalProperties"));
            }
            else if (names.Count == 0 && forbidden.Count == 0) extra = _json.AnyValue;
            return (symbols, extra);
        });
        var close = b.Literal("}");
        var comma = b.Literal(",");
        var colon = b.Literal(":");
        // after[i]: a member and the whitespace after it were written, properties i.. remain: "}" or "," and the next member.
        // next[i]: the next member is property i or a later one (optional ones may be skipped); null when none may come.
        int n = names.Count;
        GrammarSymbol after;
        GrammarSymbol? next = null;
        if (additional is { } extraValue)
        {
            int loop = b.DeclareRule("additional properties");
            // An extra key must not repeat a listed (or forbidden) property: parsed, it would override that property.
            var key = names.Count == 0 && forbidden.Count == 0 ? _json.String : JsonKeyExclusion.Build(b, names.Concat(forbidden));
            var member = b.Sequence(key, ws, colon, ws, extraValue);
            b.AddAlternative(loop, close);
            b.AddAlternative(loop, comma, ws, member, ws, GrammarBuilder.Ref(loop));
            after = GrammarBuilder.Ref(loop);
            next = b.Sequence(member, ws, after);
        }
        else after = close;
        bool allOptional = true;
        for (int i = n - 1; i >= 0; i--)
        {
            bool optional = !required.Contains(names[i]);
            var member = b.Sequence(b.Literal(JsonGrammarParts.StringLiteral(names[i])), ws, colon, ws, values[i], ws, after);
            var current = optional && next is { } later ? b.Choice(member, later) : member;
            next = current;
            allOptional &= optional;
            after = allOptional ? b.Choice(close, b.Sequence(comma, ws, current)) : b.Sequence(comma, ws, current);
        }
        var body = next is not { } first ? close : allOptional ? b.Choice(close, first) : first;
        return b.Sequence(b.Literal("{"), ws, body);
    }

    private GrammarSymbol CompileArray(Dictionary<string, JsonElement> keywords, string pointer)
    {
        var prefix = new List<JsonElement>();
        bool itemsAllowed = true;
        if (keywords.TryGetValue("prefixItems", out var prefixItems))
        {
            if (prefixItems.ValueKind != JsonValueKind.Array) throw Invalid("prefixItems", pointer, "must be an array of schemas");
            // An item whose schema is false cannot be present, nor any after it.
            prefix.AddRange(prefixItems.EnumerateArray().TakeWhile(s => s.ValueKind != JsonValueKind.False));
            itemsAllowed = prefix.Count == prefixItems.GetArrayLength();
        }
        JsonElement? itemSchema = null;
        if (keywords.TryGetValue("items", out var items))
        {
            if (items.ValueKind == JsonValueKind.Array) throw Unsupported("items", pointer, "as an array (a draft 2019-09 tuple); use 'prefixItems'");
            if (items.ValueKind == JsonValueKind.False) itemsAllowed = false;
            else itemSchema = items;
        }
        int min = Count(keywords, pointer, "minItems") ?? 0;
        int? max = Count(keywords, pointer, "maxItems");
        int n = prefix.Count;
        if (!itemsAllowed) max = max is null ? n : Math.Min(max.Value, n);
        if (max < min) throw new GrammarException($"json_schema: no array satisfies 'minItems' {min} {Where(pointer)} (at most {max} items may appear)");
        int least = Math.Max(min, Math.Min(n, max ?? n));
        bool moreThanPrefix = itemsAllowed && (max is null || max > n);
        var b = _json.Builder;
        var ws = _json.Whitespace;
        var (prefixSymbols, item) = Inside(() =>
        {
            var symbols = new List<GrammarSymbol>();
            for (int i = 0; i < n && (max is null || i < max); i++) symbols.Add(Compile(prefix[i], $"{pointer}/prefixItems/{i}"));
            GrammarSymbol? rest = moreThanPrefix ? itemSchema is { } s ? Compile(s, Child(pointer, "items")) : _json.AnyValue : null;
            return (symbols, rest);
        });
        if (max == 0) return b.Sequence(b.Literal("["), ws, b.Literal("]"));
        if (n == 0) return Sized(max is null ? "minItems" : "maxItems", pointer, () => _json.ArrayOf(item!.Value, min, max));
        var close = b.Literal("]");
        var comma = b.Literal(",");
        // tail: i elements and the whitespace after them were written; the rest of the array and "]".
        var tail = moreThanPrefix
            ? Sized("maxItems", pointer, () => b.Sequence(b.Repeat(b.Sequence(comma, ws, item!.Value, ws), Math.Max(0, least - n), max - n), close))
            : close;
        for (int i = n - 1; i >= 1; i--)
        {
            var options = new List<GrammarSymbol>();
            if (i >= least) options.Add(close);
            if (max is null || i < max) options.Add(b.Sequence(comma, ws, prefixSymbols[i], ws, tail));
            tail = b.Choice([.. options]);
        }
        var first = b.Sequence(prefixSymbols[0], ws, tail);
        return b.Sequence(b.Literal("["), ws, least == 0 ? b.Choice(close, first) : first);
    }
}
