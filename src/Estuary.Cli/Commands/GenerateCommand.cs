// `estuary generate`: one or more prompts (text or ids) run as one batch; streams a single plain prompt, or prints JSON lines.
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Estuary.Cli.Hosting;
using Estuary.Engine;
using Estuary.Tokenization;

namespace Estuary.Cli.Commands;

/// <summary>Builds the generate command.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var engineOptions = new EngineOptions();
        var samplingOptions = new SamplingOptions();
        var prompt = new Option<string[]>("--prompt", "-p") { Description = "Prompt text (repeatable; all prompts run as one batch)" };
        var promptIds = new Option<string[]>("--prompt-ids") { Description = "Prompt as comma-separated token ids, e.g. 1,2,3 (repeatable)" };
        var chat = new Option<bool>("--chat") { Description = "Wrap each prompt as a user message in the model's chat format" };
        var chatOptions = new ChatFormatOptions();
        var json = new Option<bool>("--json") { Description = "Print one JSON object per prompt: {\"prompt_ids\",\"output_ids\",\"text\"}" };
        var command = new Command("generate", "Generate text from prompts");
        engineOptions.AddTo(command);
        samplingOptions.AddTo(command);
        foreach (var o in new Option[] { prompt, promptIds, chat, json }) command.Options.Add(o);
        chatOptions.AddTo(command);
        command.SetAction(r =>
        {
            chatOptions.TemplateText(r); // a bad name or file fails before the model loads
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), engineOptions.ToConfig(r), loras: engineOptions.Loras(r));
            var sampling = samplingOptions.Build(r, engine);
            var texts = r.GetValue(prompt) ?? [];
            var idLists = r.GetValue(promptIds) ?? [];
            var prompts = new List<(string? Text, int[] Ids)>();
            IChatFormat? format = r.GetValue(chat) || chatOptions.Given(r)
                ? chatOptions.Resolve(r, engineOptions.ModelDirectory(r), engine.Tokenizer)
                : null;
            foreach (var t in texts)
                prompts.Add((t, format != null ? format.BuildPrompt([new ChatMessage("user", t)], sampling.MaxTokens ?? 0) : engine.Tokenizer.Encode(t)));
            foreach (var s in idLists) prompts.Add((null, ParseIds(s)));
            if (prompts.Count == 0) prompts.Add(("", engine.Tokenizer.Encode(""))); // unconditional generation from BOS
            return Run(engine, prompts, sampling, r.GetValue(json), echoPrompt: format == null);
        });
        return command;
    }

    private static int Run(LlmEngine engine, List<(string? Text, int[] Ids)> prompts, SamplingParams sampling, bool json, bool echoPrompt)
    {
        bool stream = !json && prompts.Count == 1;
        for (int i = 0; i < prompts.Count; i++) engine.AddRequest(i.ToString(CultureInfo.InvariantCulture), prompts[i].Ids, sampling);
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var text = prompts.Select(_ => new System.Text.StringBuilder()).ToArray();
        if (stream && echoPrompt) Console.Write(prompts[0].Text ?? engine.Tokenizer.Decode(prompts[0].Ids));
        while (engine.HasUnfinishedRequests)
        {
            foreach (var o in engine.Step())
            {
                int i = int.Parse(o.RequestId, CultureInfo.InvariantCulture);
                outputs[i].AddRange(o.NewTokenIds);
                text[i].Append(o.NewText);
                if (stream) Console.Write(o.NewText);
            }
        }
        if (stream) Console.WriteLine();
        for (int i = 0; i < prompts.Count && !stream; i++)
        {
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prompt_ids"] = prompts[i].Ids,
                    ["output_ids"] = outputs[i],
                    ["text"] = text[i].ToString(),
                }));
            }
            else
            {
                if (i > 0) Console.WriteLine();
                Console.WriteLine((echoPrompt ? prompts[i].Text ?? "" : "") + text[i]);
            }
        }
        return 0;
    }

    private static int[] ParseIds(string s)
    {
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
                throw new UsageException($"--prompt-ids: '{parts[i]}' is not an integer token id");
        }
        if (ids.Length == 0) throw new UsageException("--prompt-ids: no token ids given");
        return ids;
    }
}
