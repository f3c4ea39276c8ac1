// Streams a response as the Responses API's server-sent events: each chat delta of the reply opens, extends and closes
// output items (reasoning → reasoning_text deltas; content → a message with one output_text part; tool calls → one
// function_call item each, arguments as deltas), every event numbered, and collects the finished items for the final
// response object.
// Invariant: an item is added, extended, then done, in output order, and never reopened; Items holds exactly the items
// whose output_item.done went out.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Server.Apis.OpenAi;
using Estuary.Server.Http;

namespace Estuary.Server.Apis.Responses;

internal sealed class ResponseEventStream(SseWriter sse, CancellationToken cancellationToken)
{
    private enum Kind { None, Reasoning, Message, FunctionCall }

    private readonly List<object> _items = [];
    private readonly StringBuilder _text = new(); // the open item's text or arguments
    private Kind _open;
    private string _itemId = "";
    private string _callId = "", _callName = "";
    private int _sequence;

    /// <summary>The items closed so far, in output order.</summary>
    public IReadOnlyList<object> Items => _items;

    /// <summary>Writes one event of <paramref name="type"/> (its "type" and "sequence_number" are set here).</summary>
    public Task WriteAsync(string type, JsonObject payload)
    {
        payload["type"] = type;
        payload["sequence_number"] = _sequence++;
        return sse.WriteEventAsync(type, payload, cancellationToken);
    }

    /// <summary>The events of the next piece of the reply.</summary>
    public async Task AddAsync(ChatDelta delta)
    {
        if (delta.Reasoning is { Length: > 0 } reasoning)
        {
            if (_open != Kind.Reasoning) await OpenAsync(Kind.Reasoning, "rs", new ReasoningItem("", "in_progress", []));
            _text.Append(reasoning);
            await WriteAsync("response.reasoning_text.delta", Located(new JsonObject { ["content_index"] = 0, ["delta"] = reasoning }));
        }
        if (delta.Content is { Length: > 0 } content)
        {
            if (_open != Kind.Message)
            {
                await OpenAsync(Kind.Message, "msg", new ResponseMessageItem("", "in_progress", []));
                await WriteAsync("response.content_part.added", Located(new JsonObject { ["content_index"] = 0, ["part"] = Node(new OutputTextPart("")) }));
            }
            _text.Append(content);
            await WriteAsync("response.output_text.delta", Located(new JsonObject { ["content_index"] = 0, ["delta"] = content, ["logprobs"] = new JsonArray() }));
        }
        foreach (var call in delta.ToolCalls ?? [])
        {
            if (call.Id is { } callId)
            {
                (_callId, _callName) = (callId, call.Function.Name ?? "");
                await OpenAsync(Kind.FunctionCall, "fc", new FunctionCallItem("", callId, _callName, "", "in_progress"));
            }
            if (_open == Kind.FunctionCall && call.Function.Arguments is { Length: > 0 } arguments)
            {
                _text.Append(arguments);
                await WriteAsync("response.function_call_arguments.delta", Located(new JsonObject { ["delta"] = arguments }));
            }
        }
    }

    /// <summary>Closes the open item, if any; <paramref name="status"/> is its status ("completed", or "incomplete" when cut).</summary>
    public async Task CloseAsync(string status = "completed")
    {
        var text = _text.ToString();
        switch (_open)
        {
            case Kind.Reasoning:
                await WriteAsync("response.reasoning_text.done", Located(new JsonObject { ["content_index"] = 0, ["text"] = text }));
                await DoneAsync(new ReasoningItem(_itemId, status, [new ReasoningTextPart(text)]));
                break;
            case Kind.Message:
                await WriteAsync("response.output_text.done", Located(new JsonObject { ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray() }));
                await WriteAsync("response.content_part.done", Located(new JsonObject { ["content_index"] = 0, ["part"] = Node(new OutputTextPart(text)) }));
                await DoneAsync(new ResponseMessageItem(_itemId, status, [new OutputTextPart(text)]));
                break;
            case Kind.FunctionCall:
                await WriteAsync("response.function_call_arguments.done", Located(new JsonObject { ["name"] = _callName, ["arguments"] = text }));
                await DoneAsync(new FunctionCallItem(_itemId, _callId, _callName, text, status));
                break;
        }
        _open = Kind.None;
        _text.Clear();
    }

    private async Task OpenAsync(Kind kind, string idPrefix, object emptyItem)
    {
        await CloseAsync();
        (_open, _itemId) = (kind, ResponseIds.New(idPrefix));
        var item = Node(emptyItem);
        item["id"] = _itemId;
        await WriteAsync("response.output_item.added", new JsonObject { ["output_index"] = _items.Count, ["item"] = item });
    }

    private async Task DoneAsync(object item)
    {
        await WriteAsync("response.output_item.done", new JsonObject { ["output_index"] = _items.Count, ["item"] = Node(item) });
        _items.Add(item);
    }

    // The open item's place: its id and output index first, as OpenAI orders them.
    private JsonObject Located(JsonObject fields)
    {
        var located = new JsonObject { ["item_id"] = _itemId, ["output_index"] = _items.Count };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            located[name] = value;
        }
        return located;
    }

    public static JsonObject Node(object value) => JsonSerializer.SerializeToNode(value, value.GetType(), ApiJson.Options)!.AsObject();
}
