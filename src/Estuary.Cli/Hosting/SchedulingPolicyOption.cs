// Reads --scheduling-policy: TensorRT-LLM's capacity policies (max_utilization, guaranteed_no_evict) and vLLM's orders (fcfs,
// priority) are separate choices, so one value may name one of each, comma-separated ("guaranteed_no_evict,priority").
// Invariant: unknown names and two of the same kind are a UsageException naming the flag.
using Estuary.Engine.Scheduling;

namespace Estuary.Cli.Hosting;

internal static class SchedulingPolicyOption
{
    private const string Names = "max_utilization, guaranteed_no_evict, fcfs or priority (a capacity policy and an order may be combined, e.g. guaranteed_no_evict,priority)";

    public static (SchedulingPolicy Policy, RequestOrder Order) Parse(string value)
    {
        SchedulingPolicy? policy = null;
        RequestOrder? order = null;
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            switch (part)
            {
                case "max_utilization": Set(ref policy, SchedulingPolicy.MaxUtilization, part); break;
                case "guaranteed_no_evict": Set(ref policy, SchedulingPolicy.GuaranteedNoEvict, part); break;
                case "fcfs": Set(ref order, RequestOrder.Fcfs, part); break;
                case "priority": Set(ref order, RequestOrder.Priority, part); break;
                default: throw new UsageException($"--scheduling-policy must be {Names} (got '{value}')");
            }
        }
        if (policy is null && order is null) throw new UsageException($"--scheduling-policy must be {Names} (got '{value}')");
        return (policy ?? SchedulingPolicy.MaxUtilization, order ?? RequestOrder.Fcfs);
    }

    private static void Set<T>(ref T? slot, T value, string name) where T : struct
    {
        if (slot is not null) throw new UsageException($"--scheduling-policy names two policies of the same kind ('{name}' and another); combine one capacity policy with one order");
        slot = value;
    }
}
