// Jinja's groupby filter: the items sorted by an attribute (Python's stable sort; strings case-folded unless case_sensitive),
// then runs of equal keys as (grouper, list) tuples, each grouper the first item's own value. Invariant: keys compare as
// Python's sorted and itertools.groupby compare them, and an ordering Python refuses fails naming the line.
namespace Estuary.Tokenization.Templates;

/// <summary>Jinja's _GroupTuple: a (grouper, list) tuple with those two attributes, printed as a plain tuple.</summary>
internal sealed class GroupTuple : PyTuple
{
    public GroupTuple(object? grouper, List<object?> values) : base(grouper, values) { }

    public object? Grouper => this[0];

    public object? Values => this[1];
}

internal static class TemplateGrouping
{
    /// <summary>groupby(value, attribute, default=None, case_sensitive=False).</summary>
    public static List<object?> GroupBy(List<object?> items, object? attribute, object? fallback, bool caseSensitive, int line)
    {
        if (attribute is null or Undefined) throw new TemplateException($"line {line}: groupby needs an attribute");
        var parts = TemplateOrdering.AttributeParts(attribute);
        object? Key(object? item, bool fold)
        {
            foreach (var part in parts)
            {
                item = TemplateOrdering.GetPart(item, part, line);
                if (fallback is not null && item is Undefined) item = fallback;
            }
            return TemplateOrdering.Fold(item, !fold);
        }
        var sorted = TemplateOrdering.Sorted(items, item => Key(item, !caseSensitive), reverse: false, line);
        var groups = new List<object?>();
        object? currentKey = null;
        List<object?>? current = null;
        foreach (var item in sorted)
        {
            var key = Key(item, !caseSensitive);
            if (current is null || !TemplateValues.AreEqual(key, currentKey))
            {
                current = [];
                currentKey = key;
                groups.Add(new GroupTuple(caseSensitive ? key : Key(item, fold: false), current));
            }
            current.Add(item);
        }
        return groups;
    }
}
