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
        root.Subcommands.Add(TokenizeCommand.Create());
        try
        {
            var parsed = root.Parse(args.Length == 0 ? ["--help"] : args); // a bare `estuary` lists the commands
            if (parsed.Errors.Count > 0)
            {
                // System.CommandLine names .NET types ("System.Nullable`1[System.Int32]") and follows with the whole help text.
                foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {ParseErrorMessage(error.Message)}");
                Console.Error.WriteLine($"(see '{string.Join(' ', CommandPath(parsed.CommandResult))} --help')");
                return 2;
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UsageException or ArgumentException or CheckpointException or IOException
                                      or UnauthorizedAccessException or InvalidDataException or NotSupportedException or FormatException)
        {
            // IOException covers missing files and folders, a full disk and a port already in use; all name the path or address.
            Console.Error.WriteLine($"error: {UserMessage(e)}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM during a command that honours cancellation (a benchmark, a download of results).
            Console.Error.WriteLine("interrupted");
            return 130;
        }
    }

    /// <summary>"… as expected type 'System.Nullable`1[System.Int32]'." → "… as an integer."</summary>
    internal static string ParseErrorMessage(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '(?:System\.Nullable`1\[)?System\.(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" or "UInt64" => "as an integer",
            "Single" or "Double" => "as a number",
            "Boolean" => "as true or false",
            _ => m.Value,
        });

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r != null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Parent is null ? "estuary" : r.Command.Name);
        return names;
    }

    /// <summary>The exception's message without .NET's " (Parameter 'name')" suffix, which names a C# parameter, not an option.</summary>
    internal static string UserMessage(Exception e) =>
        e is ArgumentException { ParamName: { } name } && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{name}')".Length]
            : e.Message;
}
