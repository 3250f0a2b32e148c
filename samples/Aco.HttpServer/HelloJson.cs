using System.Buffers;
using System.Text.Json;

namespace Aco.HttpServer;

/// <summary>
/// Serializes the <c>/json</c> body per request with System.Text.Json (source-generated), into a writer and a
/// buffer kept per thread: each scheduler thread reuses its own, so a request allocates nothing.
/// </summary>
internal static class HelloJson
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The serialized body; valid until the next call on this thread.</summary>
    public static ReadOnlySpan<byte> Serialize()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(64);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, new HelloMessage("Hello, World!"), HttpServerJsonContext.Default.HelloMessage);
        return buffer.WrittenSpan;
    }
}
