using System.Text;

namespace StepML.Core.Data;

/// <summary>
/// Decides, for one row, validation or which training partition, from the seed, the file's key and the byte offset
/// at which the row's line starts, and nothing else: not the order rows are read in, not how the file was cut into
/// ranges, not which task finished first. So partitions made by any number of range tasks are identical.
/// </summary>
/// <remarks>
/// h = mix(mix(seed + φ) ⊕ fnv1a(key) ⊕ mix(offset)), with mix the SplitMix64 finalizer (Steele et al., "Fast
/// splittable pseudorandom number generators", 2014; the finalizer is MurmurHash3's fmix64 with Stafford's
/// constants) and φ = 0x9E3779B97F4A7C15. The row is validation when u = (h ≫ 11)·2⁻⁵³ &lt; the validation
/// fraction; otherwise h' = mix(h + φ) picks the partition: ((h' ≫ 32)·P) ≫ 32 for equal partitions (Lemire's
/// multiply-shift), or the first cumulative weight above (h' ≫ 11)·2⁻⁵³.
/// </remarks>
public sealed class RowAssignment
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const double Unit = 1.0 / (1UL << 53);
    private readonly ulong _seed;
    private readonly double _validationFraction;
    private readonly int _partitions;
    private readonly double[]? _cumulative;

    public RowAssignment(ulong seed, double validationFraction, int partitions, IReadOnlyList<double>? weights)
    {
        _seed = Mix(seed + Golden);
        _validationFraction = validationFraction;
        _partitions = partitions;
        if (weights is not null)
        {
            _cumulative = new double[weights.Count];
            double total = 0;
            for (int p = 0; p < weights.Count; p++)
            {
                total += weights[p];
                _cumulative[p] = total;
            }

            for (int p = 0; p < _cumulative.Length; p++)
            {
                _cumulative[p] /= total;
            }

            _cumulative[^1] = 1;
        }
    }

    /// <summary>The validation output is index <c>partitions</c>.</summary>
    public int Validation => _partitions;

    public static ulong FileId(string key)
    {
        ulong hash = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }

    public int Assign(ulong fileId, long offset)
    {
        ulong h = Mix(_seed ^ fileId ^ Mix((ulong)offset));
        if ((h >> 11) * Unit < _validationFraction)
        {
            return _partitions;
        }

        ulong pick = Mix(h + Golden);
        if (_cumulative is null)
        {
            return (int)(((pick >> 32) * (ulong)_partitions) >> 32);
        }

        double v = (pick >> 11) * Unit;
        int p = 0;
        while (p < _cumulative.Length - 1 && v >= _cumulative[p])
        {
            p++;
        }

        return p;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
