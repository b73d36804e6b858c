using System.Globalization;

namespace StepML.Core.Data;

/// <summary>Seeded generators of datasets with a known answer, for demos, tests and benchmarks.</summary>
public static partial class SyntheticData
{
    // Feature kinds following the UCI Higgs columns (Baldi et al., 2014): 21 low-level features —
    // lepton pT, eta, phi, missing-energy magnitude and phi, then four jets of (pT, eta, phi,
    // b-tag) — and 7 high-level invariant masses. Widths beyond 28 repeat the pattern.
    private enum Kind
    {
        Momentum,
        Pseudorapidity,
        Angle,
        BTag,
        Mass,
    }

    private static readonly Kind[] s_higgsKinds =
    [
        Kind.Momentum, Kind.Pseudorapidity, Kind.Angle, Kind.Momentum, Kind.Angle,
        Kind.Momentum, Kind.Pseudorapidity, Kind.Angle, Kind.BTag,
        Kind.Momentum, Kind.Pseudorapidity, Kind.Angle, Kind.BTag,
        Kind.Momentum, Kind.Pseudorapidity, Kind.Angle, Kind.BTag,
        Kind.Momentum, Kind.Pseudorapidity, Kind.Angle, Kind.BTag,
        Kind.Mass, Kind.Mass, Kind.Mass, Kind.Mass, Kind.Mass, Kind.Mass, Kind.Mass,
    ];

    /// <summary>
    /// Writes <paramref name="rows"/> dense LIBSVM lines shaped like UCI Higgs: momenta log-normal
    /// (non-negative, right-skewed, mean ≈ 1), pseudorapidities normal clipped to ±2.4, angles
    /// uniform on ±1.74, b-tags in {0, 1.09, 2.17}, masses 0.5 + Exp(mean 0.5). The label is 1 when
    /// w*·x + b* + ε &gt; 0, with w* ~ N(0, 1) per feature, b* = −w*·E[x] (balanced classes) and
    /// ε ~ N(0, (0.25‖w*‖)²) label noise; otherwise 0.
    /// </summary>
    /// <returns>w* followed by b*: <paramref name="features"/> + 1 values.</returns>
    public static float[] WriteHiggsLike(TextWriter output, long rows, int features, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);

        var random = new Xoshiro256(seed);
        var weights = new float[features + 1];
        double bias = 0;
        double norm = 0;
        for (int j = 0; j < features; j++)
        {
            weights[j] = (float)random.NextGaussian();
            bias -= weights[j] * Mean(KindOf(j));
            norm += (double)weights[j] * weights[j];
        }

        weights[features] = (float)bias;
        double noise = 0.25 * Math.Sqrt(norm);

        Span<char> line = new char[(features * 24) + 8];
        for (long r = 0; r < rows; r++)
        {
            double score = weights[features];
            int at = 1; // line[0] takes the label once the score is known
            for (int j = 0; j < features; j++)
            {
                line[at++] = ' ';
                (j + 1).TryFormat(line[at..], out int written, default, CultureInfo.InvariantCulture);
                at += written;
                line[at++] = ':';
                Sample(KindOf(j), random).TryFormat(line[at..], out written, "G6", CultureInfo.InvariantCulture);

                // Score what the text holds, so w* describes the written data exactly.
                float x = float.Parse(line.Slice(at, written), CultureInfo.InvariantCulture);
                at += written;
                score += (double)weights[j] * x;
            }

            score += noise * random.NextGaussian();
            line[0] = score > 0 ? '1' : '0';
            line[at++] = '\n';
            output.Write(line[..at]);
        }

        return weights;
    }

    private static Kind KindOf(int feature) => s_higgsKinds[feature % s_higgsKinds.Length];

    private static double Mean(Kind kind) => kind switch
    {
        Kind.Momentum => Math.Exp(-0.25 + (0.5 * 0.5 * 0.5)),
        Kind.BTag => (0.3 * 1.087) + (0.2 * 2.173),
        Kind.Mass => 1.0,
        _ => 0.0,
    };

    private static float Sample(Kind kind, Xoshiro256 random) => kind switch
    {
        Kind.Momentum => (float)Math.Exp(-0.25 + (0.5 * random.NextGaussian())),
        Kind.Pseudorapidity => (float)Math.Clamp(random.NextGaussian(), -2.4, 2.4),
        Kind.Angle => (float)((random.NextDouble() * 3.48) - 1.74),
        Kind.BTag => random.NextDouble() switch
        {
            < 0.5 => 0f,
            < 0.8 => 1.087f,
            _ => 2.173f,
        },
        _ => (float)(0.5 - (0.5 * Math.Log(1 - random.NextDouble()))),
    };
}
