// vLLM's runtime LoRA updating: POST /v1/load_lora_adapter {lora_name, lora_path} and POST /v1/unload_lora_adapter {lora_name}.
// Mapped only when the engine was built with runtime updating (--enable-runtime-lora-updating or VLLM_ALLOW_RUNTIME_LORA_UPDATING);
// otherwise both paths are unknown routes (404). Invariant: a failed load changes nothing; errors are 400/404 naming the field.
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.LoraAdapters;

internal static class LoraAdapterApi
{
    public static IEndpointRouteBuilder MapLoraAdapterApi(this IEndpointRouteBuilder app, bool enabled)
    {
        if (!enabled) return app;
        app.MapPost("/v1/load_lora_adapter", Load);
        app.MapPost("/v1/unload_lora_adapter", Unload);
        return app;
    }

    private static async Task<IResult> Load(HttpContext context, ServedModel model)
    {
        var r = await JsonBody.ReadAsync<LoadLoraAdapterRequest>(context.Request, context.RequestAborted);
        string name = Required(r.LoraName, "lora_name");
        string path = Required(r.LoraPath, "lora_path");
        if (name == model.Name) throw RequestException.BadRequest($"lora_name '{name}' is the served model's own name; pick another", "lora_name");
        try
        {
            await model.Engine.LoadLoraAsync(name, path, context.RequestAborted);
        }
        catch (ArgumentException e)
        {
            // The engine names the name ("name": empty or already loaded) or the folder ("dir": missing, bad files, does not fit).
            var message = e.Message.Split(" (Parameter", 2)[0];
            throw RequestException.BadRequest(message, e.ParamName == "name" ? "lora_name" : "lora_path");
        }
        catch (ObjectDisposedException)
        {
            throw new RequestException(503, "the server is shutting down", code: "shutting_down");
        }
        catch (InvalidOperationException e)
        {
            throw RequestException.BadRequest(e.Message, "lora_name"); // max_loras adapters held
        }
        return TypedResults.Text($"Success: LoRA adapter '{name}' added successfully.");
    }

    private static async Task<IResult> Unload(HttpContext context, ServedModel model)
    {
        var r = await JsonBody.ReadAsync<UnloadLoraAdapterRequest>(context.Request, context.RequestAborted);
        string name = Required(r.LoraName, "lora_name");
        bool found;
        try
        {
            found = await model.Engine.UnloadLoraAsync(name);
        }
        catch (ObjectDisposedException)
        {
            throw new RequestException(503, "the server is shutting down", code: "shutting_down");
        }
        if (!found)
        {
            var loaded = model.Adapters.Count == 0 ? "none" : "'" + string.Join("', '", model.Adapters) + "'";
            throw new RequestException(404, $"the LoRA adapter '{name}' cannot be found (loaded: {loaded})", "lora_name", "lora_not_found");
        }
        return TypedResults.Text($"Success: LoRA adapter '{name}' removed successfully.");
    }

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw RequestException.BadRequest($"'{field}' is required and must be a non-empty string", field) : value;

    private sealed class LoadLoraAdapterRequest
    {
        public string? LoraName { get; init; }
        public string? LoraPath { get; init; }
    }

    private sealed class UnloadLoraAdapterRequest
    {
        public string? LoraName { get; init; }
    }
}
