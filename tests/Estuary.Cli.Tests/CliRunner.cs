// Runs the estuary command line in process with its own stdin, stdout and stderr (and Spectre console), one run at a time.
namespace Estuary.Cli.Tests;

/// <summary>The CLI's Main with captured streams; returns the exit code and the two outputs.</summary>
internal static class CliRunner
{
    private static readonly object s_consoleLock = new();

    public static (int Code, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    public static (int Code, string Out, string Err) RunWithInput(string input, params string[] args)
    {
        lock (s_consoleLock)
        {
            var (oldOut, oldErr, oldIn) = (Console.Out, Console.Error, Console.In);
            Console.SetIn(new StringReader(input));
            using var stdout = new StringWriter();
            using var stderr = new StringWriter();
            Console.SetOut(stdout);
            Console.SetError(stderr);
            // Spectre's static console keeps the writer it was created with; give each run its own.
            Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(stdout) });
            try
            {
                int code = (int)typeof(Program).GetMethod("Main", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .Invoke(null, [args])!;
                return (code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
                Console.SetIn(oldIn);
            }
        }
    }
}
