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
        var messages = root.GetProperty("conversations").GetProperty(conversation).EnumerateArray()
            .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList();
        if (expected.TryGetProperty("error", out var error))
        {
            var e = Assert.Throws<TemplateException>(() => template.Render(messages, "<s>", "</s>", addGenerationPrompt));
            Assert.Equal(error.GetString(), e.Message);
        }
        else Assert.Equal(expected.GetProperty("rendered").GetString(), template.Render(messages, "<s>", "</s>", addGenerationPrompt));
    }
}
