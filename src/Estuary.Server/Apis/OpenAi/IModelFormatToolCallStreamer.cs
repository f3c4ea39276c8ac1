// What the streamers of tool calls written in a model's own format (Hermes's <tool_call> blocks, Mistral's [TOOL_CALLS]
// array) have in common: pieces of the reply in, content and whole calls out.
// Invariant: for any split of a reply, what comes out adds up to the format's reading of the whole reply.
namespace Estuary.Server.Apis.OpenAi;

internal interface IModelFormatToolCallStreamer
{
    /// <summary>Calls sent so far.</summary>
    int CallCount { get; }

    /// <summary>The content and whole calls the next piece of the reply lets out (<paramref name="last"/>: the reply ended).</summary>
    (string Content, List<ToolCallDelta> Calls) Add(string text, bool last);
}
