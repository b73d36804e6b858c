using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.ElastiCache;
using Constructs;

namespace StepML.Infra;

// The ElastiCache Serverless cache that carries statistics for communication.channel "redis". Its TLS endpoint goes to
// every function as STEPML_REDIS_ENDPOINT, the default for jobs that name no endpoint.
internal sealed class RedisChannelCache : Construct
{
    public const string EndpointVariable = "STEPML_REDIS_ENDPOINT";

    public CfnServerlessCache Cache { get; }
    public SecurityGroup SecurityGroup { get; }

    public RedisChannelCache(Construct scope, string id, ChannelNetwork network, TrainingFunctions functions) : base(scope, id)
    {
        SecurityGroup = new SecurityGroup(this, "SecurityGroup", new SecurityGroupProps
        {
            Vpc = network.Vpc,
            Description = "StepML Redis channel: admits only the StepML functions",
            AllowAllOutbound = false,
        });
        // 6379 is the primary endpoint, 6380 the reader endpoint of a serverless cache.
        SecurityGroup.AddIngressRule(network.FunctionSecurityGroup, Port.TcpRange(6379, 6380), "StepML functions");
        Cache = new CfnServerlessCache(this, "Cache", new CfnServerlessCacheProps
        {
            Engine = "valkey",
            MajorEngineVersion = "8",
            ServerlessCacheName = Names.UniqueResourceName(this, new UniqueResourceNameOptions { MaxLength = 40, Separator = "-" }).ToLowerInvariant(),
            Description = "StepML statistics channel",
            SecurityGroupIds = [SecurityGroup.SecurityGroupId],
            SubnetIds = network.Vpc.SelectSubnets(network.FunctionSubnets).SubnetIds,
        });
        var endpoint = Fn.Join("", ["rediss://", Cache.AttrEndpointAddress, ":", Cache.AttrEndpointPort]);
        foreach (var function in functions.ByName.Values)
            function.AddEnvironment(EndpointVariable, endpoint);
    }
}
