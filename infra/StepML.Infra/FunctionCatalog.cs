namespace StepML.Infra;

// One Lambda function of the training loop: which class handles it, and exactly which bucket prefixes it may
// read or write (its sizes come from statemachines/functions.json). This list is the only place that says so: the
// functions construct, the IAM grants, the context keys and the state-machine substitutions derive
// from it.
// Name: the handler class is <Name>Function, the ASL substitution ${<Name>FunctionArn}, the context
// keys stepml:<name>MemoryMb and stepml:<name>TimeoutSeconds.
// Reads: Key patterns the function reads (s3:GetObject, and s3:ListBucket with an s3:prefix condition).
// Writes: Key patterns the function writes (s3:PutObject).
// TaggedWrites: Key patterns written with object tags (s3:PutObjectTagging as well).
internal sealed record FunctionSpec(
    string Name,
    string Description,
    IReadOnlyList<string> Reads,
    IReadOnlyList<string> Writes,
    IReadOnlyList<string> TaggedWrites)
{
    // Sizes live in statemachines/functions.json, shared with the local engine.
    public DeployedFunction Deployed => DeployedFunctions.Get(Name);

    public int DefaultMemoryMb => Deployed.MemoryMb;

    // Also the longest a context key may make it: each Task's TimeoutSeconds in train.asl.json equals it.
    public int DefaultTimeoutSeconds => Deployed.TimeoutSeconds;

    public int EphemeralStorageMb => Deployed.EphemeralStorageMb;

    public string ClassName => Name + "Function";

    public string Handler => $"{RepositoryLayout.FunctionsAssembly}::{RepositoryLayout.FunctionsNamespace}.{ClassName}::HandleAsync";

    public string SubstitutionName => Name + "FunctionArn";

    public string ContextName => char.ToLowerInvariant(Name[0]) + Name[1..];
}

internal static class FunctionCatalog
{
    public const string Worker = "Worker";

    // Lambda's hard limit on a function's timeout.
    public const int MaxTimeoutSeconds = 900;

    // The longest an EXPRESS execution runs: the Workers Map's child executions are EXPRESS.
    public const int ExpressChildSeconds = 300;

    public static readonly IReadOnlyList<FunctionSpec> All =
    [
        new("Prepare", "Validates the job spec, partitions the dataset, writes job.json and the initial model",
            // runs/*: a re-delivered upload or a resume finds the run's existing job.json.
            Reads: ["datasets/*", "jobs/*", "runs/*"], Writes: ["runs/*"], TaggedWrites: []),
        // Workers run inside the EXPRESS child's 5 minutes: their local work stops at the round budget.
        new(Worker, "Computes one partition's statistic for a round and writes it to the channel",
            // Statistics and per-round worker state (ADMM x_i, u_i) are both written tagged, so both expire.
            Reads: ["runs/*"], Writes: ["runs/*/rounds/*/stats/*", "runs/*/workers/*"], TaggedWrites: ["runs/*/rounds/*/stats/*", "runs/*/workers/*"]),
        // 1769 MB (functions.json) is where Lambda gives one full vCPU: merging is a byte-range read and a sum.
        new("Merge", "Sums one shard of every worker's statistic and updates that shard of the model",
            // Merged shards and tree mergers' partial results are tagged (scratch once the round is over); optimizer
            // state is not.
            Reads: ["runs/*"], Writes: ["runs/*/rounds/*"], TaggedWrites: ["runs/*/rounds/*/merged/*", "runs/*/rounds/*/tree/*"]),
        new("Decide", "Folds the round's metrics and applies the stop rules",
            Reads: ["runs/*"], Writes: ["runs/*/model/*", "runs/*/metrics.jsonl"], TaggedWrites: []),
        new("Finalize", "Writes the final model, its description and the run report",
            Reads: ["runs/*"], Writes: ["runs/*/model/*", "runs/*/final*", "runs/*/report.html"], TaggedWrites: []),
        new("RecordFailure", "Records why a run failed",
            Reads: [], Writes: ["runs/*/failure.json"], TaggedWrites: []),
    ];
}
