// The in-process IChatClient with a reasoning parser, on the scripted model whose greedy reply is "<think>Let me</think>\nFour":
// the reasoning comes back as TextReasoningContent (streamed and not) and the text is the content after it; a structured
// output applies after </think>; chat_template_kwargs reach the template (thinking off: no reasoning); an assistant
// message's reasoning reaches the template.
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Testing;
using Estuary.Tokenization;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Estuary.AI.Tests;

public sealed class ReasoningChatClientTests : IDisposable
{
    private const string Template =
        "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>" +
        "{% if m.reasoning_content is defined %}<think>{{ m.reasoning_content }}</think>{% endif %}{{ m['content'] }}<|eot_id|>{% endfor %}" +
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>" +
        "{% if enable_thinking is defined and enable_thinking is false %}<think></think>{% endif %}{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-ai-reasoning-").FullName;
    private readonly EstuaryChatClient _client;

    public ReasoningChatClientTests()
    {
        var model = ScriptedTestModel.Write(Path.Combine(_dir, "model"), Template, ["<think>", "</think>"], tok =>
            [[tok.PieceToId("<|end_header_id|>")!.Value, tok.PieceToId("<think>")!.Value, .. tok.Encode("Let me", false),
              tok.PieceToId("</think>")!.Value, .. tok.Encode("\nFour", false)]]);
        _client = EstuaryChatClient.Load(model, new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }, reasoningParser: ReasoningParser.Qwen3);
    }

    public void Dispose()
    {
        _client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static ChatOptions Greedy(AdditionalPropertiesDictionary? extra = null) => new() { Temperature = 0, MaxOutputTokens = 40, AdditionalProperties = extra };

    private static string Reasoning(IEnumerable<AIContent> contents) => string.Concat(contents.OfType<TextReasoningContent>().Select(r => r.Text));

    [Fact]
    public async Task The_reasoning_comes_back_as_reasoning_content_streamed_and_not()
    {
        var response = await _client.GetResponseAsync("2+2?", Greedy());
        Assert.Equal("\nFour", response.Text);
        Assert.Equal("Let me", Reasoning(response.Messages.SelectMany(m => m.Contents)));
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _client.GetStreamingResponseAsync("2+2?", Greedy())) updates.Add(update);
        Assert.Equal("\nFour", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal("Let me", Reasoning(updates.SelectMany(u => u.Contents)));
        // The reasoning goes out before the text.
        int lastReasoning = updates.FindLastIndex(u => u.Contents.OfType<TextReasoningContent>().Any());
        int firstText = updates.FindIndex(u => u.Text.Length > 0);
        Assert.True(lastReasoning < firstText, $"reasoning at {lastReasoning}, text from {firstText}");

        // Thinking turned off through the template: no reasoning, the same text.
        var off = await _client.GetResponseAsync("2+2?", Greedy(new() { ["chat_template_kwargs"] = new Dictionary<string, object?> { ["enable_thinking"] = false } }));
        Assert.Equal("\nFour", off.Text);
        Assert.Equal("", Reasoning(off.Messages.SelectMany(m => m.Contents)));
    }

    [Fact]
    public async Task ChatOptions_reasoning_turns_thinking_off_hides_it_and_usage_counts_it()
    {
        var tok = _client.Engine.Engine.Tokenizer;
        var counted = await _client.GetResponseAsync("2+2?", Greedy());
        Assert.Equal(2 + tok.Encode("Let me", false).Length, counted.Usage!.ReasoningTokenCount); // <think>, "Let me", </think>

        // Effort None: Qwen3's template gets enable_thinking false (it closes an empty reasoning), so the reply is all answer.
        var off = await _client.GetResponseAsync("2+2?", new ChatOptions { Temperature = 0, MaxOutputTokens = 40, Reasoning = new ReasoningOptions { Effort = ReasoningEffort.None } });
        Assert.Equal(("\nFour", ""), (off.Text, Reasoning(off.Messages.SelectMany(m => m.Contents))));
        Assert.Equal(0, off.Usage!.ReasoningTokenCount);

        // Output None: the model still thinks (and it is counted), but the reasoning is not returned.
        var hidden = await _client.GetResponseAsync("2+2?", new ChatOptions { Temperature = 0, MaxOutputTokens = 40, Reasoning = new ReasoningOptions { Output = ReasoningOutput.None } });
        Assert.Equal(("\nFour", ""), (hidden.Text, Reasoning(hidden.Messages.SelectMany(m => m.Contents))));
        Assert.Equal(counted.Usage.ReasoningTokenCount, hidden.Usage!.ReasoningTokenCount);

        // DeepSeek-R1's reasoning cannot be turned off: refused by name.
        using var r1 = new EstuaryChatClient(_client.Engine, ChatFormats.ForModel(Path.Combine(_dir, "model"), tok), "r1", reasoningParser: ReasoningParser.DeepSeekR1);
        var refused = Assert.Throws<NotSupportedException>(() => r1.GetStreamingResponseAsync("2+2?", new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.None } }));
        Assert.Contains("Reasoning.Effort None", refused.Message);
    }

    [Fact]
    public async Task A_structured_output_applies_after_the_reasoning()
    {
        var response = await _client.GetResponseAsync("2+2?", Greedy(new() { ["structured_output"] = StructuredOutput.Regex("[0-9]!") }));
        Assert.Equal("Let me", Reasoning(response.Messages.SelectMany(m => m.Contents)));
        Assert.Matches("^[0-9]!$", response.Text);
    }

    [Fact]
    public async Task An_assistant_messages_reasoning_reaches_the_template()
    {
        var tok = _client.Engine.Engine.Tokenizer;
        async Task<long> PromptTokens(AiChatMessage assistant)
        {
            var response = await _client.GetResponseAsync([new(ChatRole.User, "2+2?"), assistant, new(ChatRole.User, "and 3+3?")], Greedy());
            return response.Usage!.InputTokenCount!.Value;
        }
        long without = await PromptTokens(new AiChatMessage(ChatRole.Assistant, "4"));
        long with = await PromptTokens(new AiChatMessage(ChatRole.Assistant, [new TextReasoningContent("add"), new TextContent("4")]));
        Assert.Equal(without + 2 + tok.Encode("add", false).Length, with); // <think>add</think>
    }

    [Fact]
    public void Bad_settings_are_refused_by_name()
    {
        var kwargs = Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi", Greedy(new() { ["chat_template_kwargs"] = "enable_thinking" })));
        Assert.Contains("AdditionalProperties['chat_template_kwargs'] must be a dictionary", kwargs.Message);
        var reserved = Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi",
            Greedy(new() { ["chat_template_kwargs"] = new Dictionary<string, object?> { ["messages"] = 1 } })));
        Assert.Contains("messages", reserved.Message);

        using var stories = EstuaryChatClient.Load(Path.Combine(AppContext.BaseDirectory, "models", "stories260k"), new EngineConfig { NumThreads = 1, NumKvBlocks = 16 });
        var builtIn = Assert.Throws<ArgumentException>(() => stories.GetStreamingResponseAsync("hi",
            Greedy(new() { ["chat_template_kwargs"] = new Dictionary<string, object?> { ["x"] = 1 } })));
        Assert.Contains("needs a chat template", builtIn.Message);
        var noTags = Assert.Throws<ArgumentException>(() => new EstuaryChatClient(stories.Engine, ChatFormats.ForModel(
            Path.Combine(AppContext.BaseDirectory, "models", "stories260k"), stories.Engine.Engine.Tokenizer), "s", reasoningParser: ReasoningParser.DeepSeekR1));
        Assert.Contains("needs '<think>' as one token", noTags.Message);
    }
}
