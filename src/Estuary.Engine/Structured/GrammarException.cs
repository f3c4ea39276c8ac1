// A structured-output specification (schema, regex, choice list) that cannot be turned into a grammar; the message names
// the construct, so the server can return it as a 400.
namespace Estuary.Engine.Structured;

/// <summary>A structured-output specification that is invalid or uses something not supported.</summary>
public sealed class GrammarException(string message) : ArgumentException(message);
