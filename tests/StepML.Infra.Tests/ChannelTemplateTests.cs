using System.Text.Json;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using StepML.Infra;
using Match = Amazon.CDK.Assertions.Match;

namespace StepML.Infra.Tests;

// The DynamoDB channel table, always in the stack.
public sealed class ChannelTableTemplateTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private string TableId => stack.Resources("AWS::DynamoDB::Table").Single(r => r.LogicalId.StartsWith("Channel", StringComparison.Ordinal)).LogicalId;

    private IEnumerable<string> DynamoDbActionsOf(string function)
    {
        var roleId = Policy.Render(stack.Resource(stack.FunctionId(function)).GetProperty("Properties").GetProperty("Role"))["arn(".Length..^1];
        // The channel table's statements (the run ledger's table has its own, tested in LedgerTableTests).
        return stack.StatementsOfRole(roleId).Where(s => Policy.Resources(s).Any(r => r.Contains(TableId, StringComparison.Ordinal)))
            .SelectMany(Policy.Actions).Where(a => a.StartsWith("dynamodb:", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
    }

    [Fact]
    public void Table_KeysBillingAndTtl_AreWhatTheChannelUses()
    {
        stack.Template.HasResourceProperties("AWS::DynamoDB::Table", new Dictionary<string, object>
        {
            ["KeySchema"] = new object[]
            {
                new Dictionary<string, object> { ["AttributeName"] = "key", ["KeyType"] = "HASH" },
                new Dictionary<string, object> { ["AttributeName"] = "offset", ["KeyType"] = "RANGE" },
            },
            ["AttributeDefinitions"] = Match.ArrayWith(new object[] { new Dictionary<string, object> { ["AttributeName"] = "offset", ["AttributeType"] = "N" } }),
            ["BillingMode"] = "PAY_PER_REQUEST",
            ["TimeToLiveSpecification"] = new Dictionary<string, object> { ["AttributeName"] = "expiresAt", ["Enabled"] = true },
        });
        // The names the channel code writes.
        Assert.Equal("key", Storage.Channels.DynamoDbChannel.KeyAttribute);
        Assert.Equal("offset", Storage.Channels.DynamoDbChannel.OffsetAttribute);
        Assert.Equal("expiresAt", Storage.Channels.DynamoDbChannel.ExpiresAttribute);
    }

    [Fact]
    public void FunctionRoles_TableAccess_IsExactlyWhatEachStepCalls()
    {
        // Worker and Decide also read and swap asynchronous training's register (GetItem, conditional PutItem).
        Assert.Equal(["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"], DynamoDbActionsOf("Worker"));
        Assert.Equal(["dynamodb:BatchWriteItem", "dynamodb:Query"], DynamoDbActionsOf("Merge"));
        Assert.Equal(["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:Query"], DynamoDbActionsOf("Decide"));
        foreach (var other in new[] { "Prepare", "Finalize", "RecordFailure" })
            Assert.Empty(DynamoDbActionsOf(other));
    }

    [Fact]
    public void FunctionRoles_TableStatements_NameOnlyTheTable()
    {
        var statements = stack.Resources("AWS::IAM::Policy")
            .SelectMany(p => p.Resource.GetProperty("Properties").GetProperty("PolicyDocument").GetProperty("Statement").EnumerateArray())
            .Where(s => Policy.Actions(s).Any(a => a.StartsWith("dynamodb:", StringComparison.Ordinal)))
            .Select(s => Policy.Resources(s).Where(r => r != "ref(AWS::NoValue)").Distinct().ToList())
            .ToList();
        var ledger = $"arn({stack.Resources("AWS::DynamoDB::Table").Single(r => r.LogicalId.StartsWith("Ledger", StringComparison.Ordinal)).LogicalId})";

        // Every DynamoDB statement names exactly one table: the channel table, or the run ledger's.
        Assert.All(statements, resources => Assert.Single(resources));
        Assert.Equal(new[] { ledger, $"arn({TableId})" }.Order(StringComparer.Ordinal), statements.SelectMany(r => r).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Functions_Environment_NamesTheTable()
    {
        // Every training function; the Search function (search machine) uses no channel.
        var functions = stack.Resources("AWS::Lambda::Function").Where(f => !IsSearch(f.Resource)).ToList();
        Assert.Equal(FunctionCatalog.All.Count, functions.Count);
        foreach (var (_, function) in functions)
        {
            var table = function.GetProperty("Properties").GetProperty("Environment").GetProperty("Variables").GetProperty(ChannelTable.TableVariable);
            Assert.Equal($"ref({TableId})", Policy.Render(table));
        }
    }

    internal static bool IsSearch(JsonElement function) =>
        function.GetProperty("Properties").GetProperty("Handler").GetString()!.EndsWith(".SearchFunction::HandleAsync", StringComparison.Ordinal);

    [Fact]
    public void DefaultStack_HasNoRedisCacheAndNoVpc()
    {
        stack.Template.ResourceCountIs("AWS::ElastiCache::ServerlessCache", 0);
        stack.Template.ResourceCountIs("AWS::EC2::VPC", 0);
    }
}

// The Redis channel behind -c stepml:redis=true.
public sealed class RedisStackFixture : IDisposable
{
    internal SynthesizedStack Stack { get; } = new(new Dictionary<string, object> { [InfraSettings.RedisKey] = "true" });

    public void Dispose() => Stack.Dispose();
}

public sealed class RedisChannelTemplateTests(RedisStackFixture fixture) : IClassFixture<RedisStackFixture>
{
    private readonly SynthesizedStack _stack = fixture.Stack;

    private string Id(string type, string containing) => _stack.Resources(type).Single(r => r.LogicalId.Contains(containing, StringComparison.Ordinal)).LogicalId;

    [Fact]
    public void Cache_IsServerlessValkeyInThePrivateSubnets()
    {
        var cache = _stack.Resources("AWS::ElastiCache::ServerlessCache").Single().Resource.GetProperty("Properties");

        Assert.Equal("valkey", cache.GetProperty("Engine").GetString());
        var subnets = cache.GetProperty("SubnetIds").EnumerateArray().Select(Policy.Render).Order(StringComparer.Ordinal).ToList();
        var isolated = _stack.Resources("AWS::EC2::Subnet").Select(s => $"ref({s.LogicalId})").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(isolated, subnets);
        Assert.All(_stack.Resources("AWS::EC2::Subnet"), s => Assert.False(s.Resource.GetProperty("Properties").GetProperty("MapPublicIpOnLaunch").GetBoolean()));
        _stack.Template.ResourceCountIs("AWS::EC2::NatGateway", 0);
        _stack.Template.ResourceCountIs("AWS::EC2::InternetGateway", 0);
    }

    [Fact]
    public void CacheSecurityGroup_AdmitsOnlyTheFunctions()
    {
        var cacheGroup = Id("AWS::EC2::SecurityGroup", "RedisChannelSecurityGroup");
        var functionGroup = Id("AWS::EC2::SecurityGroup", "ChannelNetworkFunctions");
        var cache = _stack.Resources("AWS::ElastiCache::ServerlessCache").Single().Resource.GetProperty("Properties");
        Assert.Equal([$"groupid({cacheGroup})"], cache.GetProperty("SecurityGroupIds").EnumerateArray().Select(Policy.Render));

        var ingress = _stack.Resources("AWS::EC2::SecurityGroupIngress").Select(r => r.Resource.GetProperty("Properties"))
            .Where(p => Policy.Render(p.GetProperty("GroupId")) == $"groupid({cacheGroup})").ToList();
        var rule = Assert.Single(ingress);
        Assert.Equal($"groupid({functionGroup})", Policy.Render(rule.GetProperty("SourceSecurityGroupId")));
        Assert.Equal((6379, 6380), (rule.GetProperty("FromPort").GetInt32(), rule.GetProperty("ToPort").GetInt32()));
        Assert.False(_stack.Resource(cacheGroup).GetProperty("Properties").TryGetProperty("SecurityGroupIngress", out _), "the cache group has inline ingress rules");
    }

    [Fact]
    public void Functions_RunInThePrivateSubnetsWithTheFunctionGroupAndKnowTheEndpoint()
    {
        var functionGroup = Id("AWS::EC2::SecurityGroup", "ChannelNetworkFunctions");
        foreach (var (_, function) in _stack.Resources("AWS::Lambda::Function").Where(f => !ChannelTableTemplateTests.IsSearch(f.Resource)))
        {
            var properties = function.GetProperty("Properties");
            var vpc = properties.GetProperty("VpcConfig");
            Assert.Equal([$"groupid({functionGroup})"], vpc.GetProperty("SecurityGroupIds").EnumerateArray().Select(Policy.Render));
            Assert.Equal(2, vpc.GetProperty("SubnetIds").GetArrayLength());
            var endpoint = properties.GetProperty("Environment").GetProperty("Variables").GetProperty(RedisChannelCache.EndpointVariable);
            Assert.StartsWith("rediss://", Policy.Render(endpoint.GetProperty("Fn::Join")[1][0]));
        }
    }

    [Fact]
    public void Vpc_S3AndDynamoDb_ReachedThroughGatewayEndpoints()
    {
        var endpoints = _stack.Resources("AWS::EC2::VPCEndpoint").Select(e => e.Resource.GetProperty("Properties")).ToList();

        Assert.Equal(2, endpoints.Count);
        Assert.All(endpoints, e => Assert.Equal("Gateway", e.GetProperty("VpcEndpointType").GetString()));
        var services = endpoints.Select(e => JsonSerializer.Serialize(e.GetProperty("ServiceName"))).ToList();
        Assert.Contains(services, s => s.Contains(".s3", StringComparison.Ordinal));
        Assert.Contains(services, s => s.Contains(".dynamodb", StringComparison.Ordinal));
    }

    [Fact]
    public void FromContext_RedisFlagNotABoolean_NamesTheKey()
    {
        var e = Assert.Throws<ArgumentException>(() => InfraSettings.FromContext(new App(new AppProps { Context = new Dictionary<string, object> { [InfraSettings.RedisKey] = "yes" } })));

        Assert.Contains("stepml:redis='yes'", e.Message);
    }
}
