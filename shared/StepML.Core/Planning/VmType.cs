namespace StepML.Core.Planning;

/// <summary>An EC2 instance type to compare with: its vCPUs and on-demand Linux price per hour, us-east-1
/// (https://aws.amazon.com/ec2/pricing/on-demand/, as of <see cref="Cost.Pricing.AsOf"/>).</summary>
public sealed record VmType(string Name, int Vcpus, double MemoryGb, double UsdPerHour)
{
    public static readonly IReadOnlyList<VmType> Defaults =
    [
        new("c7i.large", 2, 4, 0.08925),
        new("c7i.xlarge", 4, 8, 0.1785),
        new("c7i.2xlarge", 8, 16, 0.357),
        new("c7i.4xlarge", 16, 32, 0.714),
        new("m7i.2xlarge", 8, 32, 0.4032),
    ];
}
