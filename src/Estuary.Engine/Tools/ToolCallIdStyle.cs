// How tool call ids look: OpenAI's ("call_" and 24 characters), or nine letters and digits, which Mistral's chat templates
// demand of every call they render back (they raise otherwise, as vLLM's mistral tool parser knows).
namespace Estuary.Engine.Tools;

/// <summary>The shape of new tool call ids.</summary>
public enum ToolCallIdStyle
{
    /// <summary>"call_" and 24 hexadecimal digits, as OpenAI's look.</summary>
    OpenAi,

    /// <summary>Nine letters and digits, what Mistral's chat templates accept.</summary>
    NineAlphanumeric,
}
