// Chat templates rendered by Estuary equal Jinja2's own renderings (Data/chat_templates.json, written by
// scripts/chat-template-references.py with Hugging Face's environment), byte for byte, errors included.
using System.Text.Json;
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization.Tests.Templates;

public class ChatTemplateReferenceTests
{
    private static readonly JsonDocument s_reference =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "chat_templates.json")));

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var c in s_reference.RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("template").GetString()!, c.GetProperty("conversation").GetString()!, c.GetProperty("add_generation_prompt").GetBoolean());
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersAsJinja2Does(string templateName, string conversation, bool addGenerationPrompt)
    {
        var root = s_reference.RootElement;
        var expected = root.GetProperty("cases").EnumerateArray().Single(c =>
            c.GetProperty("template").GetString() == templateName && c.GetProperty("conversation").GetString() == conversation
            && c.GetProperty("add_generation_prompt").GetBoolean() == addGenerationPrompt);
        var template = ChatTemplate.Parse(root.GetProperty("templates").GetProperty(templateName).GetString()!);
        var messages = root.GetProperty("conversations").GetProperty(conversation).EnumerateArray().Select(Message).ToList();
        var tools = root.GetProperty("tools").GetRawText(); // every rendering gets the tools (templates without tool use ignore them)
        if (expected.TryGetProperty("error", out var error))
        {
            var e = Assert.Throws<TemplateException>(() => template.Render(messages, "<s>", "</s>", addGenerationPrompt, tools));
            Assert.Equal(error.GetString(), e.Message);
        }
        else Assert.Equal(expected.GetProperty("rendered").GetString(), template.Render(messages, "<s>", "</s>", addGenerationPrompt, tools));
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
}
