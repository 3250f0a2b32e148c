using System.Globalization;
using System.Text;

namespace Aco.HttpServer;

/// <summary>
/// The <c>Date</c> header line of responses (RFC 1123 format), formatted once a second by one timer and read by
/// every connection without a lock: readers take the current array, the timer swaps in a new one.
/// </summary>
internal sealed class DateHeader : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private byte[] _line;

    public DateHeader(TimeProvider time)
    {
        _time = time;
        _line = Format(time.GetUtcNow());
        _timer = time.CreateTimer(static s => ((DateHeader)s!).Refresh(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>"Date: Tue, 15 Nov 1994 08:12:31 GMT\r\n".</summary>
    public ReadOnlySpan<byte> Line => Volatile.Read(ref _line);

    private void Refresh() => Volatile.Write(ref _line, Format(_time.GetUtcNow()));

    private static byte[] Format(DateTimeOffset now) =>
        Encoding.ASCII.GetBytes("Date: " + now.ToString("r", CultureInfo.InvariantCulture) + "\r\n");

    public void Dispose() => _timer.Dispose();
}
