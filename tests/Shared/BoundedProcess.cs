using System.Diagnostics;
using System.Text;

namespace Aco.Tests.Shared;

/// <summary>
/// Runs a child process with a bound on its whole life: output is read as it comes (never
/// "read to the end" before the bound applies), and a child that overruns is killed, with its
/// process tree, and reported as a failure with what it printed so far.
/// </summary>
internal static class BoundedProcess
{
    /// <summary>What a child printed, and how it ended.</summary>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        /// <summary>Both streams, for failure messages.</summary>
        public string Output => StandardOutput + StandardError;
    }

    /// <summary>
    /// Starts <paramref name="psi"/> and waits at most <paramref name="bound"/> for it to exit;
    /// <paramref name="onOutputLine"/> sees each line of standard output as it comes (to signal the child, say).
    /// </summary>
    /// <exception cref="TimeoutException">It overran; it has been killed.</exception>
    public static async Task<Result> RunAsync(ProcessStartInfo psi, TimeSpan bound, Action<Process, string>? onOutputLine = null)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) =>
        {
            Append(stdout, e.Data);
            if (e.Data is not null)
            {
                onOutputLine?.Invoke(process, e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it exited just now
            }
            throw new TimeoutException(
                $"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not exit within {bound.TotalSeconds:F0} s and was killed. Output so far:\n{Text(stdout)}\n{Text(stderr)}");
        }
        // WaitForExitAsync has already seen both streams end; this bounded wait only lets the last
        // output events run (a grandchild still holding the pipes cannot keep the test waiting).
        process.WaitForExit(TimeSpan.FromSeconds(10));
        return new Result(process.ExitCode, Text(stdout), Text(stderr));
    }

    /// <summary>As <see cref="RunAsync(ProcessStartInfo, TimeSpan)"/>, for synchronous callers.</summary>
    public static Result Run(ProcessStartInfo psi, TimeSpan bound) => RunAsync(psi, bound).GetAwaiter().GetResult();

    /// <summary>Sends SIGTERM to <paramref name="process"/> (what a service manager does to stop it).</summary>
    public static void Terminate(Process process)
    {
        using var kill = Process.Start(Start("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))!;
        kill.WaitForExit(5000);
    }

    /// <summary>A start info for <paramref name="file"/> with <paramref name="args"/>.</summary>
    public static ProcessStartInfo Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (sb)
        {
            sb.AppendLine(line);
        }
    }

    private static string Text(StringBuilder sb)
    {
        lock (sb)
        {
            return sb.ToString();
        }
    }
}
