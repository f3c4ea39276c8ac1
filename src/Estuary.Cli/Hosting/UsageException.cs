// A user error in command-line input; printed as one line, exit code 2.
namespace Estuary.Cli.Hosting;

/// <summary>Bad command-line input.</summary>
internal sealed class UsageException(string message) : Exception(message);
