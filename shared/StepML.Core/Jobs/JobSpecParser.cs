using System.Globalization;
using System.Text.Json;

namespace StepML.Core.Jobs;

/// <summary>
/// Strict reader for job specs. Hand-written over <see cref="JsonElement"/> rather than a serializer so that
/// every error names the JSON path of the field and, for an unknown field, the closest valid name.
/// </summary>
public static class JobSpecParser
{
    /// <summary>Parses a job read from <paramref name="source"/> (a file name or a store key): an error names it first,
    /// "job.json: job spec field 'x': ...".</summary>
    public static JobSpec Parse(string json, string source)
    {
        try
        {
            return Parse(json);
        }
        catch (JobSpecException e)
        {
            throw e.InFile(source);
        }
    }

    public static JobSpec Parse(string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new JobSpecException("$", JsonErrorText.Describe(e));
        }
        using (doc) return Parse(doc.RootElement);
    }

    public static JobSpec Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new JobSpecException("$", $"must be a JSON object (the job spec), not {root.ValueKind}");
        var o = new Obj(root, "");
        o.Known("name", "runId", "dataset", "model", "algorithm", "communication", "stop", "workers", "seed");
        var d = new JobSpec();
        var spec = d with
        {
            Name = o.String("name", d.Name),
            RunId = o.OptionalString("runId"),
            Seed = o.ULong("seed", d.Seed),
            Dataset = ParseDataset(o.Child("dataset", required: true)),
            Model = ParseModel(o.Child("model")),
            Algorithm = ParseAlgorithm(o.Child("algorithm")),
            Communication = ParseCommunication(o.Child("communication")),
            Stop = ParseStop(o.Child("stop")),
            Workers = ParseWorkers(o.Child("workers")),
        };
        Validate(spec);
        return spec;
    }

    private static DatasetSpec ParseDataset(Obj o)
    {
        o.Known("path", "format", "features", "partitions", "validationFraction", "csvHeader", "sparse", "partitionWeights", "labels", "testPath", "testLabels");
        var d = new DatasetSpec();
        return new DatasetSpec
        {
            Path = o.String("path", d.Path, required: true),
            Format = o.String("format", d.Format),
            Features = o.Int("features", d.Features),
            Partitions = o.Int("partitions", d.Partitions),
            ValidationFraction = o.Double("validationFraction", d.ValidationFraction),
            CsvHeader = o.Bool("csvHeader", d.CsvHeader),
            Sparse = o.Bool("sparse", d.Sparse),
            PartitionWeights = o.OptionalDoubles("partitionWeights"),
            Labels = o.String("labels", d.Labels),
            TestPath = o.String("testPath", d.TestPath),
            TestLabels = o.String("testLabels", d.TestLabels),
        };
    }

    private static ModelSpec ParseModel(Obj o)
    {
        o.Known("type", "l2", "l1", "loss", "clusters", "classes", "hidden", "channels", "kernelSize", "inputShape", "depth", "widthMultiplier", "cropPadding", "horizontalFlip");
        var d = new ModelSpec();
        return new ModelSpec
        {
            Type = o.String("type", d.Type),
            L2 = o.Double("l2", d.L2),
            L1 = o.Double("l1", d.L1),
            Loss = o.String("loss", d.Loss),
            Clusters = o.Int("clusters", d.Clusters),
            Classes = o.Int("classes", d.Classes),
            Hidden = o.Ints("hidden", d.Hidden),
            Channels = o.Ints("channels", d.Channels),
            KernelSize = o.Int("kernelSize", d.KernelSize),
            InputShape = o.Ints("inputShape", d.InputShape),
            Depth = o.Int("depth", d.Depth),
            WidthMultiplier = o.Double("widthMultiplier", d.WidthMultiplier),
            CropPadding = o.Int("cropPadding", d.CropPadding),
            HorizontalFlip = o.Bool("horizontalFlip", d.HorizontalFlip),
        };
    }

    private static AlgorithmSpec ParseAlgorithm(Obj o)
    {
        o.Known("type", "learningRate", "batchSize", "localEpochs", "rho", "momentum", "optimizer", "beta1", "beta2", "epsilon", "schedule", "warmupRounds");
        var d = new AlgorithmSpec();
        return new AlgorithmSpec
        {
            Type = o.String("type", d.Type),
            LearningRate = o.Double("learningRate", d.LearningRate),
            BatchSize = o.Int("batchSize", d.BatchSize),
            LocalEpochs = o.Int("localEpochs", d.LocalEpochs),
            Rho = o.Double("rho", d.Rho),
            Momentum = o.Double("momentum", d.Momentum),
            Optimizer = o.String("optimizer", d.Optimizer),
            Beta1 = o.Double("beta1", d.Beta1),
            Beta2 = o.Double("beta2", d.Beta2),
            Epsilon = o.Double("epsilon", d.Epsilon),
            Schedule = o.String("schedule", d.Schedule),
            WarmupRounds = o.Int("warmupRounds", d.WarmupRounds),
        };
    }

    private static CommunicationSpec ParseCommunication(Obj o)
    {
        o.Known("channel", "endpoint", "pattern", "shards", "fanIn", "dropRate", "synchronization");
        var d = new CommunicationSpec();
        return new CommunicationSpec
        {
            Channel = o.String("channel", d.Channel),
            Endpoint = o.String("endpoint", d.Endpoint),
            Pattern = o.String("pattern", d.Pattern),
            Shards = o.Int("shards", d.Shards),
            FanIn = o.Int("fanIn", d.FanIn),
            DropRate = o.Double("dropRate", d.DropRate),
            Synchronization = o.String("synchronization", d.Synchronization),
        };
    }

    private static StopSpec ParseStop(Obj o)
    {
        o.Known("targetLoss", "maxRounds", "maxSeconds", "maxCostUsd", "tolerance", "modelTolerance", "divergenceFactor", "roundsPerExecution", "gap");
        var d = new StopSpec();
        return new StopSpec
        {
            TargetLoss = o.OptionalDouble("targetLoss"),
            MaxRounds = o.Int("maxRounds", d.MaxRounds),
            MaxSeconds = o.Double("maxSeconds", d.MaxSeconds),
            MaxCostUsd = o.OptionalDouble("maxCostUsd"),
            Tolerance = o.Double("tolerance", d.Tolerance),
            ModelTolerance = o.Double("modelTolerance", d.ModelTolerance),
            Gap = o.OptionalDouble("gap"),
            DivergenceFactor = o.Double("divergenceFactor", d.DivergenceFactor),
            RoundsPerExecution = o.Int("roundsPerExecution", d.RoundsPerExecution),
        };
    }

    private static WorkersSpec ParseWorkers(Obj o)
    {
        o.Known("memoryMb", "toleratedFailurePercentage", "maxConcurrency");
        var d = new WorkersSpec();
        return new WorkersSpec
        {
            MemoryMb = o.Int("memoryMb", d.MemoryMb),
            ToleratedFailurePercentage = o.OptionalDouble("toleratedFailurePercentage"),
            MaxConcurrency = o.Int("maxConcurrency", d.MaxConcurrency),
        };
    }

    /// <summary>Said of a value that training multiplies in 32-bit floats, where anything above float.MaxValue becomes
    /// infinity: a learning rate of 1e308 would turn every step into inf·0 = NaN, silently dropped, and "train" nothing.</summary>
    private const string FloatRange = " and at most 3.4e38 (training computes in 32-bit floats)";

    private static bool IsFloat(double value) => double.IsFinite(value) && Math.Abs(value) <= float.MaxValue;

    /// <summary>Range checks that do not depend on the data; Prepare adds the ones that do (shards ≤ parameters).</summary>
    public static void Validate(JobSpec s)
    {
        Check("name", s.Name.Length is > 0 and <= 48 && s.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && char.IsAsciiLetterOrDigit(s.Name[0]) && !s.Name.Contains(".."),
            $"'{s.Name}' must be 1-48 characters of A-Z a-z 0-9 - _ . starting with a letter or digit, without '..'");
        if (s.RunId is not null)
            Check("runId", s.RunId.Length is > 0 and <= 64 && s.RunId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && char.IsAsciiLetterOrDigit(s.RunId[0]) && !s.RunId.Contains(".."),
                $"'{s.RunId}' must be 1-64 characters of A-Z a-z 0-9 - _ . starting with a letter or digit");
        Check("dataset.path", s.Dataset.Path.Length > 0, "is required: the store key of the dataset, e.g. \"datasets/higgs.libsvm\"");
        Check("dataset.format", s.Dataset.Format is "" or "libsvm" or "csv" or "idx" or "cifar", $"'{s.Dataset.Format}' is not a format: use \"libsvm\", \"csv\", \"idx\" or \"cifar\"");
        Check("dataset.labels", s.Dataset.Labels.Length > 0 || s.Dataset.Format != "idx", "is required for IDX data: the store key of the labels file (e.g. \"datasets/train-labels-idx1-ubyte.gz\")");
        Check("dataset.testLabels", s.Dataset.TestLabels.Length > 0 || s.Dataset.TestPath.Length == 0 || s.Dataset.Format != "idx", "is required with an IDX dataset.testPath: the labels file of the test images");
        Check("dataset.features", s.Dataset.Features >= 0, $"{s.Dataset.Features} must be ≥ 0 (0 = discover from the file)");
        Check("dataset.partitions", s.Dataset.Partitions is >= 1 and <= 2000, $"{s.Dataset.Partitions} must be between 1 and 2000 (the workers' results travel in the 256 KiB state)");
        Check("dataset.validationFraction", s.Dataset.ValidationFraction is >= 0 and < 1, $"{s.Dataset.ValidationFraction} must be in [0, 1)");
        if (s.Dataset.PartitionWeights is { } weights)
        {
            Check("dataset.partitionWeights", weights.Length == s.Dataset.Partitions,
                $"has {weights.Length} weights for {s.Dataset.Partitions} partitions: give one per partition (dataset.partitions) or omit it for equal sizes");
            foreach (var w in weights)
                Check("dataset.partitionWeights", w > 0 && double.IsFinite(w), $"{w} must be a finite number > 0");
        }
        OneOf("model.type", s.Model.Type, ModelTypes.All);
        Check("model.l2", s.Model.L2 >= 0 && IsFloat(s.Model.L2), $"{s.Model.L2} must be a finite number ≥ 0{FloatRange}");
        Check("model.l1", s.Model.L1 >= 0 && IsFloat(s.Model.L1), $"{s.Model.L1} must be a finite number ≥ 0{FloatRange}");
        Check("model.l1", s.Model.L1 == 0 || s.Model.Type is ModelTypes.Logistic or ModelTypes.Svm,
            $"{s.Model.L1}: L1 regularisation applies to the linear models (\"logistic\", \"svm\"); leave it out for '{s.Model.Type}'");
        OneOf("model.loss", s.Model.Loss, SvmLosses.All);
        Check("model.clusters", s.Model.Clusters is >= 1 and <= 100_000, $"{s.Model.Clusters} must be between 1 and 100000");
        Check("model.classes", s.Model.Classes == 0 || s.Model.Classes is >= 2 and <= 100_000, $"{s.Model.Classes} must be between 2 and 100000 (0 = max label + 1)");
        Check("model.hidden", s.Model.Hidden.Length <= 16 && s.Model.Hidden.All(h => h is >= 1 and <= 65_536), $"[{string.Join(", ", s.Model.Hidden)}] must be at most 16 widths, each between 1 and 65536");
        Check("model.channels", s.Model.Channels.Length is >= 1 and <= 4 && s.Model.Channels.All(c => c is >= 1 and <= 1024), $"[{string.Join(", ", s.Model.Channels)}] must be 1 to 4 filter counts, each between 1 and 1024");
        Check("model.kernelSize", s.Model.KernelSize is 1 or 3 or 5 or 7, $"{s.Model.KernelSize} must be 1, 3, 5 or 7 (odd, for \"same\" padding)");
        Check("model.inputShape", s.Model.InputShape.Length == 0 || (s.Model.InputShape.Length == 3 && s.Model.InputShape.All(v => v >= 1)), $"[{string.Join(", ", s.Model.InputShape)}] must be [height, width, channels] of positive numbers, or left out for image datasets");
        Check("model.depth", Models.Neural.ResNet.IsValidDepth(s.Model.Depth), $"{s.Model.Depth} is not a ResNet depth: use 6n + 2 between 8 and 200 (8, 20, 32, 56, 110) or 18");
        Check("model.widthMultiplier", s.Model.WidthMultiplier is > 0 and <= 8, $"{s.Model.WidthMultiplier} must be in (0, 8] (1 = the paper's channel counts)");
        Check("model.cropPadding", s.Model.CropPadding is >= 0 and <= 16, $"{s.Model.CropPadding} must be between 0 and 16 pixels (4 is the CIFAR standard)");
        Check("model.cropPadding", s.Model.CropPadding == 0 || ModelTypes.IsImageNetwork(s.Model.Type), $"{s.Model.CropPadding}: image augmentation applies to \"cnn\", \"resnet\" and \"mobilenet\"; leave it out for '{s.Model.Type}'");
        Check("model.horizontalFlip", !s.Model.HorizontalFlip || ModelTypes.IsImageNetwork(s.Model.Type), $"image augmentation applies to \"cnn\", \"resnet\" and \"mobilenet\"; leave it out for '{s.Model.Type}'");
        OneOf("algorithm.type", s.Algorithm.Type, AlgorithmTypes.All);
        Check("algorithm.type", !ModelTypes.HasBatchNorm(s.Model.Type) || s.Algorithm.Type is AlgorithmTypes.GaSgd or AlgorithmTypes.MaSgd,
            $"'{s.Algorithm.Type}' cannot train '{s.Model.Type}': its batch-norm statistics are merged by GA-SGD and MA-SGD only; use \"ga-sgd\" or \"ma-sgd\"");
        Check("algorithm.type", (s.Model.Type == ModelTypes.KMeans) == (s.Algorithm.Type == AlgorithmTypes.KMeansEm),
            s.Model.Type == ModelTypes.KMeans
                ? $"'{s.Algorithm.Type}' cannot train kmeans, which has no gradient: use \"kmeans-em\""
                : $"'kmeans-em' trains only model.type \"kmeans\"; for '{s.Model.Type}' use \"admm\", \"ma-sgd\" or \"ga-sgd\"");
        Check("algorithm.learningRate", s.Algorithm.LearningRate > 0 && IsFloat(s.Algorithm.LearningRate), $"{s.Algorithm.LearningRate} must be a finite number > 0{FloatRange}");
        Check("algorithm.batchSize", s.Algorithm.BatchSize >= 0, $"{s.Algorithm.BatchSize} must be ≥ 0 (0 = whole partition)");
        Check("algorithm.localEpochs", s.Algorithm.LocalEpochs is >= 1 and <= 1000, $"{s.Algorithm.LocalEpochs} must be between 1 and 1000");
        Check("algorithm.rho", s.Algorithm.Rho > 0 && IsFloat(s.Algorithm.Rho), $"{s.Algorithm.Rho} must be a finite number > 0{FloatRange}");
        Check("algorithm.momentum", s.Algorithm.Momentum is >= 0 and < 1, $"{s.Algorithm.Momentum} must be in [0, 1)");
        OneOf("algorithm.optimizer", s.Algorithm.Optimizer, Optimizers.All);
        Check("algorithm.optimizer", s.Algorithm.Optimizer == Optimizers.Sgd || s.Algorithm.Type == AlgorithmTypes.GaSgd, $"\"{s.Algorithm.Optimizer}\" is a GA-SGD step rule; set algorithm.type to \"ga-sgd\" or use \"sgd\"");
        Check("algorithm.momentum", s.Algorithm.Optimizer != Optimizers.Adam || s.Algorithm.Momentum == 0, $"{s.Algorithm.Momentum}: Adam keeps its own momentum (algorithm.beta1); leave momentum out with \"adam\"");
        Check("algorithm.beta1", s.Algorithm.Beta1 is >= 0 and < 1, $"{s.Algorithm.Beta1} must be in [0, 1)");
        Check("algorithm.beta2", s.Algorithm.Beta2 is >= 0 and < 1, $"{s.Algorithm.Beta2} must be in [0, 1)");
        Check("algorithm.epsilon", s.Algorithm.Epsilon > 0 && IsFloat(s.Algorithm.Epsilon), $"{s.Algorithm.Epsilon} must be a finite number > 0{FloatRange}");
        OneOf("communication.channel", s.Communication.Channel, ChannelKinds.All);
        // An empty endpoint is the deployment's default, resolved where the channel is opened.
        if (s.Communication.Endpoint.Length > 0) ChannelEndpoint.Parse(s.Communication.Channel, s.Communication.Endpoint);
        OneOf("communication.pattern", s.Communication.Pattern, Patterns.All);
        Check("communication.shards", s.Communication.Shards is >= 1 and <= 1000, $"{s.Communication.Shards} must be between 1 and 1000");
        Check("communication.shards", s.Communication.Pattern != Patterns.AllReduce || s.Communication.Shards == 1,
            $"all-reduce merges in one shard; for {s.Communication.Shards} shards set communication.pattern to \"scatter-reduce\"");
        Check("communication.fanIn", s.Communication.Pattern == Patterns.Tree ? s.Communication.FanIn is >= 2 and <= 1000 : s.Communication.FanIn == 0,
            s.Communication.Pattern == Patterns.Tree
                ? $"{s.Communication.FanIn} must be between 2 and 1000: the children each tree merger combines"
                : $"{s.Communication.FanIn}: fanIn belongs to the tree pattern; set communication.pattern to \"tree\" or leave fanIn out");
        Check("communication.shards", s.Communication.Pattern != Patterns.Tree || s.Communication.Shards == 1,
            $"the tree pattern aggregates the whole model at every level; leave shards at 1 (got {s.Communication.Shards})");
        Check("communication.dropRate", s.Communication.DropRate is >= 0 and < 1, $"{s.Communication.DropRate} must be in [0, 1)");
        ValidateSynchronization(s);
        if (s.Stop.TargetLoss is { } t) Check("stop.targetLoss", double.IsFinite(t), "must be a finite number");
        Check("stop.maxRounds", s.Stop.MaxRounds is >= 1 and <= 1_000_000, $"{s.Stop.MaxRounds} must be between 1 and 1000000");
        ValidateSchedule(s);
        Check("stop.maxSeconds", s.Stop.MaxSeconds > 0, $"{s.Stop.MaxSeconds} must be > 0");
        if (s.Stop.MaxCostUsd is { } c) Check("stop.maxCostUsd", c > 0, $"{c} must be > 0");
        Check("stop.tolerance", s.Stop.Tolerance is >= 0 and < 1, $"{s.Stop.Tolerance} must be in [0, 1)");
        Check("stop.modelTolerance", s.Stop.ModelTolerance is >= 0 and < 1, $"{s.Stop.ModelTolerance} must be in [0, 1)");
        if (s.Stop.Gap is { } gap)
        {
            Check("stop.gap", gap is >= 1e-5 and < 1, $"{gap} must be in [1e-5, 1): the certified relative gap, e.g. 1e-4 for 0.01% above the optimum (a certificate never goes below ~2e-6, its float32 rounding allowance)");
            Check("stop.gap", AlgorithmTypes.Certifies(s.Algorithm.Type), $"'{s.Algorithm.Type}' reports no certified gap per round; use algorithm.type \"newton\" or \"cocoa\", or stop.tolerance");
        }
        if (s.Algorithm.Type == AlgorithmTypes.Newton) Algorithms.Newton.Validate(s);
        if (s.Algorithm.Type == AlgorithmTypes.Cocoa) Algorithms.Cocoa.Validate(s);
        Check("stop.divergenceFactor", s.Stop.DivergenceFactor > 1, $"{s.Stop.DivergenceFactor} must be > 1");
        Check("stop.roundsPerExecution", s.Stop.RoundsPerExecution >= 0, $"{s.Stop.RoundsPerExecution} must be ≥ 0 (0 = derive from the history limit)");
        var perRound = Training.StopRules.EventsPerRound(s);
        var events = (long)s.Stop.RoundsPerExecution * perRound + Training.StopRules.HistoryReserve;
        Check("stop.roundsPerExecution", events <= Training.StopRules.HistoryEventLimit,
            $"{s.Stop.RoundsPerExecution} rounds × {perRound} history events per round ({(s.Communication.Pattern == Patterns.Tree ? "the tree's levels" : $"{s.Communication.Shards} shard(s)")}) + {Training.StopRules.HistoryReserve} = {events:N0} events, over Step Functions' {Training.StopRules.HistoryEventLimit:N0}-event history limit: use at most {Training.StopRules.RoundsPerExecution(s with { Stop = s.Stop with { RoundsPerExecution = 0 } })}, or 0 to derive it");
        Check("workers.memoryMb", s.Workers.MemoryMb is >= 128 and <= 10240, $"{s.Workers.MemoryMb} must be between 128 and 10240 (the Lambda limits)");
        if (s.Workers.ToleratedFailurePercentage is { } tolerated)
            Check("workers.toleratedFailurePercentage", tolerated is >= 0 and <= 100, $"{tolerated} must be between 0 and 100");
        Check("workers.maxConcurrency", s.Workers.MaxConcurrency >= 0, $"{s.Workers.MaxConcurrency} must be ≥ 0 (0 = all partitions at once)");
    }

    /// <summary>A step-size schedule needs an algorithm that takes SGD steps, and a round count it can follow: the
    /// synchronous round (stop.maxRounds bounds it). Newton, CoCoA+ and KMeans-EM take no step size.</summary>
    private static void ValidateSchedule(JobSpec s)
    {
        var a = s.Algorithm;
        OneOf("algorithm.schedule", a.Schedule, Schedules.All);
        Check("algorithm.warmupRounds", a.WarmupRounds >= 0 && a.WarmupRounds < s.Stop.MaxRounds,
            $"{a.WarmupRounds} must be ≥ 0 and below stop.maxRounds ({s.Stop.MaxRounds}): the warm-up must end before the run does");
        if (!a.IsScheduled) return;
        var field = a.Schedule != Schedules.Constant ? "algorithm.schedule" : "algorithm.warmupRounds";
        Check(field, a.Type is AlgorithmTypes.GaSgd or AlgorithmTypes.MaSgd or AlgorithmTypes.Admm,
            $"'{a.Type}' takes no step size, so it has no schedule; leave schedule and warmupRounds out, or use \"ga-sgd\", \"ma-sgd\" or \"admm\"");
        Check(field, !s.Communication.IsAsync,
            "a schedule follows the synchronous round; with communication.synchronization \"async\" every worker counts its own updates, so leave schedule and warmupRounds out");
    }

    /// <summary>Asynchronous training (S-ASP) needs an algorithm whose update a worker can apply alone to the current
    /// model (GA-SGD's step, MA-SGD's share of its local progress); ADMM, Newton and KMeans-EM combine every worker's
    /// statistic in one update, which is the barrier async removes. One model in the channel: no shards, tree or drops.</summary>
    private static void ValidateSynchronization(JobSpec s)
    {
        var c = s.Communication;
        OneOf("communication.synchronization", c.Synchronization, Synchronizations.All);
        if (!c.IsAsync) return;
        Check("communication.synchronization", s.Algorithm.Type is AlgorithmTypes.GaSgd or AlgorithmTypes.MaSgd,
            $"\"async\" works with algorithm.type \"ga-sgd\" or \"ma-sgd\"; '{s.Algorithm.Type}' merges every worker's statistic in one update and needs \"sync\"");
        Check("communication.synchronization", c.Pattern == Patterns.AllReduce && c.Shards == 1,
            $"\"async\" keeps one model that every worker updates; set communication.pattern to \"all-reduce\" with one shard (got \"{c.Pattern}\", {c.Shards} shard(s))");
        Check("communication.synchronization", c.DropRate == 0,
            $"\"async\" applies every update atomically and drops none; leave communication.dropRate at 0 (got {c.DropRate})");
    }

    private static void Check(string field, bool ok, string message)
    {
        if (!ok) throw new JobSpecException(field, message);
    }

    private static void OneOf(string field, string value, string[] allowed)
    {
        if (Array.IndexOf(allowed, value) >= 0) return;
        var closest = Closest(value, allowed);
        throw new JobSpecException(field, $"'{value}' is not one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}" + (closest is null ? "" : $"; did you mean \"{closest}\"?"));
    }

    internal static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Levenshtein(name.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return bestDistance <= Math.Max(2, name.Length / 2) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    /// <summary>A JSON object being read, with its path for messages.</summary>
    private readonly struct Obj(JsonElement? element, string path)
    {
        private string PathOf(string name) => path.Length == 0 ? name : path + "." + name;

        public void Known(params string[] names)
        {
            if (element is not { } e) return;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in e.EnumerateObject())
            {
                if (Array.IndexOf(names, p.Name) < 0)
                {
                    var closest = Closest(p.Name, names);
                    throw new JobSpecException(PathOf(p.Name), "unknown field" + (closest is null
                        ? $"; valid fields here: {string.Join(", ", names)}"
                        : $"; did you mean '{closest}'?"));
                }
                if (!seen.Add(p.Name))
                    throw new JobSpecException(PathOf(p.Name), "appears more than once; keep one value");
            }
        }

        private JsonElement? Get(string name) =>
            element is { } e && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public Obj Child(string name, bool required = false)
        {
            if (element is not { } e)
                return new Obj(null, PathOf(name));
            if (e.ValueKind != JsonValueKind.Object)
                throw new JobSpecException(path.Length == 0 ? "$" : path, $"must be a JSON object, not {e.ValueKind}");
            var v = Get(name);
            if (v is null && required) throw new JobSpecException(PathOf(name), "is required");
            if (v is { ValueKind: not JsonValueKind.Object })
                throw new JobSpecException(PathOf(name), $"must be a JSON object, not {v.Value.ValueKind}");
            return new Obj(v, PathOf(name));
        }

        public string String(string name, string fallback, bool required = false)
        {
            var v = Get(name);
            if (v is null)
                return required ? throw new JobSpecException(PathOf(name), "is required") : fallback;
            return v.Value.ValueKind == JsonValueKind.String ? v.Value.GetString()! : throw new JobSpecException(PathOf(name), $"must be a string, not {v.Value.ValueKind}");
        }

        public string? OptionalString(string name) => Get(name) is null ? null : String(name, "");

        public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

        public double[]? OptionalDoubles(string name)
        {
            var v = Get(name);
            if (v is null) return null;
            if (v.Value.ValueKind != JsonValueKind.Array)
                throw new JobSpecException(PathOf(name), $"must be an array of numbers, not {Show(v.Value)}");
            var result = new double[v.Value.GetArrayLength()];
            var i = 0;
            foreach (var item in v.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetDouble(out result[i]))
                    throw new JobSpecException($"{PathOf(name)}[{i}]", $"must be a number, not {Show(item)}");
                i++;
            }
            return result;
        }

        public double? OptionalDouble(string name)
        {
            var v = Get(name);
            if (v is null) return null;
            if (v.Value.ValueKind == JsonValueKind.Number && v.Value.TryGetDouble(out var d)) return d;
            throw new JobSpecException(PathOf(name), $"must be a number, not {Show(v.Value)}");
        }

        public int Int(string name, int fallback)
        {
            var v = Get(name);
            if (v is null) return fallback;
            if (v.Value.ValueKind == JsonValueKind.Number && v.Value.TryGetInt32(out var i)) return i;
            throw new JobSpecException(PathOf(name), $"must be a whole number, not {Show(v.Value)}");
        }

        public ulong ULong(string name, ulong fallback)
        {
            var v = Get(name);
            if (v is null) return fallback;
            if (v.Value.ValueKind == JsonValueKind.Number && v.Value.TryGetUInt64(out var i)) return i;
            throw new JobSpecException(PathOf(name), $"must be a whole number ≥ 0, not {Show(v.Value)}");
        }

        public int[] Ints(string name, int[] fallback)
        {
            var v = Get(name);
            if (v is null) return fallback;
            if (v.Value.ValueKind != JsonValueKind.Array) throw new JobSpecException(PathOf(name), $"must be an array of whole numbers, not {Show(v.Value)}");
            var values = new int[v.Value.GetArrayLength()];
            var i = 0;
            foreach (var item in v.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out values[i]))
                    throw new JobSpecException($"{PathOf(name)}[{i}]", $"must be a whole number, not {Show(item)}");
                i++;
            }
            return values;
        }

        public bool Bool(string name, bool fallback)
        {
            var v = Get(name);
            if (v is null) return fallback;
            return v.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new JobSpecException(PathOf(name), $"must be true or false, not {Show(v.Value)}"),
            };
        }

        private static string Show(JsonElement v) => v.ValueKind == JsonValueKind.String
            ? $"the string \"{v.GetString()}\""
            : v.GetRawText().Length > 40 ? v.ValueKind.ToString() : v.GetRawText();
    }

    /// <summary>Serialises a validated spec with every default filled in (what Prepare stores as job.json).</summary>
    public static string ToJson(JobSpec s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            if (s.RunId is not null) w.WriteString("runId", s.RunId);
            w.WriteStartObject("dataset");
            w.WriteString("path", s.Dataset.Path);
            w.WriteString("format", s.Dataset.Format);
            w.WriteNumber("features", s.Dataset.Features);
            w.WriteNumber("partitions", s.Dataset.Partitions);
            w.WriteNumber("validationFraction", s.Dataset.ValidationFraction);
            w.WriteBoolean("csvHeader", s.Dataset.CsvHeader);
            w.WriteBoolean("sparse", s.Dataset.Sparse);
            if (s.Dataset.PartitionWeights is { } weights)
            {
                w.WriteStartArray("partitionWeights");
                foreach (var weight in weights) w.WriteNumberValue(weight);
                w.WriteEndArray();
            }
            w.WriteString("labels", s.Dataset.Labels);
            w.WriteString("testPath", s.Dataset.TestPath);
            w.WriteString("testLabels", s.Dataset.TestLabels);
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", s.Model.Type);
            w.WriteNumber("l2", s.Model.L2);
            w.WriteNumber("l1", s.Model.L1);
            w.WriteString("loss", s.Model.Loss);
            w.WriteNumber("clusters", s.Model.Clusters);
            w.WriteNumber("classes", s.Model.Classes);
            WriteInts(w, "hidden", s.Model.Hidden);
            WriteInts(w, "channels", s.Model.Channels);
            w.WriteNumber("kernelSize", s.Model.KernelSize);
            WriteInts(w, "inputShape", s.Model.InputShape);
            w.WriteNumber("depth", s.Model.Depth);
            w.WriteNumber("widthMultiplier", s.Model.WidthMultiplier);
            w.WriteNumber("cropPadding", s.Model.CropPadding);
            w.WriteBoolean("horizontalFlip", s.Model.HorizontalFlip);
            w.WriteEndObject();
            w.WriteStartObject("algorithm");
            w.WriteString("type", s.Algorithm.Type);
            w.WriteNumber("learningRate", s.Algorithm.LearningRate);
            w.WriteNumber("batchSize", s.Algorithm.BatchSize);
            w.WriteNumber("localEpochs", s.Algorithm.LocalEpochs);
            w.WriteNumber("rho", s.Algorithm.Rho);
            w.WriteNumber("momentum", s.Algorithm.Momentum);
            w.WriteString("optimizer", s.Algorithm.Optimizer);
            w.WriteNumber("beta1", s.Algorithm.Beta1);
            w.WriteNumber("beta2", s.Algorithm.Beta2);
            w.WriteNumber("epsilon", s.Algorithm.Epsilon);
            // Written only when set, so the stored form of every job from before schedules stays byte-identical.
            if (s.Algorithm.Schedule != Schedules.Constant) w.WriteString("schedule", s.Algorithm.Schedule);
            if (s.Algorithm.WarmupRounds > 0) w.WriteNumber("warmupRounds", s.Algorithm.WarmupRounds);
            w.WriteEndObject();
            w.WriteStartObject("communication");
            w.WriteString("channel", s.Communication.Channel);
            if (s.Communication.Endpoint.Length > 0) w.WriteString("endpoint", s.Communication.Endpoint);
            w.WriteString("pattern", s.Communication.Pattern);
            w.WriteNumber("shards", s.Communication.Shards);
            w.WriteNumber("fanIn", s.Communication.FanIn);
            w.WriteNumber("dropRate", s.Communication.DropRate);
            if (s.Communication.IsAsync) w.WriteString("synchronization", s.Communication.Synchronization);
            w.WriteEndObject();
            w.WriteStartObject("stop");
            if (s.Stop.TargetLoss is { } t) w.WriteNumber("targetLoss", t);
            w.WriteNumber("maxRounds", s.Stop.MaxRounds);
            w.WriteNumber("maxSeconds", s.Stop.MaxSeconds);
            if (s.Stop.MaxCostUsd is { } c) w.WriteNumber("maxCostUsd", c);
            w.WriteNumber("tolerance", s.Stop.Tolerance);
            w.WriteNumber("modelTolerance", s.Stop.ModelTolerance);
            if (s.Stop.Gap is { } gap) w.WriteNumber("gap", gap);
            w.WriteNumber("divergenceFactor", s.Stop.DivergenceFactor);
            w.WriteNumber("roundsPerExecution", s.Stop.RoundsPerExecution);
            w.WriteEndObject();
            w.WriteStartObject("workers");
            w.WriteNumber("memoryMb", s.Workers.MemoryMb);
            if (s.Workers.ToleratedFailurePercentage is { } tolerated) w.WriteNumber("toleratedFailurePercentage", tolerated);
            w.WriteNumber("maxConcurrency", s.Workers.MaxConcurrency);
            w.WriteEndObject();
            w.WriteNumber("seed", s.Seed);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteInts(Utf8JsonWriter w, string name, int[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    internal static string Format(double d) => d.ToString("R", CultureInfo.InvariantCulture);
}
