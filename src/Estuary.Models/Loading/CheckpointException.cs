// The one exception type for unreadable, corrupt or mismatched checkpoints; messages name the file and tensor.
namespace Estuary.Models.Loading;

/// <summary>A checkpoint could not be read or does not match the model.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public CheckpointException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public CheckpointException() { }
}
