// The Responses API's store (--enable-responses-api-store): finished responses kept in memory, so GET /v1/responses/{id}
// returns them and previous_response_id continues their conversation. Bounded: past its capacity the oldest is dropped.
// Invariant: thread-safe; a stored conversation is the turns of the response's input (after those of the responses it
// continued), then its reply as an assistant turn; instructions are not part of it (OpenAI does not carry them over).
using Estuary.Tokenization;

namespace Estuary.Server.Apis.Responses;

internal sealed class ResponseStore(int capacity)
{
    private readonly Dictionary<string, (ResponseObject Response, IReadOnlyList<ChatMessage> Conversation)> _byId = [];
    private readonly Queue<string> _order = new();
    private readonly Lock _lock = new();

    /// <summary>How many responses are kept at most.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public void Add(ResponseObject response, IReadOnlyList<ChatMessage> conversation)
    {
        lock (_lock)
        {
            if (_byId.TryAdd(response.Id, (response, conversation))) _order.Enqueue(response.Id);
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

    public bool TryGet(string id, out ResponseObject response, out IReadOnlyList<ChatMessage> conversation)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(id, out var entry))
            {
                (response, conversation) = entry;
                return true;
            }
        }
        (response, conversation) = (null!, []);
        return false;
    }

    /// <summary>Removes a response; false if it was not stored (or already dropped).</summary>
    public bool Remove(string id)
    {
        lock (_lock) return _byId.Remove(id);
    }
}
