using System.Globalization;
using System.Text;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class SyntheticDataTests
{
    [Fact]
    public void WriteHiggsLike_SameSeed_IdenticalTextDifferentSeedDiffers()
    {
        string a = Generate(300, 28, 5, out float[] wa);
        string b = Generate(300, 28, 5, out float[] wb);
        string c = Generate(300, 28, 6, out _);

        Assert.Equal(a, b);
        Assert.Equal(wa, wb);
        Assert.NotEqual(a, c);
        Assert.Equal(29, wa.Length);
    }

    [Fact]
    public void WriteHiggsLike_Rows_AreDenseLibSvmThatTrueWeightsMostlyClassify()
    {
        const int rows = 5000;
        const int features = 28;
        string text = Generate(rows, features, 17, out float[] w);

        using var reader = new LibSvmReader(new MemoryStream(Encoding.ASCII.GetBytes(text)), "higgs.libsvm");
        var row = new DatasetRow();
        int count = 0, positives = 0, agree = 0;
        var momentum = new List<float>();
        var bTags = new HashSet<float>();
        while (reader.Read(row))
        {
            Assert.Equal(features, row.Count);
            Assert.Equal(Enumerable.Range(0, features), row.Indices[..features]);
            Assert.Contains(row.Label, new[] { 0f, 1f });
            double score = w[features];
            for (int j = 0; j < features; j++)
            {
                score += (double)w[j] * row.Values[j];
            }

            count++;
            positives += row.Label == 1f ? 1 : 0;
            agree += (score > 0) == (row.Label == 1f) ? 1 : 0;
            momentum.Add(row.Values[0]);
            bTags.Add(row.Values[8]);
        }

        Assert.Equal(rows, count);
        // b* centres the score, so classes are near balanced; noise is 0.25‖w*‖ against a score
        // spread of about 0.8‖w*‖, so w* agrees with roughly 90% of labels.
        Assert.InRange(positives / (double)rows, 0.4, 0.6);
        Assert.InRange(agree / (double)rows, 0.85, 0.97);
        // Momentum columns are non-negative and right-skewed (mean above median), b-tags take three values.
        Assert.All(momentum, m => Assert.True(m >= 0));
        momentum.Sort();
        Assert.True(momentum.Average() > momentum[rows / 2]);
        Assert.Equal(3, bTags.Count);
    }

    private static string Generate(long rows, int features, ulong seed, out float[] weights)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        weights = SyntheticData.WriteHiggsLike(writer, rows, features, seed);
        return writer.ToString();
    }
}
