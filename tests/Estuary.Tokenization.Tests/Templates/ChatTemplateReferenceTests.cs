// Chat templates rendered by Estuary equal Jinja2's own renderings (Data/chat_templates.json, written by
// scripts/chat-template-references.py with transformers' environment), byte for byte, raise_exception's errors included
// (where Jinja itself fails, as comparing int with str, the case records a "failure" and Estuary must fail too). Each case names a
// context: the tools and other template variables it passes, and the fixed local time strftime_now reads.
using System.Globalization;
using System.Text.Json;
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization.Tests.Templates;

public class ChatTemplateReferenceTests
{
    private static readonly JsonDocument s_reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "chat_templates.json")));

    public static TheoryData<string, string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, string, bool>();
        foreach (var c in s_reference.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("template").GetString()!, c.GetProperty("conversation").GetString()!, c.GetProperty("context").GetString()!,
                c.GetProperty("add_generation_prompt").GetBoolean());
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersAsJinja2Does(string templateName, string conversation, string contextName, bool addGenerationPrompt)
    {
        var root = s_reference.RootElement;
        var expected = root.GetProperty("cases").EnumerateArray().Single(c =>
            c.GetProperty("template").GetString() == templateName && c.GetProperty("conversation").GetString() == conversation
            && c.GetProperty("context").GetString() == contextName && c.GetProperty("add_generation_prompt").GetBoolean() == addGenerationPrompt);
        var template = ChatTemplate.Parse(root.GetProperty("templates").GetProperty(templateName).GetString()!);
        var context = root.GetProperty("contexts").GetProperty(contextName);
        var clock = new FixedClock(DateTime.Parse(context.TryGetProperty("now", out var now) ? now.GetString()! : root.GetProperty("now").GetString()!,
            CultureInfo.InvariantCulture));
        var turns = root.GetProperty("conversations").GetProperty(conversation);
        string bos = expected.GetProperty("bos_token").GetString()!, eos = expected.GetProperty("eos_token").GetString()!;

        Func<string> render;
        var variables = context.GetProperty("variables");
        if (turns.EnumerateArray().All(m => m.GetProperty("content").ValueKind == JsonValueKind.String))
        {
            // Text turns go the way the server sends them: ChatMessages, the tools as JSON text, the other variables as values.
            var messages = turns.EnumerateArray().Select(Message).ToList();
            string? tools = variables.TryGetProperty("tools", out var t) ? t.GetRawText() : null;
            var extra = variables.EnumerateObject().Where(p => p.Name != "tools").ToDictionary(p => p.Name, p => ChatTemplate.FromJson(p.Value.GetRawText()));
            render = () => template.Render(messages, bos, eos, addGenerationPrompt, tools, extra, clock);
        }
        else
        {
            // Content that is a mapping or a list of parts: the messages as template values, as transformers receives them.
            var all = (Dictionary<string, object?>)ChatTemplate.FromJson(variables.GetRawText())!;
            all.TryAdd("tools", null);
            all["documents"] = null;
            all["messages"] = ((List<object?>)ChatTemplate.FromJson(turns.GetRawText())!).Select(WithParsedArguments).ToList();
            all["add_generation_prompt"] = addGenerationPrompt;
            all["bos_token"] = bos;
            all["eos_token"] = eos;
            render = () => template.Render(all, clock);
        }
        if (expected.TryGetProperty("failure", out _)) // Jinja's own TypeError, UndefinedError…: Estuary fails too, in its own words
            Assert.DoesNotContain("is not supported", Assert.Throws<TemplateException>(() => render()).Message);
        else if (expected.TryGetProperty("error", out var error))
            Assert.Equal(error.GetString(), Assert.Throws<TemplateException>(() => render()).Message);
        else Assert.Equal(expected.GetProperty("rendered").GetString(), render());
    }

    // An OpenAI-style message: tool calls with their arguments as JSON text, tool results with the id they answer.
    private static ChatMessage Message(JsonElement m) => new(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)
    {
        ToolCalls = m.TryGetProperty("tool_calls", out var calls)
            ? [.. calls.EnumerateArray().Select(c => new ChatToolCall(c.GetProperty("id").GetString()!, c.GetProperty("function").GetProperty("name").GetString()!,
                c.GetProperty("function").GetProperty("arguments").GetString()!))]
            : null,
        ToolCallId = m.TryGetProperty("tool_call_id", out var id) ? id.GetString() : null,
    };

    // A message as vLLM hands it to a template: tool-call arguments parsed from their JSON text.
    private static object? WithParsedArguments(object? message)
    {
        if (message is Dictionary<string, object?> m && m.TryGetValue("tool_calls", out var calls) && calls is List<object?> list)
            foreach (var call in list.OfType<Dictionary<string, object?>>())
                if (call["function"] is Dictionary<string, object?> f && f["arguments"] is string arguments) f["arguments"] = ChatTemplate.FromJson(arguments);
        return message;
    }

    /// <summary>A clock stopped at <paramref name="localTime"/>, in a UTC local zone.</summary>
    internal sealed class FixedClock(DateTime localTime) : TimeProvider
    {
        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

        public override DateTimeOffset GetUtcNow() => new(DateTime.SpecifyKind(localTime, DateTimeKind.Utc));
    }
}
