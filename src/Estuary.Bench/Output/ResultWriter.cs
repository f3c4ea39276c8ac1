// Writes a run as JSON (everything), levels.csv (one row per level) and requests.csv (one row per request).
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Estuary.Bench.Output;

/// <summary>Result files.</summary>
public static class ResultWriter
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes <c>{name}.json</c>, <c>{name}-levels.csv</c> and <c>{name}-requests.csv</c> into <paramref name="dir"/>.</summary>
    public static string Write(string dir, string name, BenchRun run)
    {
        Directory.CreateDirectory(dir);
        var jsonPath = Path.Combine(dir, name + ".json");
        var json = JsonSerializer.Serialize(run, s_json);
        var levels = new StringBuilder("label,concurrency,request_rate,duration_s,completed,failed,input_tokens,output_tokens,request_throughput,output_throughput,total_token_throughput,ttft_mean_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,tpot_mean_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,itl_mean_ms,itl_p50_ms,itl_p90_ms,itl_p99_ms,e2e_mean_ms,e2e_p50_ms,e2e_p90_ms,e2e_p99_ms\n");
        var requests = new StringBuilder("label,concurrency,index,success,prompt_tokens,output_tokens,ttft_ms,tpot_ms,e2e_ms,start_s,error\n");
        foreach (var l in run.Levels)
        {
            levels.AppendLine(string.Join(",", Csv(run.Label), l.Concurrency, l.RequestRate?.ToString(CultureInfo.InvariantCulture) ?? "", F(l.Duration), l.Completed, l.Failed,
                l.TotalInputTokens, l.TotalOutputTokens, F(l.RequestThroughput), F(l.OutputThroughput), F(l.TotalTokenThroughput),
                F(l.TtftMs.Mean), F(l.TtftMs.Median), F(l.TtftMs.P90), F(l.TtftMs.P99), F(l.TpotMs.Mean), F(l.TpotMs.Median), F(l.TpotMs.P90), F(l.TpotMs.P99),
                F(l.ItlMs.Mean), F(l.ItlMs.Median), F(l.ItlMs.P90), F(l.ItlMs.P99), F(l.E2eMs.Mean), F(l.E2eMs.Median), F(l.E2eMs.P90), F(l.E2eMs.P99)));
            foreach (var r in l.Requests)
                requests.AppendLine(string.Join(",", Csv(run.Label), l.Concurrency, r.Index, r.Success ? "true" : "false", r.PromptTokens, r.OutputTokens,
                    F(r.Ttft * 1000), F(r.Tpot * 1000), F(r.Latency * 1000), F(r.StartOffset), Csv(r.Error ?? "")));
        }
        WriteAllOrNothing([(jsonPath, json), (Path.Combine(dir, name + "-levels.csv"), levels.ToString()),
            (Path.Combine(dir, name + "-requests.csv"), requests.ToString())]);
        return jsonPath;
    }

    /// <summary>
    /// Writes every file to a temporary sibling first and renames them into place only when all are written, so a failure (a full
    /// disk, a folder where a file should go) leaves the earlier files, not a mix of new and old.
    /// </summary>
    private static void WriteAllOrNothing(IReadOnlyList<(string Path, string Text)> files)
    {
        foreach (var (path, _) in files)
            if (Directory.Exists(path)) throw new IOException($"cannot write '{path}': it is a folder");
        var temps = new List<string>();
        try
        {
            foreach (var (path, text) in files)
            {
                var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
                temps.Add(temp);
                File.WriteAllText(temp, text);
            }
            for (int i = 0; i < files.Count; i++) File.Move(temps[i], files[i].Path, overwrite: true);
        }
        catch
        {
            foreach (var temp in temps)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (IOException)
                {
                }
            }
            throw;
        }
    }

    /// <summary>Reads a run written by <see cref="Write"/>.</summary>
    public static BenchRun Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"result file '{path}' does not exist", path);
        try
        {
            var run = JsonSerializer.Deserialize<BenchRun>(File.ReadAllText(path), s_json) ?? throw new InvalidDataException($"{path}: empty result");
            if (run.Levels is null || run.Levels.Count == 0) throw new InvalidDataException($"{path}: the result has no levels");
            for (int i = 0; i < run.Levels.Count; i++)
            {
                var level = run.Levels[i] ?? throw new InvalidDataException($"{path}: level {i} is null");
                if (level.Concurrency < 0 || level.Completed < 0 || level.Failed < 0 || !(level.OutputThroughput >= 0) || !(level.RequestThroughput >= 0))
                    throw new InvalidDataException($"{path}: level {i} has a negative or non-numeric value (concurrency {level.Concurrency}, " +
                        $"output throughput {level.OutputThroughput})");
            }
            return run;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a benchmark result ({e.Message})", e);
        }
    }

    private static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') || s.Contains('\n') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
