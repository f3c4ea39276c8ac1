// The estuary command line: composes the commands and turns user errors into one-line messages.
using System.CommandLine;
using Estuary.Cli.Commands;
using Estuary.Cli.Hosting;
using Estuary.Models.Loading;

namespace Estuary.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("Estuary: run open LLMs from .NET");
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(MakeModelCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(MergeLoraCommand.Create());
        root.Subcommands.Add(MakeLoraCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UsageException or ArgumentException or CheckpointException or IOException
                                      or UnauthorizedAccessException or InvalidDataException or NotSupportedException or FormatException)
        {
            // IOException covers missing files and folders, a full disk and a port already in use; all name the path or address.
            Console.Error.WriteLine($"error: {UserMessage(e)}");
            return 2;
        }
    }

    /// <summary>The exception's message without .NET's " (Parameter 'name')" suffix, which names a C# parameter, not an option.</summary>
    internal static string UserMessage(Exception e) =>
        e is ArgumentException { ParamName: { } name } && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{name}')".Length]
            : e.Message;
}
