// `estuary chat`: an interactive terminal chat with streamed replies in the model's chat format (/reset, /exit).
using System.CommandLine;
using Estuary.Cli.Hosting;
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
        var chatOptions = new ChatFormatOptions();
        var command = new Command("chat", "Chat with a model in the terminal");
        engineOptions.AddTo(command);
        samplingOptions.AddTo(command);
        command.Options.Add(system);
        chatOptions.AddTo(command);
        command.SetAction(r =>
        {
            chatOptions.TemplateText(r); // a bad name or file fails before the model loads
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), engineOptions.ToConfig(r), loras: engineOptions.Loras(r));
            var sampling = samplingOptions.Build(r, engine);
            var format = chatOptions.Resolve(r, engineOptions.ModelDirectory(r), engine.Tokenizer);
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
                try
                {
                    engine.AddRequest($"chat-{turn++}", ids, sampling);
                }
                catch (ArgumentException e)
                {
                    // This turn alone does not fit (or is otherwise refused): say why, forget it, keep the conversation.
                    Console.Error.WriteLine($"error: {Program.UserMessage(e)}; the message was not sent");
                    history.RemoveAt(history.Count - 1);
                    continue;
                }
                while (engine.HasUnfinishedRequests)
                {
                    foreach (var o in engine.Step())
                    {
                        Console.Write(o.NewText);
                        reply.Append(o.NewText);
                    }
                }
                Console.WriteLine();
                history.Add(new ChatMessage("assistant", reply.ToString()));
            }
            return 0;
        });
        return command;
    }
}
