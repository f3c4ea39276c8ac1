// How an "auto" chat reply's tool calls are read (vLLM's --tool-call-parser), and the parsers' names on the command line.
namespace Estuary.Server;

/// <summary>The reading of tool calls under tool_choice "auto".</summary>
public enum ToolCallParser
{
    /// <summary>Estuary's own: the reply is constrained to free text, or a JSON array of calls (or one bare call object).</summary>
    Constrained,

    /// <summary>Hermes's format: the reply is the model's own, and &lt;tool_call&gt;…&lt;/tool_call&gt; blocks in it are the calls.</summary>
    Hermes,

    /// <summary>
    /// Mistral's format: the reply is the model's own, and [TOOL_CALLS] followed by a JSON array of {"name", "arguments"} are
    /// the calls (ids of nine letters and digits, as Mistral's templates demand).
    /// </summary>
    Mistral,

    /// <summary>
    /// Llama 3.x's JSON format: the reply is the model's own, and it is calls when it is nothing but {"name", "parameters"}
    /// objects separated by ";" (after an optional &lt;|python_tag|&gt;).
    /// </summary>
    Llama3Json,

    /// <summary>
    /// The pythonic format (Llama 3.2, Llama 4): the reply is the model's own, and it is calls when it is nothing but a Python
    /// list of calls with keyword arguments, [f(a=1), g(b="x")] (optionally between &lt;|python_start|&gt; and &lt;|python_end|&gt;).
    /// </summary>
    Pythonic,
}

/// <summary>The vLLM names of the tool-call parsers.</summary>
public static class ToolCallParserNames
{
    /// <summary>The names --tool-call-parser takes, as vLLM spells them (llama4_json and llama4_pythonic are vLLM's aliases).</summary>
    public static readonly IReadOnlyDictionary<string, ToolCallParser> ByName = new Dictionary<string, ToolCallParser>(StringComparer.Ordinal)
    {
        ["hermes"] = ToolCallParser.Hermes,
        ["mistral"] = ToolCallParser.Mistral,
        ["llama3_json"] = ToolCallParser.Llama3Json,
        ["llama4_json"] = ToolCallParser.Llama3Json,
        ["pythonic"] = ToolCallParser.Pythonic,
        ["llama4_pythonic"] = ToolCallParser.Pythonic,
    };

    /// <summary>The parser's name (the first of its names).</summary>
    public static string Name(this ToolCallParser parser) => parser == ToolCallParser.Constrained
        ? "constrained"
        : ByName.First(p => p.Value == parser).Key;
}
