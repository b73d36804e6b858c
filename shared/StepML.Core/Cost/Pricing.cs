namespace StepML.Core.Cost;

/// <summary>
/// AWS list prices (us-east-1, on-demand) that the cost estimates use. They change rarely; when they do, this is
/// the one place to edit. Sources: the AWS Lambda, Amazon S3 and AWS Step Functions pricing pages.
/// </summary>
public static class Pricing
{
    public const double LambdaGbSecondX86 = 0.0000166667;
    public const double LambdaGbSecondArm = 0.0000133334;
    public const double LambdaRequest = 0.20 / 1_000_000;
    public const double S3Put = 0.005 / 1_000;
    public const double S3Get = 0.0004 / 1_000;
    public const double StepFunctionsTransition = 0.025 / 1_000;

    /// <summary>Cost of Lambda invocations totalling <paramref name="seconds"/> of billed duration.</summary>
    public static double Lambda(double seconds, int memoryMb, int invocations, bool arm = false) =>
        seconds * (memoryMb / 1024.0) * (arm ? LambdaGbSecondArm : LambdaGbSecondX86) + invocations * LambdaRequest;

    /// <summary>The request cost of one round: each worker writes its statistic (and state) and reads the model;
    /// each merger reads one range per worker and writes its shard; Decide reads the shards and writes the model.</summary>
    public static double RoundRequests(int workers, int shards, bool workerState) =>
        S3Put * (workers * (workerState ? 2 : 1) + shards + 2) +
        S3Get * (workers * (workerState ? 2 : 1) + shards * (workers + 1) + shards + 2);
}
