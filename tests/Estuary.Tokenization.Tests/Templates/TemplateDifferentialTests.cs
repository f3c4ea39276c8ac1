// Differential cases: templates rendered by Jinja2 with transformers' environment (scripts/chat-template-fuzz.py writes
// random templates over the constructs chat templates use; scripts/check-chat-templates.sh real models' templates), each with
// its variables as JSON. Estuary must give the same text, raise_exception's message word for word, and fail where Jinja2 fails.
// Data/chat_template_fuzz.json is a committed seed corpus; more files can be named in ESTUARY_TEMPLATE_CASES (separated by
// the path separator), and the mismatches of each file are written next to it as FILE.mismatches.json.
using System.Globalization;
using System.Text.Json;
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization.Tests.Templates;

public class TemplateDifferentialTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string> { Path.Combine(AppContext.BaseDirectory, "Data", "chat_template_fuzz.json") };
        foreach (var file in (Environment.GetEnvironmentVariable("ESTUARY_TEMPLATE_CASES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            data.Add(Path.GetFullPath(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RendersAsJinja2Does(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var mismatches = new List<Dictionary<string, string?>>();
        int count = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            count++;
            string? rendered = null, error = null;
            try
            {
                var template = ChatTemplate.Parse(c.GetProperty("template").GetString()!);
                var variables = (Dictionary<string, object?>)ChatTemplate.FromJson(c.GetProperty("variables").GetRawText())!;
                var now = c.TryGetProperty("now", out var n) ? DateTime.Parse(n.GetString()!, CultureInfo.InvariantCulture) : new DateTime(2024, 7, 26, 9, 5, 3);
                rendered = template.Render(variables, new ChatTemplateReferenceTests.FixedClock(now));
            }
            catch (TemplateException e)
            {
                error = e.Message;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error = "CRASH " + e; // anything but a TemplateException is a renderer bug, whatever Jinja did
            }
            bool same = c.TryGetProperty("rendered", out var expected) ? rendered == expected.GetString()
                : c.TryGetProperty("error", out var message) ? error == message.GetString() // raise_exception's own text
                : error is not null && !error.StartsWith("CRASH", StringComparison.Ordinal) && !error.Contains("is not supported", StringComparison.Ordinal);
            if (same) continue;
            mismatches.Add(new()
            {
                ["name"] = c.TryGetProperty("name", out var name) ? name.GetString() : count.ToString(CultureInfo.InvariantCulture),
                ["template"] = c.GetProperty("template").GetString(),
                ["jinja2"] = expected.ValueKind == JsonValueKind.String ? expected.GetString()
                    : c.TryGetProperty("error", out var m2) ? "ERROR " + m2.GetString() : "FAILURE " + c.GetProperty("failure").GetString(),
                ["estuary"] = rendered ?? "ERROR " + error,
            });
        }
        File.WriteAllText(file + ".mismatches.json", JsonSerializer.Serialize(mismatches, new JsonSerializerOptions { WriteIndented = true }));
        Assert.True(count > 0, $"{file} holds no cases");
        if (mismatches.Count > 0)
            Assert.Fail($"{mismatches.Count} of {count} cases differ from Jinja2 (see {file}.mismatches.json); first: {JsonSerializer.Serialize(mismatches[0])}");
    }
}
