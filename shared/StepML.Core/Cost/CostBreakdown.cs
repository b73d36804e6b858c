namespace StepML.Core.Cost;

/// <summary>One function's line of a cost breakdown.</summary>
public sealed record FunctionCost(string Name, int MemoryMb, long Invocations, double Seconds, double GbSeconds, double Usd);

/// <summary>
/// A run's cost by resource, as final.json and the report show it: Lambda per function, S3 requests by kind, Step
/// Functions transitions and EXPRESS child executions, the channel. Prices from <see cref="Pricing"/>.
/// </summary>
public sealed record CostBreakdown
{
    public FunctionCost[] Lambda { get; init; } = [];
    public double LambdaUsd { get; init; }
    public long S3Puts { get; init; }
    public long S3Gets { get; init; }
    public double S3Usd { get; init; }
    public long Transitions { get; init; }
    public double TransitionsUsd { get; init; }
    public long ExpressExecutions { get; init; }
    public double ExpressGbSeconds { get; init; }
    public double ExpressUsd { get; init; }
    /// <summary>s3, redis or dynamodb; the channel's own charges (S3 channel requests are in the S3 line).</summary>
    public string Channel { get; init; } = "s3";
    public long ChannelReads { get; init; }
    public long ChannelWrites { get; init; }
    public long ChannelReadUnits { get; init; }
    public long ChannelWriteUnits { get; init; }
    public double ChannelGbHours { get; init; }
    public double ChannelUsd { get; init; }
    public double TotalUsd { get; init; }
    public string PricesAsOf { get; init; } = Pricing.AsOf;
    public string Region { get; init; } = Pricing.Region;
}

/// <summary>Prices a <see cref="ResourceUsage"/>: the one function every dollar figure in StepML goes through.</summary>
public static class CostModel
{
    public static CostBreakdown Price(ResourceUsage usage, string channel, bool arm = false)
    {
        var lambda = usage.Functions.OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => new FunctionCost(f.Key, f.Value.MemoryMb, f.Value.Invocations, f.Value.Seconds, f.Value.GbSeconds,
                Pricing.Lambda(f.Value.Seconds, f.Value.MemoryMb, f.Value.Invocations, arm)))
            .ToArray();
        var lambdaUsd = lambda.Sum(f => f.Usd);
        var s3 = usage.S3Puts * Pricing.S3Put + usage.S3Gets * Pricing.S3Get;
        var transitions = usage.Transitions * Pricing.StepFunctionsTransition;
        var express = usage.ExpressExecutions * Pricing.ExpressRequest + usage.ExpressGbSeconds * Pricing.ExpressGbSecond;
        var channelUsd = channel switch
        {
            "dynamodb" => usage.ChannelReadUnits * Pricing.DynamoDbReadUnit + usage.ChannelWriteUnits * Pricing.DynamoDbWriteUnit,
            "redis" => usage.ChannelGbHours * Pricing.ValkeyGbHour + Math.Ceiling(usage.ChannelBytes / 1024.0) * Pricing.ValkeyEcpu,
            _ => 0,
        };
        return new CostBreakdown
        {
            Lambda = lambda,
            LambdaUsd = lambdaUsd,
            S3Puts = usage.S3Puts,
            S3Gets = usage.S3Gets,
            S3Usd = s3,
            Transitions = usage.Transitions,
            TransitionsUsd = transitions,
            ExpressExecutions = usage.ExpressExecutions,
            ExpressGbSeconds = usage.ExpressGbSeconds,
            ExpressUsd = express,
            Channel = channel,
            ChannelReads = usage.ChannelReads,
            ChannelWrites = usage.ChannelWrites,
            ChannelReadUnits = usage.ChannelReadUnits,
            ChannelWriteUnits = usage.ChannelWriteUnits,
            ChannelGbHours = usage.ChannelGbHours,
            ChannelUsd = channelUsd,
            TotalUsd = lambdaUsd + s3 + transitions + express + channelUsd,
        };
    }
}
