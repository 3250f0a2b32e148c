using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Aco.Scheduling;

/// <summary>
/// Hands .NET sockets to native coroutines: a socket created or accepted in C# becomes a descriptor that a coroutine
/// uses with the socket calls of <c>aco_bridge.h</c> (pass it as the spawn argument). Linux only: the bridge's socket
/// calls exist there.
/// </summary>
/// <remarks>
/// <para>
/// A descriptor belongs to one side. <see cref="Detach"/> moves the connection out of the <see cref="Socket"/>, which
/// is disposed; from then on the descriptor is the caller's to give to exactly one coroutine, which closes it with
/// <c>aco_bridge_close</c> (or to close with <see cref="Close"/> if no coroutine ever gets it).
/// </para>
/// <para>
/// Detach a socket before .NET has run asynchronous operations on it, and with no operation in progress: an operation
/// in progress makes .NET's close abortive, which resets the connection for both descriptors, and a socket that has
/// waited in .NET's own poller stays registered there (its events ignored) until the last descriptor closes.
/// </para>
/// </remarks>
public static partial class AcoSocket
{
    private const int F_DUPFD_CLOEXEC = 1030;
    private const int F_GETFL = 3;
    private const int F_SETFL = 4;
    private const int O_NONBLOCK = 0x800;

    /// <summary>
    /// Moves the connection of <paramref name="socket"/> into a new descriptor (non-blocking, close-on-exec) owned by the
    /// caller, and disposes <paramref name="socket"/> (which closes only its own descriptor: the connection stays open).
    /// </summary>
    /// <returns>The descriptor, for one coroutine's socket calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="SocketException">The system refused a new descriptor (the process's limit, say); the socket is left as it was.</exception>
    public static int Detach(Socket socket)
    {
        var descriptor = Copy(socket, viaSocket: false);
        socket.Dispose();
        return descriptor;
    }

    /// <summary>
    /// A new descriptor (close-on-exec) for the same socket, owned by the caller, while <paramref name="socket"/> stays
    /// open: for a listening socket that a coroutine on each scheduler of a pool accepts from (one descriptor each,
    /// since a descriptor belongs to the loop that first uses it). The socket is made non-blocking (its
    /// <see cref="Socket.Blocking"/> turns false), as the descriptor shares that state with it.
    /// </summary>
    /// <returns>The descriptor, for one coroutine's socket calls.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="socket"/> is null.</exception>
    /// <exception cref="ObjectDisposedException"><paramref name="socket"/> is disposed.</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="SocketException">The system refused a new descriptor (the process's limit, say).</exception>
    public static int Duplicate(Socket socket) => Copy(socket, viaSocket: true);

    /// <summary>
    /// A new descriptor for the socket, non-blocking. The status flags belong to the socket, which both descriptors
    /// share: set through <see cref="Socket.Blocking"/> (<paramref name="viaSocket"/>) when the socket stays in use, so
    /// that .NET knows; directly on the new descriptor when the socket is disposed next.
    /// </summary>
    private static int Copy(Socket socket, bool viaSocket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ThrowIfNotLinux();
        var handle = socket.SafeHandle;
        ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, socket);
        if (viaSocket)
        {
            socket.Blocking = false;
        }
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added); // the number stays this socket's while it is copied
            var descriptor = Fcntl((int)handle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
            if (descriptor < 0)
            {
                throw new SocketException(Marshal.GetLastPInvokeError());
            }
            if (!viaSocket)
            {
                var flags = Fcntl(descriptor, F_GETFL, 0);
                if (flags < 0 || ((flags & O_NONBLOCK) == 0 && Fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) < 0))
                {
                    var error = Marshal.GetLastPInvokeError();
                    _ = CloseDescriptor(descriptor);
                    throw new SocketException(error);
                }
            }
            return descriptor;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Closes a descriptor from <see cref="Detach"/> or <see cref="Duplicate"/> that no coroutine was given.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="descriptor"/> is negative.</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    public static void Close(int descriptor)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(descriptor);
        ThrowIfNotLinux();
        _ = CloseDescriptor(descriptor); // closed even when close reports an error (Linux)
    }

    private static void ThrowIfNotLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Native coroutines do socket I/O on Linux only (the socket calls of aco_bridge.h answer ACO_BRIDGE_NOT_SUPPORTED elsewhere).");
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int descriptor, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseDescriptor(int descriptor);
}
