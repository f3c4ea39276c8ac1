// Reading a tokenizer file whole, with an unreadable file reported as FileNotFoundException naming it (shared by the
// SentencePiece and tokenizer.json readers).
namespace Estuary.Tokenization;

internal static class TokenizerFile
{
    /// <summary>The bytes of <paramref name="path"/>; <paramref name="what"/> names the file in the error ("SentencePiece model").</summary>
    /// <exception cref="FileNotFoundException">the file is missing or cannot be read.</exception>
    public static byte[] ReadAllBytes(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"cannot read {what} '{path}': {e.Message}", path, e);
        }
    }
}
