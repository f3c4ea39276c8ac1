// A chat template that cannot be parsed or rendered: the message names the line and the construct, or is the template's own
// raise_exception message (e.g. "Conversation roles must alternate user/assistant/...").
namespace Estuary.Tokenization.Templates;

/// <summary>A chat template failed to parse or render.</summary>
public sealed class TemplateException(string message) : ArgumentException(message);
