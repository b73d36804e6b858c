using System.Globalization;

namespace StepML.Core.Data;

// Parses a decimal float from ASCII bytes without allocating: the significant digits go into a
// ulong mantissa (at most 19, the rest only shift the exponent) and a decimal exponent. When the
// mantissa is at most 2^53 and |exponent| ≤ 22 both are exact doubles, so one IEEE multiply or
// divide gives the correctly rounded double (Clinger's fast path); otherwise a correctly rounded
// power of ten makes the double within a few double ulps. Narrowing to float then stays within
// one float ulp of float.Parse(string).
internal static class FastFloatParser
{
    // Returned for a token that is not a decimal number (including nan and inf).
    public const int Invalid = -1;

    // Returned for a number whose magnitude exceeds float.MaxValue.
    public const int OutOfRange = -2;

    private const int MaxSignificantDigits = 19;
    private static readonly double[] s_powersOfTen = BuildPowers();

    // Parses the number starting at start and returns the index just past it,
    // or Invalid / OutOfRange. The caller checks what follows.
    public static int Parse(ReadOnlySpan<byte> text, int start, out float value)
    {
        value = 0;
        int i = start;
        int length = text.Length;
        bool negative = false;
        if (i < length && (text[i] == (byte)'-' || text[i] == (byte)'+'))
        {
            negative = text[i] == (byte)'-';
            i++;
        }

        ulong mantissa = 0;
        int digits = 0;
        int exponent = 0;
        bool anyDigit = false;
        uint d;
        while (i < length && (d = (uint)(text[i] - '0')) <= 9)
        {
            anyDigit = true;
            if (digits < MaxSignificantDigits)
            {
                if (mantissa != 0 || d != 0)
                {
                    mantissa = (mantissa * 10) + d;
                    digits++;
                }
            }
            else
            {
                exponent++;
            }

            i++;
        }

        if (i < length && text[i] == (byte)'.')
        {
            i++;
            while (i < length && (d = (uint)(text[i] - '0')) <= 9)
            {
                anyDigit = true;
                if (digits < MaxSignificantDigits)
                {
                    if (mantissa != 0 || d != 0)
                    {
                        mantissa = (mantissa * 10) + d;
                        digits++;
                    }

                    exponent--;
                }

                i++;
            }
        }

        if (!anyDigit)
        {
            return Invalid;
        }

        if (i < length && (text[i] | 0x20) == (byte)'e')
        {
            i++;
            bool negativeExponent = false;
            if (i < length && (text[i] == (byte)'-' || text[i] == (byte)'+'))
            {
                negativeExponent = text[i] == (byte)'-';
                i++;
            }

            if (i >= length || (uint)(text[i] - '0') > 9)
            {
                return Invalid;
            }

            int e = 0;
            while (i < length && (d = (uint)(text[i] - '0')) <= 9)
            {
                if (e < 100_000)
                {
                    e = (e * 10) + (int)d;
                }

                i++;
            }

            exponent += negativeExponent ? -e : e;
        }

        if (mantissa == 0)
        {
            value = negative ? -0f : 0f;
            return i;
        }

        // Decimal exponent of the leading digit: float spans about 1.4e-45 .. 3.4e38.
        int leading = digits - 1 + exponent;
        if (leading > 39)
        {
            return OutOfRange;
        }

        double result;
        if (leading < -47)
        {
            result = 0;
        }
        else
        {
            result = mantissa;
            if (exponent > 0)
            {
                result *= s_powersOfTen[exponent];
            }
            else if (exponent < 0)
            {
                result /= s_powersOfTen[-exponent];
            }
        }

        float f = (float)result;
        if (float.IsInfinity(f))
        {
            return OutOfRange;
        }

        value = negative ? -f : f;
        return i;
    }

    // Parses a whole token; true only when every byte belongs to the number.
    public static bool TryParse(ReadOnlySpan<byte> token, out float value)
    {
        int end = Parse(token, 0, out value);
        return end == token.Length;
    }

    private static double[] BuildPowers()
    {
        // Exponents reach 19 + 47 below zero and 39 above; double.Parse rounds each power correctly.
        var powers = new double[80];
        for (int k = 0; k < powers.Length; k++)
        {
            powers[k] = double.Parse("1e" + k.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        }

        return powers;
    }
}
