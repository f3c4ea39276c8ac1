// An output folder written all at once: the commands that write model folders (make-model, make-lora, merge-lora, quantize) build
// everything in a temporary sibling folder and rename it into place; under overwrite the old folder is moved aside first and put back
// if the rename fails. Invariant: the target path holds either its old contents or the complete new folder, never a mix or a partial
// write, and no temporary folder is left behind by a failure this process sees.
namespace Estuary.Models.Loading;

/// <summary>Writes a folder atomically (temporary sibling folder + rename), refusing to clobber inputs or a non-empty folder.</summary>
public sealed class StagedOutputFolder
{
    private readonly string _target;
    private readonly string _shown;
    private readonly string _what;
    private readonly bool _overwrite;
    private readonly IReadOnlyList<string> _inputs;

    /// <summary>
    /// A folder to write at <paramref name="target"/>. <paramref name="what"/> names it in messages ("merged model folder");
    /// <paramref name="overwrite"/> allows replacing a non-empty folder; the target may not be, contain or lie inside any of
    /// <paramref name="inputs"/>.
    /// </summary>
    public StagedOutputFolder(string target, string what, bool overwrite, IReadOnlyList<string>? inputs = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentException.ThrowIfNullOrEmpty(what);
        _shown = target;
        _target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        _what = what;
        _overwrite = overwrite;
        _inputs = inputs ?? [];
    }

    /// <summary>
    /// The command-line flag that allows replacing a non-empty folder, named in the refusal ("--overwrite"); null when the command
    /// has none, so the message only asks for an empty folder.
    /// </summary>
    public string? OverwriteFlag { get; init; } = "--overwrite";

    /// <summary>
    /// Under overwrite, which top-level entries of the old folder (given by full path) are copied into the new one before it is
    /// built, e.g. a user's notes beside a model; null (the default) replaces the folder whole.
    /// </summary>
    public Func<string, bool>? Carry { get; init; }

    /// <summary>
    /// Throws before any work when the target overlaps an input (<see cref="ArgumentException"/>), is a file or lies under one, or is
    /// a non-empty folder without overwrite (<see cref="IOException"/>).
    /// </summary>
    public void CheckTarget()
    {
        foreach (var input in _inputs)
        {
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(input));
            if (IsSameOrInside(_target, full) || IsSameOrInside(full, _target))
                throw new ArgumentException($"{_what} '{_shown}' overlaps the input folder '{input}'; choose another folder");
        }
        if (File.Exists(_target)) throw new IOException($"{_what} '{_shown}' is a file, not a folder");
        for (string? up = Path.GetDirectoryName(_target); up != null && !Directory.Exists(up); up = Path.GetDirectoryName(up))
        {
            if (File.Exists(up)) throw new IOException($"{_what} '{_shown}' cannot be created: '{up}' is a file, not a folder");
        }
        if (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any() && !_overwrite)
        {
            throw new IOException(OverwriteFlag is null
                ? $"{_what} '{_shown}' exists and is not empty; choose an empty or new folder"
                : $"{_what} '{_shown}' exists and is not empty; pass {OverwriteFlag} to replace it");
        }
    }

    /// <summary>
    /// Checks the target, runs <paramref name="build"/> on a new temporary sibling folder and renames that folder into place.
    /// On any failure the temporary folder is deleted and the target is left as it was; the exception propagates.
    /// </summary>
    public T Write<T>(Func<string, T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        CheckTarget();
        string parent = Path.GetDirectoryName(_target) ?? throw new IOException($"{_what} '{_shown}' is a root folder; choose a folder inside one");
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(_target);
        string temp = Path.Combine(parent, $".{name}.staging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            if (Carry is not null && Directory.Exists(_target)) CopyCarried(temp);
            var result = build(temp);
            Publish(temp, parent, name);
            return result;
        }
        catch
        {
            TryDeleteDirectory(temp);
            throw;
        }
    }

    /// <summary><see cref="Write{T}"/> for a build step without a result.</summary>
    public void Write(Action<string> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        Write<object?>(dir =>
        {
            build(dir);
            return null;
        });
    }

    private void CopyCarried(string temp)
    {
        foreach (var entry in new DirectoryInfo(_target).EnumerateFileSystemInfos())
        {
            if (!Carry!(entry.FullName)) continue;
            if (entry is DirectoryInfo dir) CopyDirectory(dir, Path.Combine(temp, dir.Name));
            else ((FileInfo)entry).CopyTo(Path.Combine(temp, entry.Name));
        }
    }

    private static void CopyDirectory(DirectoryInfo source, string dest)
    {
        Directory.CreateDirectory(dest);
        foreach (var file in source.EnumerateFiles()) file.CopyTo(Path.Combine(dest, file.Name));
        foreach (var sub in source.EnumerateDirectories()) CopyDirectory(sub, Path.Combine(dest, sub.Name));
    }

    private void Publish(string temp, string parent, string name)
    {
        if (!Directory.Exists(_target))
        {
            Directory.Move(temp, _target);
            return;
        }
        if (!Directory.EnumerateFileSystemEntries(_target).Any())
        {
            Directory.Delete(_target);
            Directory.Move(temp, _target);
            return;
        }
        // Overwrite: move the old folder aside first, so a failed rename can put it back.
        string old = Path.Combine(parent, $".{name}.replaced-{Guid.NewGuid():N}");
        Directory.Move(_target, old);
        try
        {
            Directory.Move(temp, _target);
        }
        catch
        {
            Directory.Move(old, _target);
            throw;
        }
        TryDeleteDirectory(old);
    }

    private static bool IsSameOrInside(string path, string folder) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that led here is the one to report.
        }
    }
}
