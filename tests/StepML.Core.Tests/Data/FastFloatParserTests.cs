using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Data;

namespace StepML.Core.Tests.Data;

public class FastFloatParserTests
{
    private static readonly string[] s_formats = ["R", "G9", "G6", "E3", "E10", "F4", "0.###############"];

    [Fact]
    public void Parse_FormattedRandomFloats_WithinOneUlpOfFloatParse()
    {
        var gen = from bits in Gen.Choose(int.MinValue, int.MaxValue)
                  from format in Gen.Elements(s_formats)
                  let value = BitConverter.Int32BitsToSingle(bits)
                  where float.IsFinite(value)
                  select value.ToString(format, CultureInfo.InvariantCulture);
        Prop.ForAll(gen.ToArbitrary(), AgreesWithFloatParse).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));
    }

    [Fact]
    public void Parse_RandomDigitStrings_WithinOneUlpOfFloatParse()
    {
        // Mantissas up to 30 digits (past the 19 kept), decimal points anywhere, exponents ±60.
        var gen = from sign in Gen.Elements("", "-", "+")
                  from digits in Gen.Choose(1, 30).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9), n))
                  from point in Gen.Choose(-1, digits.Length)
                  from exponent in Gen.OneOf(Gen.Constant(""), Gen.Choose(-60, 38).Select(e => "e" + e), Gen.Choose(-9, 9).Select(e => "E+" + Math.Abs(e)))
                  select Compose(sign, digits, point, exponent);
        Prop.ForAll(gen.ToArbitrary(), AgreesWithFloatParse).Check(Config.QuickThrowOnFailure.WithMaxTest(3000));
    }

    [Theory]
    [InlineData("0", 0f)]
    [InlineData("-0", -0f)]
    [InlineData("1", 1f)]
    [InlineData("+1", 1f)]
    [InlineData("-1", -1f)]
    [InlineData("1.0", 1f)]
    [InlineData(".5", 0.5f)]
    [InlineData("5.", 5f)]
    [InlineData("1e3", 1000f)]
    [InlineData("2.5E-3", 0.0025f)]
    [InlineData("0.000000000000000000000000000001", 1e-30f)]
    [InlineData("3.4028235e38", float.MaxValue)]
    [InlineData("1e-50", 0f)]
    [InlineData("1.401298464324817e-45", float.Epsilon)]
    public void TryParse_KnownTokens_ExactValue(string text, float expected)
    {
        Assert.True(FastFloatParser.TryParse(Encoding.ASCII.GetBytes(text), out float value));
        Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("e5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("inf")]
    [InlineData("-Infinity")]
    [InlineData("--1")]
    [InlineData("1.2.3")]
    [InlineData("0x10")]
    public void TryParse_NotADecimalNumber_Rejected(string text)
    {
        Assert.False(FastFloatParser.TryParse(Encoding.ASCII.GetBytes(text), out _));
    }

    [Fact]
    public void Parse_BeyondFloatRange_ReportsOutOfRange()
    {
        Assert.Equal(FastFloatParser.OutOfRange, FastFloatParser.Parse("1e39"u8, 0, out _));
        Assert.Equal(FastFloatParser.OutOfRange, FastFloatParser.Parse("-3.5e38"u8, 0, out _));
        Assert.Equal(FastFloatParser.OutOfRange, FastFloatParser.Parse("1e100000000"u8, 0, out _));
    }

    [Fact]
    public void Parse_StopsAtDelimiter_ReturnsEndIndex()
    {
        Assert.Equal(8, FastFloatParser.Parse("1 -2.5e1:x"u8, 2, out float value));
        Assert.Equal(-25f, value);
    }

    private static string Compose(string sign, int[] digits, int point, string exponent)
    {
        var text = new StringBuilder(sign);
        for (int i = 0; i < digits.Length; i++)
        {
            if (i == point)
            {
                text.Append('.');
            }

            text.Append((char)('0' + digits[i]));
        }

        return text.Append(exponent).ToString();
    }

    private static bool AgreesWithFloatParse(string text)
    {
        float expected = float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        bool parsed = FastFloatParser.TryParse(Encoding.ASCII.GetBytes(text), out float actual);
        if (float.IsInfinity(expected))
        {
            return !parsed;
        }

        if (!parsed)
        {
            return false;
        }

        if (expected == 0 && actual == 0)
        {
            return true;
        }

        int distance = Math.Abs(BitConverter.SingleToInt32Bits(expected) - BitConverter.SingleToInt32Bits(actual));
        return Math.Sign(expected) == Math.Sign(actual) && distance <= 1;
    }
}
