using StepML.Storage.Channels;
using StepML.Storage.S3;
using StepML.Storage.Tests.S3;

namespace StepML.Storage.Tests.Channels;

// The object-store channel on S3, against s3rver.
[Collection(S3rverCollection.Name)]
public sealed class S3ChannelContractTests(S3rverFixture server) : ChannelContractTests
{
    protected override IChannel Channel { get; } =
        new ObjectStoreChannel(new S3ObjectStore(server.Client, new S3StoreLocation(server.CreateBucket(), "", server.Endpoint)));
}
