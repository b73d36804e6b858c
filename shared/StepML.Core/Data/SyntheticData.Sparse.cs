using System.Globalization;

namespace StepML.Core.Data;

public static partial class SyntheticData
{
    /// <summary>Share of the RCV1-like model's weights that are non-zero.</summary>
    public const double Rcv1WeightDensity = 0.2;

    /// <summary>
    /// Writes <paramref name="rows"/> sparse LIBSVM lines shaped like RCV1 (Lewis et al. 2004: 47,236 TF-IDF features,
    /// ≈ 0.16% non-zero). A row has about density·features distinct terms (log-normal count, at least 1); term j is
    /// drawn with a Zipf-like popularity (index ⌊F·u²⌋, so low indices are common words); its value is
    /// (1 + ln tf)·idf_j with tf geometric (mean 1.5) and idf_j = ln(1 + F/(1 + j)), then the row is scaled to unit L2
    /// norm, so every value is non-negative. The label is 1 when w*·x + ε &gt; 0, where w* has a fraction
    /// <see cref="Rcv1WeightDensity"/> of N(0, 1) entries (the rest 0) and ε ~ N(0, (0.3·√q)²), q that fraction
    /// (≈ 0.3 × the typical score), so classes are balanced and not separable.
    /// </summary>
    /// <returns>w* followed by b* = 0: <paramref name="features"/> + 1 values.</returns>
    public static float[] WriteRcv1Like(TextWriter output, long rows, int features, double density, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), density, "must be in (0, 1]");

        var random = new Xoshiro256(seed);
        var weights = new float[features + 1];
        for (var j = 0; j < features; j++)
            if (random.NextDouble() < Rcv1WeightDensity) weights[j] = (float)random.NextGaussian();
        var idf = new float[features];
        for (var j = 0; j < features; j++) idf[j] = (float)Math.Log(1 + (double)features / (1 + j));
        var noise = 0.3 * Math.Sqrt(Rcv1WeightDensity);
        var mean = density * features;

        var seen = new HashSet<int>();
        var indices = new List<int>();
        var values = new float[features];
        var line = new System.Text.StringBuilder();
        Span<char> number = stackalloc char[32];
        for (long r = 0; r < rows; r++)
        {
            var target = (int)Math.Clamp(Math.Round(mean * Math.Exp(0.5 * random.NextGaussian() - 0.125)), 1, features);
            seen.Clear();
            indices.Clear();
            // Distinct terms; popular terms repeat, so cap the draws and keep what was found.
            for (var draw = 0; indices.Count < target && draw < 20 * target; draw++)
            {
                var u = random.NextDouble();
                var j = Math.Min(features - 1, (int)(features * u * u));
                if (seen.Add(j)) indices.Add(j);
            }
            indices.Sort();
            double norm = 0;
            foreach (var j in indices)
            {
                var tf = 1;
                while (random.NextDouble() < 1.0 / 3) tf++;
                var v = (float)((1 + Math.Log(tf)) * idf[j]);
                values[j] = v;
                norm += (double)v * v;
            }
            var scale = 1 / Math.Sqrt(norm);
            double score = 0;
            line.Clear();
            foreach (var j in indices)
            {
                var v = (float)(values[j] * scale);
                v.TryFormat(number, out var written, "G6", CultureInfo.InvariantCulture);
                // Score what the text holds, so w* describes the written data exactly.
                score += (double)weights[j] * float.Parse(number[..written], CultureInfo.InvariantCulture);
                line.Append(' ').Append(j + 1).Append(':').Append(number[..written]);
            }
            score += noise * random.NextGaussian();
            output.Write(score > 0 ? '1' : '0');
            output.Write(line);
            output.Write('\n');
        }
        return weights;
    }

    /// <summary>
    /// Writes <paramref name="rows"/> dense LIBSVM lines drawn from <paramref name="clusters"/> isotropic Gaussian
    /// blobs: centres uniform in [−10, 10]^d, each row from a uniformly chosen blob with unit standard deviation per
    /// feature. The label is the blob's index (0-based), for KMeans demos and tests.
    /// </summary>
    /// <returns>The true centres, k × d row-major.</returns>
    public static float[] WriteBlobs(TextWriter output, long rows, int features, int clusters, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(clusters, 1);

        var random = new Xoshiro256(seed);
        var centres = new float[clusters * features];
        for (var i = 0; i < centres.Length; i++) centres[i] = (float)(20 * random.NextDouble() - 10);
        var line = new System.Text.StringBuilder();
        Span<char> number = stackalloc char[32];
        for (long r = 0; r < rows; r++)
        {
            var c = random.NextInt(clusters);
            line.Clear();
            line.Append(c);
            for (var j = 0; j < features; j++)
            {
                var v = (float)(centres[c * features + j] + random.NextGaussian());
                v.TryFormat(number, out var written, "G6", CultureInfo.InvariantCulture);
                line.Append(' ').Append(j + 1).Append(':').Append(number[..written]);
            }
            line.Append('\n');
            output.Write(line);
        }
        return centres;
    }
}
