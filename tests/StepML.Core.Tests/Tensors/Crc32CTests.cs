using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Tensors;

namespace StepML.Core.Tests.Tensors;

public class Crc32CTests
{
    [Fact]
    public void Compute_CheckString_MatchesPublishedValue()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xE3069283u, Crc32C.ComputeTable(Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Compute_ThirtyTwoZeroBytes_MatchesRfc3720Vector()
    {
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x8A9136AAu, Crc32C.ComputeTable(new byte[32]));
    }

    [Fact]
    public void Compute_ThirtyTwoOnesBytes_MatchesRfc3720Vector()
    {
        byte[] ones = Enumerable.Repeat((byte)0xFF, 32).ToArray();
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(ones));
    }

    [Fact]
    public void Compute_Empty_IsZero()
    {
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Compute_RandomDataOfEveryShape_HardwareInterleavedEqualsTable()
    {
        var random = new Random(7);
        // Lengths around the 3-stream group (3 × 2048 bytes) and its multiples exercise the join.
        int[] lengths = [1, 7, 8, 9, 63, 1000, 6143, 6144, 6145, 12288, 12295, 65540, 200_003];
        foreach (int length in lengths)
        {
            var data = new byte[length];
            random.NextBytes(data);
            uint table = Crc32C.ComputeTable(data);
            Assert.Equal(table, Crc32C.Compute(data));
            Assert.Equal(table, Crc32C.ComputeSingleStream(data));
        }
    }

    [Fact]
    public void Compute_RandomData_HardwareEqualsTableProperty()
    {
        var bytes = Gen.Choose(0, 20_000).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));
        Prop.ForAll(bytes.ToArbitrary(), data =>
            Crc32C.Compute(data) == Crc32C.ComputeTable(data) && Crc32C.ComputeSingleStream(data) == Crc32C.ComputeTable(data))
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Append_SplitAnywhere_EqualsWholeCompute()
    {
        var gen = Gen.Choose(0, 20_000).SelectMany(n => Gen.Choose(0, n).Select(split => (n, split)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var data = new byte[t.n];
            new Random(t.n).NextBytes(data);
            uint whole = Crc32C.Compute(data);
            uint appended = Crc32C.Append(Crc32C.Compute(data.AsSpan(0, t.split)), data.AsSpan(t.split));
            return whole == appended;
        }).QuickCheckThrowOnFailure();
    }
}
