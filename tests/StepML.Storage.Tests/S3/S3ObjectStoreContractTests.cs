using StepML.Storage.S3;

namespace StepML.Storage.Tests.S3;

// The store contract against s3rver, one fresh bucket per test.
[Collection(S3rverCollection.Name)]
public sealed class S3ObjectStoreContractTests(S3rverFixture server) : ObjectStoreContractTests
{
    protected override IObjectStore Store { get; } =
        new S3ObjectStore(server.Client, new S3StoreLocation(server.CreateBucket(), "", server.Endpoint));
}

// The same contract through a store URI prefix: keys are stored under it and listed without it.
[Collection(S3rverCollection.Name)]
public sealed class PrefixedS3ObjectStoreContractTests(S3rverFixture server) : ObjectStoreContractTests
{
    protected override IObjectStore Store { get; } =
        new S3ObjectStore(server.Client, new S3StoreLocation(server.CreateBucket(), "teams/ml", server.Endpoint));
}
