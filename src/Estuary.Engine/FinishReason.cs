// Why a sequence stopped, in OpenAI's vocabulary.
namespace Estuary.Engine;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>EOS, a stop token or a stop string.</summary>
    Stop,
    /// <summary>max_tokens or the context length was reached.</summary>
    Length,
    /// <summary>The request was cancelled.</summary>
    Abort,
}
