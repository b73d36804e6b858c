namespace StepML.Core.Cost;

/// <summary>
/// AWS list prices (us-east-1, on-demand, no free tier) that every cost figure in StepML uses: the run's breakdown
/// (<see cref="CostModel"/>) and <c>stepml plan</c>. This is the one place to edit when they change.
/// Checked on <see cref="AsOf"/> against these pages:
/// Lambda https://aws.amazon.com/lambda/pricing/ (first 6 billion GB-s tier);
/// S3 https://aws.amazon.com/s3/pricing/ (Standard: PUT, COPY, POST, LIST per 1,000; GET, SELECT per 1,000; DELETE free);
/// Step Functions https://aws.amazon.com/step-functions/pricing/ (Standard per state transition; Express per request and
/// per GB-second of duration, first 1,000 GB-hours, memory in 64 MB increments and duration in 100 ms increments; one
/// transition per child execution a Distributed Map starts:
/// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html);
/// DynamoDB https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 price cut);
/// ElastiCache https://aws.amazon.com/elasticache/pricing/ (Serverless Valkey, what the stack deploys: data stored per
/// GB-hour with a 100 MB minimum, and ElastiCache Processing Units, one per kilobyte a simple command transfers).
/// </summary>
public static class Pricing
{
    public const string AsOf = "2026-11-30";
    public const string Region = "us-east-1";

    public const double LambdaGbSecondX86 = 0.0000166667;
    public const double LambdaGbSecondArm = 0.0000133334;
    public const double LambdaRequest = 0.20 / 1_000_000;
    public const double S3Put = 0.005 / 1_000;
    public const double S3Get = 0.0004 / 1_000;
    public const double StepFunctionsTransition = 0.025 / 1_000;
    public const double ExpressRequest = 1.00 / 1_000_000;
    /// <summary>$0.06 per GB-hour.</summary>
    public const double ExpressGbSecond = 0.06 / 3600;
    public const int ExpressMemoryIncrementMb = 64;
    public const double ExpressDurationIncrementSeconds = 0.1;
    public const double DynamoDbWriteUnit = 0.625 / 1_000_000;
    public const double DynamoDbReadUnit = 0.125 / 1_000_000;
    public const double ValkeyGbHour = 0.0837;
    public const double ValkeyMinimumGb = 0.1;
    public const double ValkeyEcpu = 0.0023 / 1_000_000;

    /// <summary>Cost of Lambda invocations totalling <paramref name="seconds"/> of billed duration.</summary>
    public static double Lambda(double seconds, int memoryMb, long invocations, bool arm = false) =>
        seconds * (memoryMb / 1024.0) * (arm ? LambdaGbSecondArm : LambdaGbSecondX86) + invocations * LambdaRequest;

    /// <summary>Billed GB-seconds of one EXPRESS execution: its duration rounded up to 100 ms, at
    /// <paramref name="memoryMb"/> rounded up to 64 MB (an execution of this project's small definitions uses the minimum, 64 MB).</summary>
    public static double ExpressGbSeconds(double seconds, int memoryMb = ExpressMemoryIncrementMb)
    {
        var billedSeconds = Math.Ceiling(Math.Max(seconds, 0) / ExpressDurationIncrementSeconds - 1e-9) * ExpressDurationIncrementSeconds;
        var billedMb = Math.Ceiling(Math.Max(memoryMb, 1) / (double)ExpressMemoryIncrementMb) * ExpressMemoryIncrementMb;
        return Math.Max(billedSeconds, ExpressDurationIncrementSeconds) * billedMb / 1024.0;
    }
}
