// How a chat request uses its tools (OpenAI's tool_choice).
namespace Estuary.Engine.Tools;

/// <summary>How a reply may use the tools.</summary>
public enum ToolCallMode
{
    /// <summary>The model answers in text, or makes calls with a reply that is an array of calls (tool_choice "auto").</summary>
    Auto,
    /// <summary>One or more calls of the tools must be made: the reply is an array of calls (tool_choice "required").</summary>
    Required,
    /// <summary>One named function must be called: the reply is its arguments (tool_choice naming a function).</summary>
    Named,
    /// <summary>The tools are shown to the model but not called: the reply is text (tool_choice "none").</summary>
    None,
}
