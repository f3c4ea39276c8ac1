// Baichuan2-Chat prompt construction, equal to generation_utils.build_chat_input: user/assistant marker ids
// inserted as ids (never tokenized), newest rounds kept within the input budget, final left cut.
// Invariant: output length ≤ model_max_length - max_new_tokens; no EOS after assistant messages (as the official code).
namespace Estuary.Tokenization;

/// <summary>The Baichuan2-Chat template: <c>[system] ([195] user [196] assistant)* [195] user [196]</c>.</summary>
public sealed class Baichuan2ChatFormat : IChatFormat
{
    private readonly TextTokenizer _tokenizer;

    /// <summary>Creates the format for a tokenizer and the model's limits.</summary>
    /// <param name="tokenizer">The model's tokenizer; message contents are encoded with its BOS/EOS policy, as <c>tokenizer.encode</c>.</param>
    /// <param name="modelMaxLength">config.json <c>model_max_length</c> (prompt plus answer).</param>
    /// <param name="userTokenId">generation_config.json <c>user_token_id</c>.</param>
    /// <param name="assistantTokenId">generation_config.json <c>assistant_token_id</c>.</param>
    /// <param name="defaultMaxNewTokens">generation_config.json <c>max_new_tokens</c>, used when BuildPrompt gets 0.</param>
    public Baichuan2ChatFormat(TextTokenizer tokenizer, int modelMaxLength, int userTokenId = 195, int assistantTokenId = 196, int defaultMaxNewTokens = 2048)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelMaxLength);
        ArgumentOutOfRangeException.ThrowIfNegative(userTokenId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(userTokenId, tokenizer.VocabSize);
        ArgumentOutOfRangeException.ThrowIfNegative(assistantTokenId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(assistantTokenId, tokenizer.VocabSize);
        _tokenizer = tokenizer;
        ModelMaxLength = modelMaxLength;
        UserTokenId = userTokenId;
        AssistantTokenId = assistantTokenId;
        DefaultMaxNewTokens = defaultMaxNewTokens;
    }

    /// <inheritdoc/>
    public string Name => "baichuan2";

    /// <summary>Total length budget (prompt plus answer).</summary>
    public int ModelMaxLength { get; }

    /// <summary>Id placed before every user message.</summary>
    public int UserTokenId { get; }

    /// <summary>Id placed before every assistant message and at the end of a prompt awaiting an answer.</summary>
    public int AssistantTokenId { get; }

    /// <summary>Answer budget used when <see cref="BuildPrompt"/> is given 0 (Python's <c>max_new_tokens or default</c>).</summary>
    public int DefaultMaxNewTokens { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">maxNewTokens is negative or leaves no room for input.</exception>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens)
    {
        ChatRoles.Validate(messages, nameof(messages));
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (maxNewTokens == 0) maxNewTokens = DefaultMaxNewTokens;
        var maxInputTokens = ModelMaxLength - maxNewTokens;
        if (maxInputTokens <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxNewTokens), maxNewTokens, $"leaves no room for input within model_max_length {ModelMaxLength}");

        var first = 0;
        int[] systemTokens = [];
        if (messages[0].Role == ChatRoles.System)
        {
            systemTokens = _tokenizer.Encode(messages[0].Content);
            first = 1;
        }
        var maxHistoryTokens = maxInputTokens - systemTokens.Length;

        // Rounds start at every user message; walk them newest first, prepending whole rounds while they fit.
        var roundStarts = new List<int>();
        for (var i = first; i < messages.Count; i++)
        {
            if (roundStarts.Count == 0 || messages[i].Role == ChatRoles.User) roundStarts.Add(i);
        }
        var history = new List<int[]>();
        var historyLength = 0;
        for (var r = roundStarts.Count - 1; r >= 0; r--)
        {
            var end = r + 1 < roundStarts.Count ? roundStarts[r + 1] : messages.Count;
            var round = new List<int>();
            for (var i = roundStarts[r]; i < end; i++)
            {
                round.Add(messages[i].Role == ChatRoles.User ? UserTokenId : AssistantTokenId);
                round.AddRange(_tokenizer.Encode(messages[i].Content));
            }
            if (historyLength == 0 || historyLength + round.Count <= maxHistoryTokens)
            {
                history.Add([.. round]);
                historyLength += round.Count;
                if (historyLength < maxHistoryTokens) continue;
            }
            break;
        }

        var ids = new List<int>(systemTokens.Length + historyLength + 1);
        ids.AddRange(systemTokens);
        for (var i = history.Count - 1; i >= 0; i--) ids.AddRange(history[i]);
        if (messages[^1].Role != ChatRoles.Assistant) ids.Add(AssistantTokenId);
        // Left truncation may cut into the system prompt, exactly as input_tokens[-max_input_tokens:].
        var skip = Math.Max(0, ids.Count - maxInputTokens);
        return [.. ids.GetRange(skip, ids.Count - skip)];
    }
}
