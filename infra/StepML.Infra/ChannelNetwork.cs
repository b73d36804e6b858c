using Amazon.CDK.AWS.EC2;
using Constructs;

namespace StepML.Infra;

// The network of the optional Redis channel (-c stepml:redis=true): a VPC whose isolated private subnets hold the
// functions and an ElastiCache Serverless (Valkey) cache. No NAT: S3 and DynamoDB are reached through gateway endpoints.
// The cache's security group admits only the functions' security group, on the cache's ports.
internal sealed class ChannelNetwork : Construct
{
    public Vpc Vpc { get; }
    public SecurityGroup FunctionSecurityGroup { get; }
    public SubnetSelection FunctionSubnets { get; } = new() { SubnetType = SubnetType.PRIVATE_ISOLATED };

    public ChannelNetwork(Construct scope, string id) : base(scope, id)
    {
        Vpc = new Vpc(this, "Vpc", new VpcProps
        {
            MaxAzs = 2,
            NatGateways = 0,
            SubnetConfiguration = [new SubnetConfiguration { Name = "functions", SubnetType = SubnetType.PRIVATE_ISOLATED, CidrMask = 22 }],
        });
        Vpc.AddGatewayEndpoint("S3", new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.S3, Subnets = [FunctionSubnets] });
        Vpc.AddGatewayEndpoint("DynamoDb", new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.DYNAMODB, Subnets = [FunctionSubnets] });
        FunctionSecurityGroup = new SecurityGroup(this, "Functions", new SecurityGroupProps
        {
            Vpc = Vpc,
            Description = "StepML functions (the only clients of the Redis channel)",
            AllowAllOutbound = true,
        });
    }
}
