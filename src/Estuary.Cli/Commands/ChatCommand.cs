// `estuary chat`: an interactive terminal chat with streamed replies in the model's chat format (/reset, /exit). With a
// reasoning parser, a reply's thinking goes to the error stream (between "[thinking]" lines) and its answer to the output.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Engine.Reasoning;
using Estuary.Tokenization;

namespace Estuary.Cli.Commands;

/// <summary>Builds the chat command.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var engineOptions = new EngineOptions();
        var samplingOptions = new SamplingOptions();
        var system = new Option<string?>("--system") { Description = "System prompt" };
        var reasoningParser = new Option<string?>("--reasoning-parser") { Description = "deepseek_r1 or qwen3: show a reply's <think>…</think> apart (on the error stream), keep the answer as the turn" };
        var chatOptions = new ChatFormatOptions();
        var command = new Command("chat", "Chat with a model in the terminal");
        engineOptions.AddTo(command);
        samplingOptions.AddTo(command);
        command.Options.Add(system);
        command.Options.Add(reasoningParser);
        chatOptions.AddTo(command);
        command.SetAction(r =>
        {
            chatOptions.TemplateText(r); // a bad name or file fails before the model loads
            var parser = ReasoningFormat.Parse(r.GetValue(reasoningParser))
                ?? throw new UsageException($"--reasoning-parser must be deepseek_r1 or qwen3 (got '{r.GetValue(reasoningParser)}')");
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), engineOptions.ToConfig(r), loras: engineOptions.Loras(r));
            var sampling = samplingOptions.Build(r, engine);
            var format = chatOptions.Resolve(r, engineOptions.ModelDirectory(r), engine.Tokenizer);
            var reasoning = ReasoningFormat.Create(parser, engine.Tokenizer);
            var history = new List<ChatMessage>();
            if (r.GetValue(system) is { Length: > 0 } sys) history.Add(new ChatMessage("system", sys));
            int baseCount = history.Count;
            Console.Error.WriteLine($"chat format {format.Name}; /reset clears the history, /exit or end of input quits");
            int turn = 0;
            while (true)
            {
                Console.Write("> ");
                var line = Console.ReadLine();
                if (line == null || line.Trim() == "/exit") break;
                if (line.Trim() == "/reset")
                {
                    history.RemoveRange(baseCount, history.Count - baseCount);
                    continue;
                }
                if (line.Length == 0) continue;
                history.Add(new ChatMessage("user", line));
                var ids = format.BuildPrompt(history, sampling.MaxTokens ?? 0);
                // A long conversation outgrows the context: drop the oldest exchanges (as Baichuan's own chat does), keeping the system prompt.
                while (ids.Length >= engine.MaxModelLen && history.Count - baseCount > 1)
                {
                    history.RemoveRange(baseCount, Math.Min(2, history.Count - baseCount - 1));
                    ids = format.BuildPrompt(history, sampling.MaxTokens ?? 0);
                    Console.Error.WriteLine($"(dropped the oldest turn to fit the {engine.MaxModelLen}-token context)");
                }
                var reply = new System.Text.StringBuilder();
                var (turnSampling, startsInReasoning) = reasoning?.Prepare(sampling, ids, null) ?? (sampling, false);
                try
                {
                    engine.AddRequest($"chat-{turn++}", ids, turnSampling);
                }
                catch (ArgumentException e)
                {
                    // This turn alone does not fit (or is otherwise refused): say why, forget it, keep the conversation.
                    Console.Error.WriteLine($"error: {Program.UserMessage(e)}; the message was not sent");
                    history.RemoveAt(history.Count - 1);
                    continue;
                }
                var splitter = reasoning is null ? null : new ReasoningSplitter(startsInReasoning);
                var thought = new System.Text.StringBuilder();
                while (engine.HasUnfinishedRequests)
                {
                    foreach (var o in engine.Step())
                    {
                        var (thinking, text) = splitter?.Add(o.NewText, o.Finished) ?? ("", o.NewText);
                        if (thinking.Length > 0)
                        {
                            if (thought.Length == 0) Console.Error.WriteLine("[thinking]");
                            Console.Error.Write(thinking);
                            thought.Append(thinking);
                        }
                        if (text.Length > 0 && thought.Length > 0 && reply.Length == 0) Console.Error.WriteLine("\n[/thinking]");
                        Console.Write(text);
                        reply.Append(text);
                    }
                }
                Console.WriteLine();
                history.Add(new ChatMessage("assistant", reply.ToString()) { Reasoning = splitter is { HasReasoning: true } ? thought.ToString() : null });
            }
            return 0;
        });
        return command;
    }
}
