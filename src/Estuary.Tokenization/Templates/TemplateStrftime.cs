// strftime_now(format), the global transformers' apply_chat_template gives templates (datetime.now().strftime(format): the
// local date and time, formatted in the C locale, so English names). Llama 3.x templates use it for "Today Date".
// Invariant: only the codes listed in Codes are written; any other code is refused (at load when the format is a literal).
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateStrftime
{
    /// <summary>The format codes written, as Python writes them in the C locale.</summary>
    public const string Codes = "%a %A %b %B %d %H %I %j %m %M %p %S %y %Y %%";

    private static readonly string[] s_days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    private static readonly string[] s_months =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>The global function: one string argument, formatted against <paramref name="clock"/>'s local time.</summary>
    public static TemplateFunction Function(TimeProvider clock) => new("strftime_now", (args, kwargs) =>
    {
        if (args.Count != 1 || kwargs.Count > 0 || args[0] is not string format)
            throw new TemplateException("strftime_now() takes one format string");
        return Format(clock.GetLocalNow().DateTime, format);
    });

    /// <summary>Null when every code of <paramref name="format"/> is supported, else why not.</summary>
    public static string? Check(string format)
    {
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%') continue;
            if (i + 1 == format.Length) return $"the format '{format}' ends in a lone '%'";
            char code = format[++i];
            if (!Codes.Contains("%" + code, StringComparison.Ordinal))
                return $"the format code '%{code}' is not supported (supported: {Codes})";
        }
        return null;
    }

    /// <summary><paramref name="format"/> written for <paramref name="t"/> as Python's datetime.strftime does.</summary>
    public static string Format(DateTime t, string format)
    {
        if (Check(format) is { } problem) throw new TemplateException($"strftime_now: {problem}");
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                sb.Append(format[i]);
                continue;
            }
            string day = s_days[(int)t.DayOfWeek], month = s_months[t.Month - 1];
            sb.Append(format[++i] switch
            {
                'a' => day[..3],
                'A' => day,
                'b' => month[..3],
                'B' => month,
                'd' => Two(t.Day),
                'H' => Two(t.Hour),
                'I' => Two(t.Hour % 12 == 0 ? 12 : t.Hour % 12),
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'm' => Two(t.Month),
                'M' => Two(t.Minute),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'S' => Two(t.Second),
                'y' => Two(t.Year % 100),
                'Y' => t.Year.ToString(CultureInfo.InvariantCulture),
                _ => "%",
            });
        }
        return sb.ToString();
    }

    private static string Two(int n) => n.ToString("00", CultureInfo.InvariantCulture);
}
