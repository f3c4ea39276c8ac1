// The grammar of StructuredOutputKind.JsonSchemaOrText: leading whitespace, then either JSON valid against the schema (and
// nothing after it), or free text whose first character is one no such JSON begins with. The first bytes of the schema's
// JSON are found by stepping its own automaton over every byte, so the two branches never overlap on a first character:
// whether a reply is JSON is decided by that character alone (what a server streaming it as text or as calls relies on).
using System.Text.Json;

namespace Estuary.Engine.Structured;

internal static class JsonOrTextGrammar
{
    private static readonly (int Lo, int Hi)[] Whitespace = [(' ', ' '), ('\t', '\n'), ('\r', '\r')];

    /// <summary>The grammar for <paramref name="schema"/>.</summary>
    /// <exception cref="GrammarException">the schema is invalid or uses something that cannot be enforced.</exception>
    public static Grammar Build(JsonElement schema)
    {
        var compiler = new JsonSchemaCompiler(schema);
        var json = compiler.BuildRoot();
        var b = compiler.Builder;
        // The schema alone as a grammar first (Grammar copies the rules into flat arrays, so the builder goes on after it).
        var jsonStarts = FirstBytes(b.Build(json));
        var leading = b.ZeroOrMore(b.CodePoints(Whitespace));
        // JSON begins with an ASCII character, so excluding those bytes as code points excludes exactly them.
        var excluded = new List<(int Lo, int Hi)>(Whitespace) { (0xD800, 0xDFFF) };
        for (int v = 0; v < 128; v++)
            if (jsonStarts[v]) excluded.Add((v, v));
        var anyCharacter = b.CodePointsExcept([(0xD800, 0xDFFF)]);
        var text = b.Optional(b.Sequence(b.CodePointsExcept(excluded), b.ZeroOrMore(anyCharacter)));
        return b.Build(b.Sequence(leading, b.Choice(json, text)));
    }

    /// <summary>Which bytes a sentence of <paramref name="grammar"/> may begin with.</summary>
    private static bool[] FirstBytes(Grammar grammar)
    {
        var automaton = new GrammarAutomaton(grammar);
        var first = new bool[256];
        for (int v = 0; v < 256; v++)
            first[v] = !automaton.Step(automaton.Initial, (byte)v).IsDead;
        for (int v = 128; v < 256; v++)
            if (first[v]) throw new GrammarException("json_schema: JSON that begins with a non-ASCII byte cannot be told from text");
        return first;
    }
}
