using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public sealed class SyntheticSparseDataTests
{
    [Fact]
    public void WriteRcv1Like_Rows_AreSparseNonNegativeUnitNormAndFollowTheModel()
    {
        using var writer = new StringWriter();
        const int features = 5000;
        var weights = SyntheticData.WriteRcv1Like(writer, 2000, features, density: 0.004, seed: 9);

        var rows = DataTestHelpers.ReadAllLibSvm(writer.ToString());
        Assert.Equal(2000, rows.Count);
        var meanNonZeros = rows.Average(r => r.Indices.Length);
        Assert.InRange(meanNonZeros, 0.8 * 20, 1.2 * 20);
        var agree = 0;
        foreach (var (label, indices, values, _) in rows)
        {
            Assert.All(values, v => Assert.True(v > 0));
            Assert.All(indices, j => Assert.InRange(j, 0, features - 1));
            Assert.InRange(Math.Sqrt(values.Sum(v => (double)v * v)), 0.999, 1.001);
            var score = indices.Select((j, k) => (double)weights[j] * values[k]).Sum();
            if ((score > 0 ? 1f : 0f) == label) agree++;
        }
        // Noise flips a minority of labels; the classes are roughly balanced.
        Assert.InRange(agree / 2000.0, 0.75, 0.99);
        Assert.InRange(rows.Average(r => r.Label), 0.35, 0.65);
    }

    [Fact]
    public void WriteBlobs_Rows_LieNearTheirLabelledCentre()
    {
        using var writer = new StringWriter();
        var centres = SyntheticData.WriteBlobs(writer, 3000, 4, 3, seed: 2);

        var rows = DataTestHelpers.ReadAllLibSvm(writer.ToString());
        Assert.Equal(3000, rows.Count);
        foreach (var (label, _, values, _) in rows)
        {
            var c = (int)label;
            Assert.InRange(c, 0, 2);
            var distance = values.Select((v, j) => Math.Pow(v - centres[c * 4 + j], 2)).Sum();
            // ‖x − c‖² ~ χ²(4): beyond 40 has probability < 1e-7.
            Assert.InRange(distance, 0, 40);
        }
    }
}
