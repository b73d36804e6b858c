using StepML.Core.Data;
using StepML.Storage;

namespace StepML.Functions;

/// <summary>In the run state while a partition set is being made: the Partition Map iterates <see cref="Ranges"/>
/// (indices into the plan, which the tasks read from the store, so the state stays small), the Assemble Map
/// <see cref="Outputs"/> (the partitions, then validation).</summary>
public sealed record PartitioningState(string Set, int[] Ranges, int[] Outputs);

/// <summary>The Partition function's input: a range to cut (<see cref="Range"/>), the ranges to summarise
/// (<see cref="Summarize"/>), or an output to assemble (<see cref="Output"/>).</summary>
public sealed record PartitionInput(string Set, int? Range = null, int? Output = null, bool? Summarize = null);

public sealed record PartitionOutput(string Set, long Rows, double Seconds, int? Range = null, int? Output = null);

/// <summary>partitions/&lt;digest&gt;/plan.json: everything a Partition task needs besides its range index.</summary>
public sealed record PartitionPlan
{
    public DatasetFile[] Files { get; init; } = [];
    public long RangeBytes { get; init; }
    public string Format { get; init; } = "libsvm";
    public bool CsvHeader { get; init; }
    public int Partitions { get; init; }
    public double ValidationFraction { get; init; }
    public ulong Seed { get; init; }
    public double[]? PartitionWeights { get; init; }
    /// <summary>dataset.features when set; null = discovered across the ranges.</summary>
    public int? Features { get; init; }
    public bool Sparse { get; init; }
    public LabelMapping Labels { get; init; }
    /// <summary>Multi-class models: K when model.classes is set (labels must be below it), else the default bound.</summary>
    public int? MaxClasses { get; init; }
    public int RangeCount { get; init; }
}

/// <summary>partitions/&lt;digest&gt;/ranges/&lt;i&gt;.json: what one range task found.</summary>
/// <param name="Error">Set when the range's text is malformed: the file, line and problem, reported by Summarize
/// as a <see cref="Core.Data.DatasetFormatException"/> (a failed Distributed Map iteration would surface only as
/// States.ExceedToleratedFailureThreshold, losing the name and the line).</param>
public sealed record RangeRecord(int Range, long[] Rows, long[] Values, int Width, float MaxLabel, bool SawZero, bool SawMinusOne, RangeError? Error = null);

public sealed record RangeError(string File, long Line, string Message);

/// <summary>partitions/&lt;digest&gt;/summary.json (after the Partition Map) and manifest.json (written last: the set
/// is complete). Rows and Values per output, validation last.</summary>
public sealed record PartitionSetManifest
{
    public string Digest { get; init; } = "";
    public int Features { get; init; }
    public long[] Rows { get; init; } = [];
    public long[] Values { get; init; } = [];
    public float MaxLabel { get; init; } = float.NaN;
    public bool Sparse { get; init; }
    public bool HasTest { get; init; }
    public float TestMaxLabel { get; init; } = float.NaN;
    public int Ranges { get; init; }

    public PartitionSummary ToSummary() =>
        new(Features, Rows[..^1], Rows[^1], Rows.Sum(), MaxLabel);
}

/// <summary>runs/&lt;runId&gt;/dataset.json: the data versions a run trained on and its partition set.</summary>
public sealed record DatasetRecord
{
    public ObjectVersion[] Files { get; init; } = [];
    public ObjectVersion? Labels { get; init; }
    public ObjectVersion[] Test { get; init; } = [];
    public ObjectVersion? TestLabels { get; init; }
    public string PartitionSet { get; init; } = "";
}

/// <summary>partitions/&lt;digest&gt;/pending/&lt;runId&gt;.json: what Commit needs to start the run once the set is
/// complete (job.json and dataset.json are written only then).</summary>
public sealed record PendingRun(string Job, DatasetRecord Record);
