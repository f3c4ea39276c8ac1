// A one-line description of the machine a benchmark ran on (CPU model, logical cores, memory).
namespace Estuary.Bench.Output;

/// <summary>Machine description for result files.</summary>
public static class MachineInfo
{
    /// <summary>E.g. "AMD EPYC (2 logical cores, 23.4 GiB RAM, Linux 6.1 x64)".</summary>
    public static string Describe()
    {
        string cpu = "unknown CPU";
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                    break;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        double memGiB = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{cpu} ({Environment.ProcessorCount} logical cores, {memGiB:F1} GiB RAM, {System.Runtime.InteropServices.RuntimeInformation.OSDescription})";
    }
}
