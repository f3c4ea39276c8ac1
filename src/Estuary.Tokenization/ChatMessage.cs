// One chat turn handed to an IChatFormat. Invariant: none here (plain data); formats validate Role and Content.
namespace Estuary.Tokenization;

/// <summary>A chat message; <paramref name="Role"/> is "system", "user" or "assistant".</summary>
/// <param name="Role">Who speaks: "system" (first message only), "user" or "assistant".</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content);
