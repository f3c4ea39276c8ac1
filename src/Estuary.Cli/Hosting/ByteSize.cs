// Parses human byte sizes ("512MB", "2GiB", "1e9").
using System.Globalization;

namespace Estuary.Cli.Hosting;

/// <summary>Byte-size parsing.</summary>
internal static class ByteSize
{
    public static long Parse(string text, string optionName)
    {
        var s = text.Trim();
        int split = 0;
        while (split < s.Length && (char.IsDigit(s[split]) || s[split] is '.' or 'e' or 'E' or '+' or '-')) split++;
        var unit = s[split..].Trim().ToUpperInvariant();
        if (!double.TryParse(s[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
            throw new UsageException($"{optionName}: '{text}' is not a positive size (examples: 512MB, 2GiB)");
        double factor = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" => 1e3, "KIB" => 1024,
            "M" or "MB" => 1e6, "MIB" => 1024 * 1024,
            "G" or "GB" => 1e9, "GIB" => 1024.0 * 1024 * 1024,
            _ => throw new UsageException($"{optionName}: unknown unit '{unit}' (use B, KB, MB, GB, KiB, MiB, GiB)"),
        };
        return (long)(value * factor);
    }
}
