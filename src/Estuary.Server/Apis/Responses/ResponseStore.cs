// The Responses API's store (--enable-responses-api-store): finished responses kept in memory, so GET /v1/responses/{id}
// returns them (and GET …/input_items their input items) and previous_response_id continues their conversation. Bounded: past
// its capacity the oldest is dropped.
// Invariant: thread-safe; a stored conversation is the turns of the response's input (after those of the responses it
// continued), then its reply as an assistant turn; instructions are not part of it (OpenAI does not carry them over).
using System.Text.Json.Nodes;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.Responses;

/// <summary>A stored response: the object, its conversation so far, and its own input items (ids given).</summary>
internal sealed record StoredResponse(ResponseObject Response, IReadOnlyList<ChatMessage> Conversation, IReadOnlyList<JsonObject> InputItems);

internal sealed class ResponseStore(int capacity)
{
    private readonly Dictionary<string, StoredResponse> _byId = [];
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    /// <summary>How many responses are kept at most.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public void Add(StoredResponse stored)
    {
        lock (_lock)
        {
            if (_byId.TryAdd(stored.Response.Id, stored)) _order.Enqueue(stored.Response.Id);
            while (_byId.Count > Capacity) _byId.Remove(_order.Dequeue());
            // Removed ids stay queued until their turn; past twice the capacity the queue keeps only the stored ones.
            if (_order.Count > 2 * Capacity)
            {
                var kept = _order.Where(_byId.ContainsKey).ToList();
                _order.Clear();
                foreach (var id in kept) _order.Enqueue(id);
            }
        }
    }

    public StoredResponse? Get(string id)
    {
        lock (_lock) return _byId.GetValueOrDefault(id);
    }

    /// <summary>Removes a response; false if it was not stored (or already dropped).</summary>
    public bool Remove(string id)
    {
        lock (_lock) return _byId.Remove(id);
    }
}
