using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;

namespace Aco.HttpServer;

/// <summary>Validates that a string is an IPv4 or IPv6 address (no host names: the server binds, it does not resolve).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IPAddressAttribute : ValidationAttribute
{
    /// <inheritdoc/>
    public override bool IsValid(object? value) => value is string s && IPAddress.TryParse(s, out _);

    /// <inheritdoc/>
    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.InvariantCulture, "The field {0} must be an IPv4 or IPv6 address, such as 127.0.0.1 or ::1.", name);
}
