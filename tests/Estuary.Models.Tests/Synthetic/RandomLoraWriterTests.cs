// Tests of the random LoRA writer: every tensor is the (seed, tensor name) stream at the documented scale, so the same seed
// writes the same adapter in any process (a per-process hash seed would break this), and another seed writes another one.
using Estuary.Models.Loading;
using Estuary.Models.Synthetic;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Synthetic;

public sealed class RandomLoraWriterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-randlora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public unsafe void TensorsAreTheSeedAndNameStreamAtTheDocumentedScale()
    {
        var model = Path.Combine(_root, "model");
        RandomModelWriter.Write(ModelShapes.Get("tiny-llama"), DType.F32, model, seed: 1);
        var adapter = Path.Combine(_root, "adapter");
        Assert.Equal(7 * 2, RandomLoraWriter.Write(model, adapter, rank: 4, alpha: 8, seed: 9));

        using var reader = CheckpointIndex.OpenFile(Path.Combine(adapter, "adapter_model.safetensors"));
        const string prefix = "base_model.model.model.layers.1.mlp.down_proj";
        var cases = new (string Name, Shape Shape, float Std)[]
        {
            (prefix + ".lora_A.weight", new Shape(4, 256), 1 / MathF.Sqrt(256)), // A: rank × in, N(0, 1/in)
            (prefix + ".lora_B.weight", new Shape(128, 4), 0.02f),               // B: out × rank, N(0, 0.02²)
        };
        foreach (var (name, shape, std) in cases)
        {
            Assert.Equal(new TensorInfo(name, DType.F32, shape), reader.GetInfo(name));
            var weight = reader.Load(name);
            var stored = new ReadOnlySpan<float>((void*)weight.Pointer, (int)shape.NumElements).ToArray();

            var expected = new float[shape.NumElements];
            var rng = new WeightRandom(9, name);
            for (int row = 0; row < shape[0]; row++) rng.FillNormal(expected.AsSpan(row * (int)shape[1], (int)shape[1]), 0f, std);
            Assert.Equal(expected, stored);

            double sd = Math.Sqrt(stored.Sum(v => (double)v * v) / stored.Length);
            Assert.InRange(sd, 0.85 * std, 1.15 * std);
        }

        var other = Path.Combine(_root, "other");
        RandomLoraWriter.Write(model, other, rank: 4, alpha: 8, seed: 10);
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(adapter, "adapter_model.safetensors")),
            File.ReadAllBytes(Path.Combine(other, "adapter_model.safetensors")));
    }
}
