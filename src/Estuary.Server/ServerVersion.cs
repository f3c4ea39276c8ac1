// The version this server reports (GET /version, Triton's GET /v2): the assembly's informational version, without a source revision.
using System.Reflection;

namespace Estuary.Server;

internal static class ServerVersion
{
    public static string Value { get; } =
        (typeof(ServerVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];
}
