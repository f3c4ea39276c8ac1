// Jinja's wordwrap filter: each line of the text (str.splitlines) wrapped on its own by Python's textwrap.wrap with tabs and
// white space kept (expand_tabs=False, replace_whitespace=False), then all joined with wrapstring. textwrap splits a line
// into chunks (runs of white space; words, split after hyphens between letters when break_on_hyphens), fills lines greedily,
// drops white space at line edges, and cuts words longer than the width (after a hyphen if one fits) when break_long_words.
// Invariant: widths count code points, as Python's len does; the output equals Jinja's.
using System.Text.RegularExpressions;

namespace Estuary.Tokenization.Templates;

internal static partial class TemplateWordWrap
{
    // textwrap's chunk pattern (TextWrapper.wordsep_re), written over the same classes: white space is textwrap's
    // "\t\n\v\f\r ", a word character is \w or one of !"'&.,?, a letter is \w without digits.
    private const string Ws = @"[\t\n\x0b\x0c\r ]";
    private const string Nws = @"[^\t\n\x0b\x0c\r ]";
    private const string Wp = @"[\w!""'&.,?]";
    private const string Lt = @"[^\d\W]";

    [GeneratedRegex("(" + Ws + "+" + "|(?<=" + Wp + ")-{2,}(?=\\w)" + "|" + Nws + "+?(?:-(?:(?<=" + Lt + "{2}-)|(?<=" + Lt + "-" + Lt + "-))(?=" + Lt + "-?" + Lt + ")"
        + "|(?=" + Ws + "|\\z)" + "|(?<=" + Wp + ")(?=-{2,}\\w)))")]
    private static partial Regex WordSeparators();

    [GeneratedRegex("(" + Ws + "+)")]
    private static partial Regex WhiteSpaceRuns();

    public static string Wrap(object? value, object? width, bool breakLongWords, object? wrapString, bool breakOnHyphens, int line)
    {
        if (value is not string s) throw new TemplateException($"line {line}: wordwrap of {TemplateValues.TypeName(value)}, not a string");
        if (width is not (long or bool)) throw new TemplateException($"line {line}: wordwrap's width must be an integer, not {TemplateValues.TypeName(width)}");
        long w = (long)TemplateValues.ToDouble(width);
        string joiner = wrapString is null ? "\n" : wrapString as string
            ?? throw new TemplateException($"line {line}: wordwrap's wrapstring must be a string");
        var lines = TemplateShaping.SplitLines(s);
        if (lines.Count > 0 && w <= 0) throw new TemplateException($"line {line}: invalid width {w} (must be > 0)");
        return string.Join(joiner, lines.Select(l => string.Join(joiner, WrapLine(l, w, breakLongWords, breakOnHyphens))));
    }

    private static List<string> WrapLine(string text, long width, bool breakLongWords, bool breakOnHyphens)
    {
        var chunks = (breakOnHyphens ? WordSeparators() : WhiteSpaceRuns()).Split(text).Where(c => c.Length > 0).ToList();
        chunks.Reverse(); // a stack: the next chunk is last
        var lines = new List<string>();
        while (chunks.Count > 0)
        {
            var current = new List<string>();
            long length = 0;
            if (lines.Count > 0 && IsBlank(chunks[^1])) chunks.RemoveAt(chunks.Count - 1); // no line starts with white space
            while (chunks.Count > 0)
            {
                int l = TemplateText.Length(chunks[^1]);
                if (length + l > width) break;
                current.Add(chunks[^1]);
                chunks.RemoveAt(chunks.Count - 1);
                length += l;
            }
            if (chunks.Count > 0 && TemplateText.Length(chunks[^1]) > width) HandleLongWord(chunks, current, length, width, breakLongWords, breakOnHyphens);
            if (current.Count > 0 && IsBlank(current[^1])) current.RemoveAt(current.Count - 1);
            if (current.Count > 0) lines.Add(string.Concat(current));
        }
        return lines;
    }

    private static bool IsBlank(string chunk) => TemplateMethods.PyStrip(chunk, true, true).Length == 0;

    // A chunk too long for any line: cut to the space left (after the last hyphen that fits, when there is one past a
    // non-hyphen), or put whole on an empty line when long words may not be broken.
    private static void HandleLongWord(List<string> chunks, List<string> current, long length, long width, bool breakLongWords, bool breakOnHyphens)
    {
        long spaceLeft = width < 1 ? 1 : width - length;
        if (breakLongWords)
        {
            string chunk = chunks[^1];
            long end = spaceLeft;
            int chunkLength = TemplateText.Length(chunk);
            if (breakOnHyphens && chunkLength > spaceLeft)
            {
                string head = TemplateText.Substring(chunk, 0, (int)spaceLeft);
                int hyphen = head.LastIndexOf('-');
                if (hyphen > 0 && head[..hyphen].Any(c => c != '-')) end = TemplateText.Length(head[..hyphen]) + 1;
            }
            current.Add(TemplateText.Substring(chunk, 0, (int)end));
            chunks[^1] = TemplateText.Substring(chunk, (int)end, chunkLength);
        }
        else if (current.Count == 0)
        {
            current.Add(chunks[^1]);
            chunks.RemoveAt(chunks.Count - 1);
        }
    }
}
