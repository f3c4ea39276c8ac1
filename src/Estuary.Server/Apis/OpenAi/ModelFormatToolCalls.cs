// The tool-call parsers that read a model's own format (vLLM's --tool-call-parser hermes, mistral, llama3_json, pythonic):
// the reading of a finished reply and the streamer of one, per parser.
// Invariant: for every parser, Streamer's pieces add up to TryParse of the whole reply.
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal static class ModelFormatToolCalls
{
    /// <summary>The content and calls of a finished reply in <paramref name="parser"/>'s format, or null when it is content alone.</summary>
    public static (string Content, List<(string Name, string Arguments)> Calls)? TryParse(ToolCallParser parser, string text) => parser switch
    {
        ToolCallParser.Hermes => HermesToolCalls.TryParse(text),
        ToolCallParser.Mistral => MistralToolCalls.TryParse(text),
        ToolCallParser.Llama3Json => Llama3JsonToolCalls.TryParse(text),
        ToolCallParser.Pythonic => PythonicToolCalls.TryParse(text),
        _ => throw new ArgumentOutOfRangeException(nameof(parser), parser, "not a model-format parser"),
    };

    /// <summary>A streamer of one reply in <paramref name="parser"/>'s format.</summary>
    public static IModelFormatToolCallStreamer Streamer(ToolCallParser parser, Func<string> newCallId) => parser switch
    {
        ToolCallParser.Hermes => new HermesToolCallStreamer(newCallId),
        ToolCallParser.Mistral => new MistralToolCallStreamer(newCallId),
        ToolCallParser.Llama3Json => new WholeReplyToolCallStreamer(Llama3JsonToolCalls.MayBeCalls, Llama3JsonToolCalls.TryParse, newCallId),
        ToolCallParser.Pythonic => new WholeReplyToolCallStreamer(PythonicToolCalls.MayBeCalls, PythonicToolCalls.TryParse, newCallId),
        _ => throw new ArgumentOutOfRangeException(nameof(parser), parser, "not a model-format parser"),
    };
}
