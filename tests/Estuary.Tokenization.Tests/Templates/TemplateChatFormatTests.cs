// Chat templates as a chat format: a Llama 2 style template gives exactly the ids of the Llama 2 format (Meta's construction),
// special tokens written in the rendered text become their ids, and model folders pick their template (or refuse a bad one).
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Testing;
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization.Tests.Templates;

public sealed class TemplateChatFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ReferenceTemplate(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "chat_templates.json")));
        return doc.RootElement.GetProperty("templates").GetProperty(name).GetString()!;
    }

    [Fact]
    public void ALlama2StyleTemplateGivesTheIdsOfMetasConstruction()
    {
        var tok = TestData.ReferenceTokenizer("llama2");
        var template = new TemplateChatFormat(tok, ChatTemplate.Parse(ReferenceTemplate("inst")), "<s>", "</s>");
        var meta = new Llama2ChatFormat(tok);
        ChatMessage[][] conversations =
        [
            [new("user", "Hi")],
            [new("system", "Be kind."), new("user", "  Hi there "), new("assistant", "Hello!"), new("user", "Tell me a joke.")],
            [new("user", "你好"), new("assistant", " 你好!有什么可以帮你? "), new("user", "讲个故事")],
        ];
        foreach (var messages in conversations) Assert.Equal(meta.BuildPrompt(messages, 16), template.BuildPrompt(messages, 16));
        // The template's own rule is the error.
        var e = Assert.Throws<TemplateException>(() => template.BuildPrompt([new ChatMessage("assistant", "first")], 16));
        Assert.Equal("roles must alternate between user and assistant", e.Message);
    }

    [Fact]
    public void SpecialTokensWrittenInTheTextBecomeTheirIds()
    {
        var tok = TestData.ReferenceTokenizer("llama2");
        Assert.Equal([tok.BosId, .. tok.Encode("[INST] hi [/INST]", false)], tok.EncodeWithSpecialTokens("<s>[INST] hi [/INST]"));
        Assert.Equal([.. tok.Encode("a", false), tok.EosId, tok.BosId, .. tok.Encode("b", false)], tok.EncodeWithSpecialTokens("a</s><s>b"));
        Assert.Equal(tok.Encode("plain text, no specials", false), tok.EncodeWithSpecialTokens("plain text, no specials"));
        Assert.Equal(tok.Encode("<S> and <s", false), tok.EncodeWithSpecialTokens("<S> and <s"));
        Assert.Empty(tok.EncodeWithSpecialTokens(""));
    }

    [Fact]
    public void WithoutLegacyTextAfterASpecialTokenHasNoDummyPrefix()
    {
        // transformers' non-legacy Llama tokenizer: only the text's start gets the '▁'; text after "<s>" or "</s>" does not.
        var tok = TestData.ReferenceTokenizer("llama2");
        var withPrefix = tok.EncodeWithSpecialTokens("<s>[INST] hi", legacy: true);
        var without = tok.EncodeWithSpecialTokens("<s>[INST] hi", legacy: false);
        Assert.Equal("▁[", tok.IdToPiece(withPrefix[1]));
        Assert.Equal("[", tok.IdToPiece(without[1]));
        Assert.Equal(tok.Encode("a", false), tok.EncodeWithSpecialTokens("a", legacy: false)); // the start keeps its prefix
        Assert.Equal("[INST] hi", tok.Decode(without));

        CopyStories(c =>
        {
            c["chat_template"] = "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}";
            c["legacy"] = false;
        });
        var format = Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, TestData.FolderTokenizer("stories260k")));
        Assert.False(format.Legacy);
    }

    [Fact]
    public void TheLastMessageCanBeContinuedOrTheAssistantTurnLeftUnopened()
    {
        var tok = TestData.FolderTokenizer("stories260k");
        var format = new TemplateChatFormat(tok, ChatTemplate.Parse(ReferenceTemplate("im")), "<s>", "</s>");
        ChatMessage[] prefilled = [new("user", "Tell me a story"), new("assistant", " Once upon ")];
        Assert.Equal("<|im_start|>user\nTell me a story<|im_end|>\n<|im_start|>assistant\nOnce upon",
            format.Render(prefilled, addGenerationPrompt: false, continueFinalMessage: true));
        Assert.Equal("<|im_start|>user\nTell me a story<|im_end|>\n", format.Render([prefilled[0]], addGenerationPrompt: false));
        Assert.Throws<ArgumentException>(() => format.Render(prefilled, addGenerationPrompt: true, continueFinalMessage: true));
        Assert.Throws<ArgumentException>(() => format.Render([new ChatMessage("user", "   ")], false, continueFinalMessage: true));
    }

    [Fact]
    public void ATemplateThatRunsWithoutEndFailsInsteadOfHanging()
    {
        var template = ChatTemplate.Parse("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}");
        var e = Assert.Throws<TemplateException>(() => template.Render([new ChatMessage("user", "hi")], "<s>", "</s>"));
        Assert.Contains("ran too long", e.Message);
    }

    private void CopyStories(Action<JsonObject>? editTokenizerConfig = null)
    {
        foreach (var f in Directory.GetFiles(Fixtures.Path("stories260k"))) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)), overwrite: true);
        if (editTokenizerConfig is null) return;
        var path = Path.Combine(_dir, "tokenizer_config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        editTokenizerConfig(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void AFolderWithATemplateUsesItAndTheOverridesStillWork()
    {
        var tok = TestData.FolderTokenizer("stories260k");
        var im = ReferenceTemplate("im");
        CopyStories(c => c["chat_template"] = im);
        var format = Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, tok));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", format.Render([new ChatMessage("user", "Hi")]));
        Assert.Equal(tok.Encode("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", false), format.BuildPrompt([new ChatMessage("user", "Hi")], 0));
        Assert.IsType<Llama2ChatFormat>(ChatFormats.ForModel(_dir, tok, "llama2"));

        // chat_template.jinja wins over tokenizer_config.json; a given template wins over both.
        File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");
        Assert.Equal("<s>Hi", Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, tok)).Render([new ChatMessage("user", "Hi")]));
        var given = Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, tok, chatTemplate: "[{{ messages[0].content }}]"));
        Assert.Equal("[Hi]", given.Render([new ChatMessage("user", "Hi")]));
        Assert.Throws<ArgumentException>(() => ChatFormats.ForModel(_dir, tok, "llama2", chatTemplate: "x"));
    }

    [Fact]
    public void ATemplateListPicksDefaultAndBosEosComeFromTheConfig()
    {
        var tok = TestData.FolderTokenizer("stories260k");
        CopyStories(c =>
        {
            c["chat_template"] = new JsonArray(
                new JsonObject { ["name"] = "tool_use", ["template"] = "tools" },
                new JsonObject { ["name"] = "default", ["template"] = "{{ bos_token }}|{{ eos_token }}" });
            c["bos_token"] = new JsonObject { ["content"] = "<s>", ["lstrip"] = false };
            c["eos_token"] = "</s>";
        });
        var format = Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, tok));
        Assert.Equal("<s>|</s>", format.Render([new ChatMessage("user", "Hi")]));
        Assert.Equal([tok.BosId, .. tok.Encode("|", false), tok.EosId], format.BuildPrompt([new ChatMessage("user", "Hi")], 0));
    }

    [Fact]
    public void AnUnsupportedTemplateFailsAtLoadNamingTheFileAndTheConstruct()
    {
        var tok = TestData.FolderTokenizer("stories260k");
        CopyStories(c => c["chat_template"] = "{% for m in messages %}\n{% with a = 1 %}{% endwith %}{% endfor %}");
        var e = Assert.Throws<InvalidDataException>(() => ChatFormats.ForModel(_dir, tok));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("line 2", e.Message);
        Assert.Contains("with", e.Message);
        Assert.Throws<InvalidDataException>(() => ChatFormats.ForModel(Fixtures.Path("stories260k"), tok, "template")); // none there
    }

    [Fact]
    public void ABaichuanFolderKeepsItsOwnFormatUnlessTheTemplateIsAskedFor()
    {
        var tok = TestData.FolderTokenizer("baichuan2-tiny-rope");
        foreach (var f in Directory.GetFiles(Fixtures.Path("baichuan2-tiny-rope"))) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(_dir, "chat_template.jinja"), "{% for m in messages %}{{ m.content }}{% endfor %}");
        Assert.IsType<Baichuan2ChatFormat>(ChatFormats.ForModel(_dir, tok));
        Assert.IsType<TemplateChatFormat>(ChatFormats.ForModel(_dir, tok, "template"));
    }
}
