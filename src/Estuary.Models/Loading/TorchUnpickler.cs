// Turns a torch.save data.pkl into tensor descriptions using Razorvine.Pickle, restricted to an allow-list of globals.
// Invariant: PickleGlobalScanner has rejected every other global before Razorvine runs, and no allowed global executes code.
using System.Collections;
using Estuary.Tensors;
using Razorvine.Pickle;

namespace Estuary.Models.Loading;

/// <summary>A storage named by a persistent id: data lives in the zip entry <c>&lt;stem&gt;/data/&lt;Key&gt;</c>.</summary>
internal sealed record TorchStorageRef(string Key, DType DType, long NumElements);

/// <summary>A tensor as described by <c>_rebuild_tensor_v2</c>: a strided view of a storage.</summary>
internal sealed record TorchTensorRef(TorchStorageRef Storage, long StorageOffset, long[] Size, long[] Stride);

/// <summary>Unpickler for torch checkpoints; never resolves a global outside <see cref="AllowedGlobals"/>.</summary>
internal sealed class TorchUnpickler : Unpickler
{
    private static readonly Dictionary<string, IObjectConstructor> s_constructors = CreateConstructors();

    /// <summary>Fully qualified names of the globals a checkpoint may use.</summary>
    public static IReadOnlySet<string> AllowedGlobals { get; } = s_constructors.Keys.ToHashSet(StringComparer.Ordinal);

    // Razorvine keeps its constructor registry in a static dictionary: register ours once, before any use.
    static TorchUnpickler()
    {
        foreach (var (fullName, constructor) in s_constructors)
        {
            int dot = fullName.LastIndexOf('.');
            registerConstructor(fullName[..dot], fullName[(dot + 1)..], constructor);
        }
    }

    private readonly string _where;

    private TorchUnpickler(string where) => _where = where;

    /// <summary>Checks the globals of <paramref name="pickle"/> against the allow-list, then unpickles it into name → tensor.</summary>
    public static Dictionary<string, TorchTensorRef> Load(byte[] pickle, string where)
    {
        PickleGlobalScanner.Check(pickle, where, AllowedGlobals);
        object root;
        using (var unpickler = new TorchUnpickler(where))
        {
            try
            {
                root = unpickler.loads(pickle);
            }
            catch (CheckpointException e) when (!e.Message.StartsWith(where, StringComparison.Ordinal))
            {
                // Raised by an allowed constructor, which does not know the file.
                throw new CheckpointException($"{where}: {e.Message}", e);
            }
            catch (Exception e) when (e is not CheckpointException and not OutOfMemoryException)
            {
                // Razorvine reports malformed input with assorted exception types (bad casts, stack underflow, ...).
                throw new CheckpointException($"{where}: malformed checkpoint pickle: {e.Message}", e);
            }
        }

        if (root is not Hashtable dict)
            throw new CheckpointException($"{where}: pickle holds a {Describe(root)}, expected a dict of tensors (a state_dict)");
        var tensors = new Dictionary<string, TorchTensorRef>(StringComparer.Ordinal);
        foreach (DictionaryEntry kv in dict)
        {
            if (kv.Key is not string name)
                throw new CheckpointException($"{where}: state_dict has a non-string key ({Describe(kv.Key)})");
            if (kv.Value is not TorchTensorRef tensor)
                throw new CheckpointException($"{where}: state_dict entry '{name}' is a {Describe(kv.Value)}, not a tensor");
            tensors.Add(name, tensor);
        }
        return tensors;
    }

    /// <summary>Resolves <c>('storage', StorageClass, key, location, numel)</c>; any other persistent id is refused.</summary>
    protected override object persistentLoad(object pid)
    {
        if (pid is not object[] { Length: 5 } t || t[0] is not "storage")
            throw new CheckpointException($"{_where}: unsupported persistent id {Describe(pid)} (expected ('storage', StorageClass, key, location, numel))");
        if (t[1] is not StorageClass storageClass)
            throw new CheckpointException($"{_where}: persistent id names storage type {Describe(t[1])}, not a known torch storage class");
        if (t[2] is not string key)
            throw new CheckpointException($"{_where}: persistent id has a non-string storage key ({Describe(t[2])})");
        return new TorchStorageRef(key, storageClass.DType, ToLong(t[4], "storage size"));
    }

    private static Dictionary<string, IObjectConstructor> CreateConstructors() => new(StringComparer.Ordinal)
    {
        ["torch._utils._rebuild_tensor_v2"] = new RebuildTensor(),
        ["torch._utils._rebuild_tensor"] = new RebuildTensor(),
        ["torch._utils._rebuild_parameter"] = new RebuildParameter(),
        ["collections.OrderedDict"] = new OrderedDictConstructor(),
        ["torch.FloatStorage"] = new StorageClass(DType.F32),
        ["torch.HalfStorage"] = new StorageClass(DType.F16),
        ["torch.BFloat16Storage"] = new StorageClass(DType.BF16),
        ["torch.IntStorage"] = new StorageClass(DType.I32),
        ["torch.LongStorage"] = new StorageClass(DType.I64),
        ["torch.ByteStorage"] = new StorageClass(DType.U8),
        ["torch.CharStorage"] = new StorageClass(DType.I8),
    };

    private static long ToLong(object? value, string what) => value switch
    {
        int i => i,
        long l => l,
        System.Numerics.BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
        _ => throw new CheckpointException($"expected an integer {what}, got {Describe(value)}"),
    };

    private static long[] ToLongs(object? value, string what) =>
        value is object[] items ? [.. items.Select(v => ToLong(v, what))] : throw new CheckpointException($"expected a tuple {what}, got {Describe(value)}");

    private static string Describe(object? o) => o switch
    {
        null => "None",
        string s => $"'{s}'",
        object[] a => $"tuple of {a.Length}",
        _ => o.GetType().Name,
    };

    /// <summary><c>_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, [metadata])</c> and <c>_rebuild_tensor(storage, offset, size, stride)</c>.</summary>
    private sealed class RebuildTensor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not TorchStorageRef storage)
                throw new CheckpointException($"_rebuild_tensor called with {args.Length} arguments, expected (storage, offset, size, stride, ...)");
            return new TorchTensorRef(storage, ToLong(args[1], "storage offset"), ToLongs(args[2], "size"), ToLongs(args[3], "stride"));
        }
    }

    /// <summary><c>_rebuild_parameter(data, requires_grad, hooks)</c>: a Parameter is its tensor.</summary>
    private sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) =>
            args.Length >= 1 && args[0] is TorchTensorRef t ? t : throw new CheckpointException("_rebuild_parameter called without a tensor");
    }

    /// <summary>A storage class such as <c>torch.HalfStorage</c>; only ever an operand of a persistent id.</summary>
    private sealed class StorageClass(DType dtype) : IObjectConstructor
    {
        public DType DType { get; } = dtype;

        public object construct(object[] args) => throw new CheckpointException($"torch storage class for {DType} called directly; refused");
    }

    /// <summary><c>collections.OrderedDict()</c>: a dict (Razorvine fills dicts through <see cref="Hashtable"/>).</summary>
    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) =>
            args.Length == 0 ? new StateDict() : throw new CheckpointException("OrderedDict called with arguments; refused");
    }

    /// <summary>An OrderedDict; torch pickles a state_dict's <c>_metadata</c> attribute as BUILD state, which is dropped.</summary>
    private sealed class StateDict : Hashtable
    {
        // Razorvine applies BUILD by calling a method of this exact name reflectively.
#pragma warning disable IDE1006, CA1822
        public void __setstate__(Hashtable state) { }
#pragma warning restore IDE1006, CA1822
    }
}
