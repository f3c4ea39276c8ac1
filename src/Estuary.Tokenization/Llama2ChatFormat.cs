// Llama 2 chat prompt construction, equal to Meta's Llama.chat_completion: the system prompt folded into the first
// user message inside <<SYS>> tags, each [INST] round wrapped in BOS … EOS, the last user message left open.
// Invariant: roles must alternate user/assistant (after an optional system) and end with a user message.
namespace Estuary.Tokenization;

/// <summary>The Llama 2 chat template: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n{sys}\n&lt;&lt;/SYS&gt;&gt;\n\n{user} [/INST] {answer} &lt;/s&gt;…</c>.</summary>
public sealed class Llama2ChatFormat : IChatFormat
{
    private const string BeginInst = "[INST]";
    private const string EndInst = "[/INST]";
    private const string BeginSys = "<<SYS>>\n";
    private const string EndSys = "\n<</SYS>>\n\n";

    private readonly TextTokenizer _tokenizer;

    /// <summary>Creates the format for a Llama 2 tokenizer (its BOS and EOS ids frame every round).</summary>
    public Llama2ChatFormat(TextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.BosId < 0 || tokenizer.EosId < 0) throw new ArgumentException("the Llama 2 chat format needs BOS and EOS pieces", nameof(tokenizer));
        _tokenizer = tokenizer;
    }

    /// <inheritdoc/>
    public string Name => "llama2";

    /// <inheritdoc/>
    /// <remarks>Meta's code does not truncate; <paramref name="maxNewTokens"/> is not used and the caller checks the context length.</remarks>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens)
    {
        ChatRoles.Validate(messages, nameof(messages));
        var dialog = new List<ChatMessage>(messages);
        if (dialog[0].Role == ChatRoles.System)
        {
            if (dialog.Count < 2) throw new ArgumentException("a system message must be followed by a user message", nameof(messages));
            dialog[1] = dialog[1] with { Content = BeginSys + dialog[0].Content + EndSys + dialog[1].Content };
            dialog.RemoveAt(0);
        }
        for (var i = 0; i < dialog.Count; i++)
        {
            var expected = i % 2 == 0 ? ChatRoles.User : ChatRoles.Assistant;
            if (dialog[i].Role != expected)
                throw new ArgumentException($"Llama 2 chat needs an optional system message, then user and assistant alternating starting with user; message {i} is '{dialog[i].Role}'", nameof(messages));
        }
        if (dialog[^1].Role != ChatRoles.User)
            throw new ArgumentException($"the last message must be from the user, got '{dialog[^1].Role}'", nameof(messages));

        var ids = new List<int>();
        for (var i = 0; i + 1 < dialog.Count; i += 2)
        {
            ids.Add(_tokenizer.BosId);
            ids.AddRange(_tokenizer.Encode($"{BeginInst} {PyStrip(dialog[i].Content)} {EndInst} {PyStrip(dialog[i + 1].Content)} ", addSpecialTokens: false));
            ids.Add(_tokenizer.EosId);
        }
        ids.Add(_tokenizer.BosId);
        ids.AddRange(_tokenizer.Encode($"{BeginInst} {PyStrip(dialog[^1].Content)} {EndInst}", addSpecialTokens: false));
        return [.. ids];
    }

    // Python's str.strip(): also removes U+001C..U+001F, which .NET does not count as white space.
    private static string PyStrip(string s) => Templates.TemplateMethods.PyStrip(s, start: true, end: true);
}
