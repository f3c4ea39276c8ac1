// One request the fuzzer sends: where, the exact body bytes (possibly not JSON, not UTF-8), the Content-Type, how the client
// hangs up (if it does), and a description of the mutations that made it, so a failure can be replayed by hand.
namespace Estuary.Server.Tests.Fuzzing;

/// <summary>How the fuzzing client ends a request.</summary>
internal enum Hangup
{
    /// <summary>Reads the whole response.</summary>
    None,
    /// <summary>Cancels a few milliseconds after sending (mid-prefill, or before the server read the body).</summary>
    Early,
    /// <summary>Reads the headers and the first bytes of the body, then disconnects (mid-stream).</summary>
    AfterFirstBytes,
}

internal sealed record FuzzRequest(int Index, string Path, byte[] Body, string? ContentType, string Description, Hangup Hangup)
{
    /// <summary>POST, or GET/HEAD for the read-only routes (then without a body).</summary>
    public string Method { get; init; } = "POST";

    /// <summary>The body as text, cut for a failure message (invalid UTF-8 shows as U+FFFD).</summary>
    public string BodyPreview(int max = 400)
    {
        var text = System.Text.Encoding.UTF8.GetString(Body);
        return text.Length <= max ? text : text[..max] + $"… ({Body.Length} bytes)";
    }

    public override string ToString() => $"#{Index} {Method} {Path} [{Description}] hangup={Hangup} content-type={ContentType ?? "none"}: {BodyPreview()}";
}
