namespace StepML.Core.Jobs;

/// <summary>
/// One training job: the execution input of the state machine, the file given to <c>stepml run</c>, or a
/// <c>jobs/*.json</c> upload. Every field has a default (see README, "The job spec"); <see cref="JobSpecParser"/>
/// rejects unknown fields and bad values naming the field.
/// </summary>
public sealed record JobSpec
{
    public string Name { get; init; } = "job";
    /// <summary>Optional explicit run id; generated from the name and the start time otherwise.</summary>
    public string? RunId { get; init; }
    public DatasetSpec Dataset { get; init; } = new();
    public ModelSpec Model { get; init; } = new();
    public AlgorithmSpec Algorithm { get; init; } = new();
    public CommunicationSpec Communication { get; init; } = new();
    public StopSpec Stop { get; init; } = new();
    public WorkersSpec Workers { get; init; } = new();
    public ulong Seed { get; init; } = 42;
}

public sealed record DatasetSpec
{
    /// <summary>Store key of the dataset file, e.g. <c>datasets/higgs.libsvm</c>.</summary>
    public string Path { get; init; } = "";
    /// <summary><c>libsvm</c> or <c>csv</c>; inferred from the extension when absent.</summary>
    public string Format { get; init; } = "";
    /// <summary>Number of features; discovered by a first pass over LIBSVM files when absent (0).</summary>
    public int Features { get; init; }
    public int Partitions { get; init; } = 4;
    public double ValidationFraction { get; init; } = 0.1;
    public bool CsvHeader { get; init; }
    /// <summary>Store partitions as CSR (row offsets, column indices, values); linear models and KMeans then use
    /// kernels that touch only the non-zeros.</summary>
    public bool Sparse { get; init; }
    /// <summary>Relative sizes of the training partitions (one positive number per partition): a row goes to partition
    /// p with probability w_p / Σ w. Null means equal sizes. For studying skewed partitions.</summary>
    public double[]? PartitionWeights { get; init; }
    /// <summary>IDX only: store key of the labels file that goes with the images file in <see cref="Path"/>.</summary>
    public string Labels { get; init; } = "";
    /// <summary>Optional held-out test split (same format), partitioned to test.part and evaluated by Finalize.</summary>
    public string TestPath { get; init; } = "";
    /// <summary>IDX only: the labels file of <see cref="TestPath"/>.</summary>
    public string TestLabels { get; init; } = "";
}

public sealed record ModelSpec
{
    public string Type { get; init; } = ModelTypes.Logistic;
    /// <summary>L2 regularisation strength λ in λ/2·‖w‖² (the bias is not regularised).</summary>
    public double L2 { get; init; } = 1e-4;
    /// <summary>L1 regularisation strength λ₁ in λ₁·‖w‖₁ (logistic and SVM; the bias is not regularised). With
    /// <see cref="L2"/> > 0 as well this is the elastic net.</summary>
    public double L1 { get; init; }
    /// <summary>SVM loss: <c>hinge</c> max(0, 1 − s·z) or <c>squared-hinge</c> max(0, 1 − s·z)², s = ±1. Other models ignore it.</summary>
    public string Loss { get; init; } = SvmLosses.Hinge;
    /// <summary>KMeans: number of clusters k.</summary>
    public int Clusters { get; init; } = 8;
    /// <summary>softmax, mlp, cnn: number of classes K (labels are 0..K−1); 0 = max label + 1, counted by Prepare.</summary>
    public int Classes { get; init; }
    /// <summary>mlp: widths of the hidden ReLU layers.</summary>
    public int[] Hidden { get; init; } = [128];
    /// <summary>cnn: filters of each conv + ReLU + 2×2 max-pool layer.</summary>
    public int[] Channels { get; init; } = [16, 32];
    /// <summary>cnn: odd kernel size k of the k×k convolutions.</summary>
    public int KernelSize { get; init; } = 3;
    /// <summary>cnn: [height, width, channels] of the input images; empty = taken from the image dataset by Prepare.</summary>
    public int[] InputShape { get; init; } = [];
    /// <summary>resnet: depth 6n + 2 (the CIFAR family: 8, 20, 32, 56, 110) or 18 (ResNet-18 adapted to 32 × 32).</summary>
    public int Depth { get; init; } = 20;
    /// <summary>resnet, mobilenet: the width multiplier α that scales every layer's channel count.</summary>
    public double WidthMultiplier { get; init; } = 1.0;
    /// <summary>cnn, resnet, mobilenet: training crops of the image padded by this many zeros per side (0 = none).</summary>
    public int CropPadding { get; init; }
    /// <summary>cnn, resnet, mobilenet: flip training images left–right with probability 1/2.</summary>
    public bool HorizontalFlip { get; init; }

    // Arrays compare by content, so a re-submitted job equals the stored one.
    public bool Equals(ModelSpec? other) => other is not null && Type == other.Type && L2.Equals(other.L2) && L1.Equals(other.L1) && Loss == other.Loss && Clusters == other.Clusters && Classes == other.Classes
        && Hidden.AsSpan().SequenceEqual(other.Hidden) && Channels.AsSpan().SequenceEqual(other.Channels)
        && KernelSize == other.KernelSize && InputShape.AsSpan().SequenceEqual(other.InputShape)
        && Depth == other.Depth && WidthMultiplier.Equals(other.WidthMultiplier) && CropPadding == other.CropPadding && HorizontalFlip == other.HorizontalFlip;

    public override int GetHashCode() => HashCode.Combine(Type, HashCode.Combine(L2, L1), Loss, Clusters, Classes, KernelSize, HashCode.Combine(Hidden.Length, Channels.Length, InputShape.Length));
}

public sealed record AlgorithmSpec
{
    public string Type { get; init; } = AlgorithmTypes.Admm;
    public double LearningRate { get; init; } = 0.5;
    /// <summary>Rows per mini-batch; 0 means the whole partition (full-batch gradient).</summary>
    public int BatchSize { get; init; } = 1000;
    /// <summary>MA-SGD and ADMM: passes over the local partition per round.</summary>
    public int LocalEpochs { get; init; } = 1;
    /// <summary>ADMM penalty ρ (Boyd et al. 2011, §3.1).</summary>
    public double Rho { get; init; } = 0.1;
    /// <summary>GA-SGD heavy-ball momentum μ in [0, 1).</summary>
    public double Momentum { get; init; }
    /// <summary>GA-SGD step rule: <c>sgd</c> (with <see cref="Momentum"/>) or <c>adam</c>.</summary>
    public string Optimizer { get; init; } = Optimizers.Sgd;
    /// <summary>Adam (Kingma and Ba 2015) decay of the first-moment estimate.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>Adam decay of the second-moment estimate.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Adam ε added to √v̂.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>How the step size moves over the rounds (<see cref="Schedules"/>, <see cref="Algorithms.LearningRateSchedule"/>).</summary>
    public string Schedule { get; init; } = Schedules.Constant;
    /// <summary>Rounds of linear warm-up from η/W to η before the schedule starts.</summary>
    public int WarmupRounds { get; init; }

    /// <summary>True when η changes with the round.</summary>
    public bool IsScheduled => Schedule != Schedules.Constant || WarmupRounds > 0;
}

public sealed record CommunicationSpec
{
    /// <summary>Where statistics travel: <c>s3</c> is the run's object store (S3 in the cloud, the local folder locally),
    /// <c>redis</c> or <c>dynamodb</c> (see <see cref="ChannelKinds"/>).</summary>
    public string Channel { get; init; } = "s3";
    /// <summary>The channel's server (<see cref="ChannelEndpoint"/>); empty = the deployment's default.</summary>
    public string Endpoint { get; init; } = "";
    public string Pattern { get; init; } = Patterns.AllReduce;
    /// <summary>ScatterReduce shards (mergers per round); AllReduce is one shard.</summary>
    public int Shards { get; init; } = 1;
    /// <summary>Tree pattern: children per merger at each level (Feng et al. 2018); 0 for the other patterns.</summary>
    public int FanIn { get; init; }
    /// <summary>Probability p ∈ [0, 1) that a worker → merger statistic is lost (seed 003's unreliable network),
    /// drawn from the job's seed per (round, partition, shard).</summary>
    public double DropRate { get; init; }
    /// <summary><c>sync</c> (the Map is each round's barrier) or <c>async</c> (LambdaML's S-ASP: each worker loops
    /// alone, reading the current model and applying its update with an atomic read-modify-write on the channel).</summary>
    public string Synchronization { get; init; } = Synchronizations.Sync;

    public bool IsAsync => Synchronization == Synchronizations.Async;
}

public static class Synchronizations
{
    public const string Sync = "sync";
    public const string Async = "async";
    public static readonly string[] All = [Sync, Async];
}

public sealed record StopSpec
{
    public double? TargetLoss { get; init; }
    public int MaxRounds { get; init; } = 100;
    public double MaxSeconds { get; init; } = 3600;
    public double? MaxCostUsd { get; init; }
    /// <summary>Stop when the relative change of the training loss stays below this for 3 rounds; 0 disables.</summary>
    public double Tolerance { get; init; } = 1e-6;
    /// <summary>Stop when the model moves less than this: ‖w_{r+1} − w_r‖ ≤ modelTolerance·‖w_r‖ (KMeans: the centroid
    /// shift); 0 disables.</summary>
    public double ModelTolerance { get; init; }
    /// <summary>Stop when the certified relative gap (P − D)/D, an upper bound on (P − P*)/P*, is at most this
    /// (<see cref="Training.DualityGap"/>; algorithms that certify their gap only: newton, cocoa). Null disables.</summary>
    public double? Gap { get; init; }
    /// <summary>Fail the run (TrainingDivergedException) when the loss exceeds this multiple of the first round's.</summary>
    public double DivergenceFactor { get; init; } = 10;
    /// <summary>Rounds per Step Functions execution before continuing as a new one; 0 derives it from the 25,000-event history limit.</summary>
    public int RoundsPerExecution { get; init; }
}

public sealed record WorkersSpec
{
    public int MemoryMb { get; init; } = 2048;
    /// <summary>Share of workers per round that may fail; when absent, the deployment's default (0 locally).</summary>
    public double? ToleratedFailurePercentage { get; init; }
    /// <summary>Concurrent workers (Map MaxConcurrency); 0 means all partitions at once.</summary>
    public int MaxConcurrency { get; init; }
}

public static class ModelTypes
{
    public const string Logistic = "logistic";
    public const string Svm = "svm";
    public const string KMeans = "kmeans";
    public const string Softmax = "softmax";
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string ResNet = "resnet";
    public const string MobileNet = "mobilenet";
    public static readonly string[] All = [Logistic, Svm, KMeans, Softmax, Mlp, Cnn, ResNet, MobileNet];

    /// <summary>Models whose labels are class ids 0..K−1 (kept raw by the partitioner).</summary>
    public static bool IsClassifier(string type) => type is Softmax or Mlp or Cnn or ResNet or MobileNet;

    /// <summary>Convolutional networks, which need <see cref="ModelSpec.InputShape"/>.</summary>
    public static bool IsImageNetwork(string type) => type is Cnn or ResNet or MobileNet;

    /// <summary>Networks with batch normalisation, whose running moments are merged state (GA-SGD and MA-SGD only).</summary>
    public static bool HasBatchNorm(string type) => type is ResNet or MobileNet;
}

public static class SvmLosses
{
    public const string Hinge = "hinge";
    public const string SquaredHinge = "squared-hinge";
    public static readonly string[] All = [Hinge, SquaredHinge];
}

public static class Optimizers
{
    public const string Sgd = "sgd";
    public const string Adam = "adam";
    public static readonly string[] All = [Sgd, Adam];
}

public static class Schedules
{
    public const string Constant = "constant";
    public const string Cosine = "cosine";
    public static readonly string[] All = [Constant, Cosine];
}

public static class AlgorithmTypes
{
    public const string GaSgd = "ga-sgd";
    public const string MaSgd = "ma-sgd";
    public const string Admm = "admm";
    public const string KMeansEm = "kmeans-em";
    public const string Newton = "newton";
    public const string Cocoa = "cocoa";
    public static readonly string[] All = [GaSgd, MaSgd, Admm, KMeansEm, Newton, Cocoa];

    /// <summary>The algorithms that report a certified duality gap every round (stop.gap).</summary>
    public static bool Certifies(string type) => type is Newton or Cocoa;
}

public static class Patterns
{
    public const string AllReduce = "all-reduce";
    public const string ScatterReduce = "scatter-reduce";
    public const string Tree = "tree";
    public static readonly string[] All = [AllReduce, ScatterReduce, Tree];
}

/// <summary>A job spec field is missing, unknown or out of range. <see cref="Field"/> is the JSON path.</summary>
public sealed class JobSpecException : Exception
{
    public JobSpecException(string field, string message) : this(field, message, $"job spec field '{field}': {message}", inner: null) { }

    private JobSpecException(string field, string detail, string fullMessage, Exception? inner) : base(fullMessage, inner) => (Field, Detail) = (field, detail);

    public string Field { get; }

    /// <summary>What is wrong and the fix, without the field prefix.</summary>
    public string Detail { get; }

    /// <summary>The same error saying where the bad value came from, once: "job spec field 'x': in --set x=1: ...".</summary>
    public JobSpecException From(string source) => new(Field, $"in {source}: {Detail}", $"job spec field '{Field}': in {source}: {Detail}", this);

    /// <summary>The same error prefixed with the file (or key) the spec came from, once: "job.json: job spec field ...".</summary>
    public JobSpecException InFile(string file) => new(Field, Detail, $"{file}: {Message}", this);
}
