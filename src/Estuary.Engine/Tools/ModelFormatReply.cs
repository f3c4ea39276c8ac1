// What the tool-call formats whose calls are the whole reply (Llama 3's JSON objects, pythonic lists) share: whether a reply
// that has begun so far may still turn out to be calls. A streamer holds such a beginning back and sends the rest as content
// at once when it cannot.
// Invariant: MayBegin is false only when no continuation of the text can be read as calls by the format's TryParse.
namespace Estuary.Engine.Tools;

internal static class ModelFormatReply
{
    /// <summary>
    /// Whether <paramref name="replySoFar"/>, after leading whitespace, is empty, a beginning of <paramref name="tag"/>, or
    /// begins with the tag or with <paramref name="open"/> (the character calls begin with).
    /// </summary>
    public static bool MayBegin(string replySoFar, string tag, char open)
    {
        var rest = replySoFar.AsSpan().TrimStart();
        return rest.IsEmpty || rest[0] == open || rest.StartsWith(tag, StringComparison.Ordinal) ||
            tag.AsSpan().StartsWith(rest, StringComparison.Ordinal);
    }
}
