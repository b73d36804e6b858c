using StepML.Core.Algorithms;
using StepML.Core.Cost;
using StepML.Core.Jobs;

namespace StepML.Core.Planning;

/// <summary>What a plan knows of the job: its spec, the training rows and features, and the calibration.</summary>
/// <param name="DatasetBytes">The dataset's size (what Prepare and the Partition tasks read once).</param>
public sealed record PlanInput(JobSpec Job, long TrainingRows, int Features, long DatasetBytes, CalibrationResult Calibration, int Rounds);

/// <summary>One configuration's prediction: a worker's round split into compute and communication, the round with
/// the orchestration, and the run's time and dollars (priced by <see cref="CostModel"/> from the usage
/// <see cref="RoundUsage"/> counts, as a run's bill is).</summary>
public sealed record PlanPoint(int MemoryMb, int Workers, double ComputeSeconds, double CommunicationSeconds, double OverheadSeconds,
    double RoundSeconds, double TotalSeconds, double RoundUsd, double TotalUsd, string? Infeasible = null)
{
    public bool Feasible => Infeasible is null;
}

/// <summary>
/// The analytic model of a run on Lambda (LambdaML §5's, and Feng et al. 2018's C(z) = p·n·z·t(z)): a round is the
/// orchestration overhead, then the slowest worker (compute at the memory size's CPU share, plus reading the model
/// and writing its statistic), then the mergers and Decide. Communication is requests × latency + bytes ÷ bandwidth
/// over the job's channel and pattern (<see cref="CloudConstants"/>).
/// </summary>
public sealed class CloudModel(PlanInput input, CloudConstants constants, DeployedMemory memory)
{
    private const long RuntimeBytes = 256L << 20;

    public CloudConstants Constants => constants;

    /// <summary>The CPU share a worker uses at <paramref name="memoryMb"/>: vCPUs (one per 1,769 MB, at most 6),
    /// capped by the threads its kernels run.</summary>
    public double Speed(int memoryMb) =>
        Math.Min(Math.Min(memoryMb / (double)constants.MegabytesPerVcpu, constants.MaxVcpus), Math.Max(constants.WorkerThreads, 1e-9));

    /// <summary>A worker's compute per round with <paramref name="workers"/> partitions at <paramref name="memoryMb"/>
    /// (<see cref="Calibration.RowsPerWorker"/>: the same training at every worker count).</summary>
    public double Compute(int memoryMb, int workers)
    {
        var local = input.Calibration.RoundSeconds(Calibration.RowsPerWorker(input.Job, input.TrainingRows, workers));
        return local * constants.ComputeScale / Math.Min(Speed(memoryMb), Math.Max(constants.WorkerThreads, 1));
    }

    private (double Latency, double BytesPerSecond, long ItemBytes) Channel => input.Job.Communication.Channel switch
    {
        "redis" => (constants.RedisLatencySeconds, constants.RedisBytesPerSecond, long.MaxValue),
        "dynamodb" => (constants.DynamoDbLatencySeconds, constants.DynamoDbBytesPerSecond, 350_000),
        _ => (constants.S3LatencySeconds, constants.S3BytesPerSecond, long.MaxValue),
    };

    private double Transfer(long bytes, int requests = 1)
    {
        var (latency, bandwidth, item) = Channel;
        var items = item == long.MaxValue ? requests : Math.Max(requests, (long)Math.Ceiling(bytes / (double)item));
        return items * latency + bytes / bandwidth;
    }

    private double Store(long bytes, int requests = 1) => requests * constants.S3LatencySeconds + bytes / constants.S3BytesPerSecond;

    /// <summary>A worker's requests: read the model (and its state), write its statistic (and state).</summary>
    public double WorkerCommunication(int workers)
    {
        var (_, algorithm, shape, _) = Setup(workers);
        var rows = (int)Math.Min((input.TrainingRows + workers - 1) / workers, int.MaxValue);
        var stateBytes = (long)algorithm.WorkerStateLength((int)Math.Min(input.Calibration.Parameters, int.MaxValue), rows) * sizeof(float);
        return Store(shape.ModelBytes) + Transfer(shape.StatisticBytes) + (stateBytes > 0 ? Store(2 * stateBytes, 2) : 0);
    }

    public PlanPoint Predict(int memoryMb, int workers)
    {
        if (input.Job.Communication.IsAsync) return PredictAsync(memoryMb, workers);
        var (job, _, shape, partitionBytes) = Setup(workers);

        var compute = Compute(memoryMb, workers);
        var infeasible = MemoryShortfall(partitionBytes, memoryMb);
        if (infeasible is null && compute > constants.WorkerRoundSeconds)
        {
            if (job.Algorithm.Type is AlgorithmTypes.MaSgd or AlgorithmTypes.Admm) compute = constants.WorkerRoundSeconds; // the round budget cuts local epochs
            else infeasible = $"a worker's round takes {compute:F0} s, past the {constants.WorkerRoundSeconds:F0} s round budget";
        }

        var workerIo = WorkerCommunication(workers);
        // Mergers (in parallel): one range of every statistic, their model shard, their result.
        double merge;
        if (shape.TreeLevels is { } levels)
        {
            var fanIn = Math.Max(2, job.Communication.FanIn);
            merge = levels.Count * (Transfer(fanIn * shape.StatisticBytes, fanIn) + Transfer(shape.StatisticBytes)) + Store(shape.ModelBytes);
        }
        else
        {
            var slice = shape.StatisticBytes / shape.Shards;
            merge = Transfer(workers * slice, workers) + Store(shape.ModelBytes / shape.Shards) + Transfer(shape.ModelBytes / shape.Shards);
        }
        // Decide: the merged shards, the model, the record and metrics.
        var decide = Transfer(shape.ModelBytes, shape.TreeLevels is null ? shape.Shards : 1) + Store(shape.ModelBytes) + Store(0, 3);
        var waves = Waves(job, workers);
        var round = constants.RoundOverheadSeconds + waves * (compute + workerIo) + merge + decide;
        var firstExtra = constants.ColdStartSeconds * Math.Min(waves, 1) + Store(partitionBytes);
        var (ranges, start) = Start();

        var rounds = Math.Max(1, input.Rounds);
        var timed = memory.For(job).With(DeployedMemory.Worker, memoryMb);
        var workerSeconds = Enumerable.Repeat(compute + workerIo, workers).ToArray();
        var mergeSeconds = Enumerable.Repeat(merge, shape.Mergers).ToArray();
        var steady = RoundUsage.Of(shape, timed, workerSeconds, mergeSeconds, decide, round, firstRound: false, continueAsNew: false);
        var first = RoundUsage.Of(shape, timed, workerSeconds.Select(s => s + firstExtra).ToArray(), mergeSeconds, decide, round + firstExtra, firstRound: true, continueAsNew: false);
        var outside = Outside(timed, workers, ranges, start, decide + compute);
        var channel = job.Communication.Channel;
        var roundUsd = CostModel.Price(steady, channel).TotalUsd;
        var total = CostModel.Price(outside.Plus(first).Plus(steady.Times(rounds - 1)), channel).TotalUsd;
        return new PlanPoint(memoryMb, workers, compute, workerIo + merge + decide, constants.RoundOverheadSeconds,
            round, start + firstExtra + rounds * round + decide + compute, roundUsd, total, infeasible);
    }

    /// <summary>The job as <paramref name="workers"/> partitions: its algorithm, round shape and one partition's bytes.</summary>
    private (JobSpec Job, Algorithms.IAlgorithm Algorithm, RoundShape Shape, long PartitionBytes) Setup(int workers)
    {
        var job = input.Job with { Dataset = input.Job.Dataset with { Partitions = workers } };
        var algorithm = Algorithms.Algorithms.Create(job);
        var rows = (input.TrainingRows + workers - 1) / workers;
        return (job, algorithm, RoundShape.Of(job, input.Calibration.Parameters, algorithm), rows * (input.Features + 1L) * sizeof(float));
    }

    /// <summary>Why a worker does not fit in <paramref name="memoryMb"/> (its partition twice over, the model's buffers and
    /// the runtime), or null.</summary>
    private string? MemoryShortfall(long partitionBytes, int memoryMb)
    {
        var needed = 2 * partitionBytes + input.Calibration.Parameters * 16 + RuntimeBytes;
        return needed > (long)memoryMb << 20 ? $"a worker needs about {needed >> 20:N0} MB" : null;
    }

    /// <summary>How many waves the workers run in under the job's (or the account's) concurrency.</summary>
    private int Waves(JobSpec job, int workers)
    {
        var concurrency = job.Workers.MaxConcurrency > 0 ? Math.Min(job.Workers.MaxConcurrency, constants.MaxConcurrentWorkers) : constants.MaxConcurrentWorkers;
        return (workers + concurrency - 1) / concurrency;
    }

    /// <summary>Prepare and the Partition tasks read the dataset once and write the partitions, in 64 MiB ranges in
    /// parallel: the ranges and the seconds before the first round.</summary>
    private (int Ranges, double Seconds) Start()
    {
        var ranges = Math.Max(1, (int)Math.Ceiling(input.DatasetBytes / (double)(64L << 20)));
        return (ranges, 2 * constants.ColdStartSeconds + 2 * constants.RoundOverheadSeconds + 2 * Store(input.DatasetBytes / ranges));
    }

    /// <summary>Prepare and the Partition tasks (they read the dataset once and write the partitions) and Finalize.</summary>
    private static ResourceUsage Outside(DeployedMemory timed, int workers, int ranges, double start, double finalize) =>
        ResourceUsage.Function(DeployedMemory.Prepare, 2, start / 2, timed[DeployedMemory.Prepare])
            .Plus(ResourceUsage.Function(DeployedMemory.Partition, ranges + 1 + workers + 1, start / 2 * ranges, timed[DeployedMemory.Partition]))
            .Plus(ResourceUsage.Function(DeployedMemory.Finalize, 1, finalize, timed[DeployedMemory.Finalize])) with
            {
                Transitions = RoundUsage.StartTransitions + RoundUsage.PartitioningTransitions(ranges, workers + 1) + RoundUsage.FinishTransitions,
                ExpressExecutions = ranges,
                ExpressGbSeconds = ranges * Pricing.ExpressGbSeconds(start / 2),
            };

    /// <summary>
    /// An asynchronous job (communication.synchronization "async"): each worker applies stop.maxRounds updates, one after
    /// the other and without waiting for the others; an update is the worker's local work of a round, then a read of the
    /// model and its optimizer state and a write of the next version (two requests each way, the register's read and
    /// swap among them). A row of the table is then one update: "round s" is an update's time, "$/round" its share of
    /// the bill. The workers' loops last updates × that, cut into invocations of the round budget, and are billed for
    /// all of it (<see cref="AsyncUsage"/>). Conflicts (an update applied again because another worker's came first)
    /// are not modelled: each would repeat an update's communication.
    /// </summary>
    private PlanPoint PredictAsync(int memoryMb, int workers)
    {
        var (job, algorithm, shape, partitionBytes) = Setup(workers);
        var stateBytes = shape.ModelBytes * (1 + algorithm.OptimizerStateStride);
        var compute = Compute(memoryMb, workers);
        var infeasible = MemoryShortfall(partitionBytes, memoryMb);
        if (infeasible is null && compute > constants.WorkerRoundSeconds)
            infeasible = $"one update takes {compute:F0} s, past the {constants.WorkerRoundSeconds:F0} s round budget";

        var communication = 2 * Transfer(stateBytes) + 2 * Transfer(0);
        var update = compute + communication;
        var updates = Math.Max(1, input.Rounds);
        var loop = updates * update;
        var waves = Waves(job, workers);
        var firstExtra = constants.ColdStartSeconds + Store(partitionBytes) + Store(shape.ModelBytes);
        var (ranges, start) = Start();
        // Decide reads the register and the model, evaluates it on every partition (a round's compute, roughly) and writes it.
        var decide = 2 * Transfer(stateBytes) + compute + Store(shape.ModelBytes) + Store(0, 3);

        var timed = memory.For(job).With(DeployedMemory.Worker, memoryMb);
        var invocations = (long)Math.Ceiling((loop + firstExtra) / Math.Max(constants.WorkerRoundSeconds, 1e-9));
        var loops = Enumerable.Repeat(new AsyncWorkerUsage(invocations, loop + firstExtra, updates, 0), workers).ToArray();
        var phase = waves * (loop + firstExtra);
        var usage = Outside(timed, workers, ranges, start, decide).Plus(AsyncUsage.Of(shape, timed, loops, stateBytes, decide, phase));
        var total = CostModel.Price(usage, job.Communication.Channel).TotalUsd;
        return new PlanPoint(memoryMb, workers, compute, communication, 0, update, start + constants.RoundOverheadSeconds + phase + 2 * decide,
            total / updates, total, infeasible);
    }
}
