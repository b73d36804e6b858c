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
    IReadOnlyList<string> TaggedWrites,
    IReadOnlyList<string>? Deletes = null)
{
    // Deletes: Key patterns the function deletes (s3:DeleteObject): the scratch of a completed partition set, and
    // a resumed run's failure.json once copied to failures/.
    public IReadOnlyList<string> DeleteKeys => Deletes ?? [];

    // Sizes live in statemachines/functions.json, shared with the local engine.
    public StepML.Core.Cost.FunctionSize Deployed => DeployedFunctions.Get(Name);

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
    public const string Partition = "Partition";

    // Lambda's hard limit on a function's timeout.
    public const int MaxTimeoutSeconds = 900;

    // The longest an EXPRESS execution runs: the Workers Map's child executions are EXPRESS.
    public const int ExpressChildSeconds = 300;

    // The search machine's one function (Plan, Rank and Finish of statemachines/search.asl.json). Not a training
    // function: SearchStateMachine deploys it, with its size from functions.json (no context keys).
    public static readonly FunctionSpec Search = new("Search", "Plans a hyper-parameter search, records its trials after each batch, writes its result and report",
        // jobs/*: a spec may name its base job by key; runs/*: each trial's final.json.
        Reads: ["jobs/*", "runs/*", "searches/*"], Writes: ["searches/*"], TaggedWrites: []);

    public static readonly IReadOnlyList<FunctionSpec> All =
    [
        new("Prepare", "Validates the job spec, partitions the dataset, writes job.json and the initial model",
            // runs/*: a re-delivered upload or a resume finds the run's existing job.json. partitions/*: it looks for a
            // complete set to reuse, writes the plan, and (as Commit) the test split and the manifest, then drops the pieces.
            Reads: ["datasets/*", "jobs/*", "runs/*", "partitions/*"], Writes: ["runs/*", "partitions/*"], TaggedWrites: [],
            // A resume moves failure.json to failures/ (the run is running again): its one delete under runs/.
            Deletes: ["partitions/*/pieces/*", "partitions/*/ranges/*", "runs/*/failure.json"]),
        // One byte range (a 64 MiB ranged read and its pieces in /tmp) inside an EXPRESS child, the summary, or one
        // output's assembly (the .part file in /tmp: up to 2 GiB, hence its ephemeral storage in functions.json).
        new(Partition, "Partitions one byte range of a dataset, sums the ranges, or assembles one partition from its pieces",
            // Pieces and range records are tagged: scratch the bucket's lifecycle rule expires if a run dies before Commit.
            Reads: ["datasets/*", "partitions/*"], Writes: ["partitions/*"], TaggedWrites: ["partitions/*/pieces/*", "partitions/*/ranges/*"]),
        // Workers run inside the EXPRESS child's 5 minutes: their local work stops at the round budget.
        new(Worker, "Computes one partition's statistic for a round and writes it to the channel",
            // Statistics and per-round worker state (ADMM x_i, u_i) are both written tagged, so both expire.
            Reads: ["runs/*", "partitions/*"], Writes: ["runs/*/rounds/*/stats/*", "runs/*/workers/*"], TaggedWrites: ["runs/*/rounds/*/stats/*", "runs/*/workers/*"]),
        // 1769 MB (functions.json) is where Lambda gives one full vCPU: merging is a byte-range read and a sum.
        new("Merge", "Sums one shard of every worker's statistic and updates that shard of the model",
            // Merged shards and tree mergers' partial results are tagged (scratch once the round is over); optimizer
            // state is not.
            Reads: ["runs/*"], Writes: ["runs/*/rounds/*"], TaggedWrites: ["runs/*/rounds/*/merged/*", "runs/*/rounds/*/tree/*"]),
        new("Decide", "Folds the round's metrics and applies the stop rules",
            // records/<round>.json is the round's commit point (what a resume continues from).
            Reads: ["runs/*", "partitions/*"], Writes: ["runs/*/model/*", "runs/*/records/*", "runs/*/metrics.jsonl"], TaggedWrites: []),
        new("Finalize", "Writes the final model, its description and the run report",
            // metrics.jsonl is rewritten from the per-round records when it is damaged.
            Reads: ["runs/*", "partitions/*"], Writes: ["runs/*/model/*", "runs/*/final*", "runs/*/report.html", "runs/*/metrics.jsonl"], TaggedWrites: []),
        new("RecordFailure", "Records why a run failed",
            Reads: [], Writes: ["runs/*/failure.json"], TaggedWrites: []),
    ];
}
