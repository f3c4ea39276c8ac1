// The four distinct linear inputs of a decoder block that AWQ scales: normed x (qkv), attention output (o), normed x (gate/up), act (down).
namespace Estuary.Models.Quantization;

/// <summary>Calibration statistics of one decoder layer.</summary>
public sealed record LayerActivations(ActivationStats Qkv, ActivationStats O, ActivationStats GateUp, ActivationStats Down);
