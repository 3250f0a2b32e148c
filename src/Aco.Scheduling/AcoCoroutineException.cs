namespace Aco.Scheduling;

/// <summary>A native coroutine ended with <c>aco_bridge_fail(code, message)</c>.</summary>
public sealed class AcoCoroutineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AcoCoroutineException(int code, string message) : base(message) => Code = code;

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException() : this(0, "The coroutine failed.")
    {
    }

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException(string message) : this(0, message)
    {
    }

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The code the coroutine gave.</summary>
    public int Code { get; }
}
