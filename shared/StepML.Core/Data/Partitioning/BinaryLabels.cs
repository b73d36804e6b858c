namespace StepML.Core.Data;

// Maps {0,1} and {-1,+1} to {0,1}, and refuses anything else or a mix of 0 and -1.
internal sealed class BinaryLabels(string source)
{
    private long _zeroLine;
    private long _minusOneLine;

    // Whether a 0 label / a -1 label was seen: ranges read apart must agree on one convention.
    public bool SawZero => _zeroLine != 0;

    public bool SawMinusOne => _minusOneLine != 0;

    public float Map(float label, long line)
    {
        if (label == 1f)
        {
            return 1f;
        }

        if (label == 0f)
        {
            _zeroLine = _zeroLine == 0 ? line : _zeroLine;
        }
        else if (label == -1f)
        {
            _minusOneLine = _minusOneLine == 0 ? line : _minusOneLine;
        }
        else
        {
            throw new DatasetFormatException(
                source, line, $"label {label} is not binary: binary labels are 0/1 or -1/+1; use the Raw label mapping for regression or multi-class data.");
        }

        if (_zeroLine != 0 && _minusOneLine != 0)
        {
            throw new DatasetFormatException(
                source, line, $"labels mix 0 (line {_zeroLine}) and -1 (line {_minusOneLine}): binary labels are either 0/1 or -1/+1; use the Raw label mapping for three classes.");
        }

        return 0f;
    }
}

