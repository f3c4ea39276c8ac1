// How an "auto" chat reply's tool calls are read (vLLM's --tool-call-parser).
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
}
