// Times a streamed response: TTFT at the first non-empty text chunk, then one inter-token latency per later chunk.
using System.Diagnostics;
using System.Text;

namespace Estuary.Bench.Clients;

/// <summary>Collects chunk arrival times and text for one request.</summary>
internal sealed class StreamTimer(Stopwatch clock)
{
    private readonly double _start = clock.Elapsed.TotalSeconds;
    private double _last;
    private readonly StringBuilder _text = new();

    public double StartOffset => _start;
    public double? Ttft { get; private set; }
    public List<double> Itl { get; } = [];
    public string Text => _text.ToString();
    public double Elapsed => clock.Elapsed.TotalSeconds - _start;

    public void OnText(string? delta)
    {
        if (string.IsNullOrEmpty(delta)) return;
        double now = clock.Elapsed.TotalSeconds - _start;
        if (Ttft == null) Ttft = now;
        else Itl.Add(now - _last);
        _last = now;
        _text.Append(delta);
    }
}
