using System.Globalization;
using System.Net;
using System.Text;

namespace StepML.Functions.Reports;

/// <summary>One named line of a chart; NaN values are gaps.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, string Color);

/// <summary>A span on a timeline ([Start, End) at row <see cref="Row"/>) or a bar ([Start, End) wide, <see cref="Value"/> high).</summary>
public sealed record Span(double Start, double End, int Row, string Color, string Title, double Value = 0);

/// <summary>
/// Inline SVG charts with real axes: tick marks at "nice" values (1, 2, 5 × 10^k), tick labels, axis titles, a
/// legend; log10 axes for gaps. No scripts and no external assets, so report.html opens offline, in a mail client,
/// or from an S3 console download. Elements carry classes (axis, tick, tick-label, series) that tests check.
/// </summary>
public sealed class SvgChart(string id, string xTitle, string yTitle, bool logY = false)
{
    private const double Width = 720, Height = 300, Left = 78, Right = 20, Top = 16, Bottom = 48;
    private readonly List<Series> _series = [];
    private readonly List<Span> _spans = [];
    private string[]? _rowLabels;
    private (double Min, double Max)? _yRange;
    private bool _integerX;
    private bool _markers;

    /// <summary>The x axis counts something (rounds): ticks fall on whole numbers only.</summary>
    public SvgChart IntegerX()
    {
        _integerX = true;
        return this;
    }

    /// <summary>Also draws each point as a dot (a series of one point, a trial stopped at its first rung, shows too).</summary>
    public SvgChart Markers()
    {
        _markers = true;
        return this;
    }

    public SvgChart Add(Series series)
    {
        _series.Add(series);
        return this;
    }

    public SvgChart Spans(IEnumerable<Span> spans, string[]? rowLabels = null)
    {
        _spans.AddRange(spans);
        _rowLabels = rowLabels;
        return this;
    }

    /// <summary>Fixes the y range (values outside are clipped at the plot's edge).</summary>
    public SvgChart YRange(double min, double max)
    {
        _yRange = (min, max);
        return this;
    }

    public string Render()
    {
        var xs = _series.SelectMany(s => s.X).Concat(_spans.SelectMany(s => new[] { s.Start, s.End })).Where(double.IsFinite).ToList();
        var ys = _series.SelectMany(s => s.Y).Concat(_rowLabels is null ? _spans.Select(s => s.Value) : [])
            .Where(v => double.IsFinite(v) && (!logY || v > 0)).ToList();
        if (xs.Count == 0) return "";
        var (x0, x1) = Pad(xs.Min(), xs.Max(), 0);
        double y0, y1;
        if (_rowLabels is not null) (y0, y1) = (-0.5, _rowLabels.Length - 0.5);
        else if (_yRange is { } range) (y0, y1) = range;
        else if (ys.Count == 0) return "";
        else if (logY) (y0, y1) = (Math.Floor(Math.Log10(ys.Min())), Math.Ceiling(Math.Log10(ys.Max())) + (ys.Min() == ys.Max() ? 1 : 0));
        else (y0, y1) = Pad(_spans.Count > 0 ? 0 : ys.Min(), ys.Max(), 0.05);
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(double v) => Left + (v - x0) / (x1 - x0) * plotW;
        double Y(double v) => Top + plotH - ((logY && _rowLabels is null ? Math.Log10(v) : v) - y0) / (y1 - y0) * plotH;

        var sb = new StringBuilder();
        sb.Append(Invariant($"<svg class=\"chart\" id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\">"));
        sb.Append(Invariant($"<defs><clipPath id=\"{id}-clip\"><rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\"/></clipPath></defs>"));
        // Grid, ticks and tick labels.
        foreach (var t in Ticks(x0, x1, _integerX ? 1 : 0))
        {
            sb.Append(Invariant($"<line class=\"grid\" x1=\"{X(t):F1}\" x2=\"{X(t):F1}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#eee\"/>"));
            sb.Append(Invariant($"<line class=\"tick x\" x1=\"{X(t):F1}\" x2=\"{X(t):F1}\" y1=\"{Top + plotH}\" y2=\"{Top + plotH + 5}\" stroke=\"#333\"/>"));
            sb.Append(Invariant($"<text class=\"tick-label x\" x=\"{X(t):F1}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\" font-size=\"11\">{Label(t)}</text>"));
        }
        var yTicks = _rowLabels is not null ? Enumerable.Range(0, _rowLabels.Length).Select(i => (double)i).ToList()
            : logY ? Enumerable.Range((int)y0, (int)(y1 - y0) + 1).Select(e => (double)e).ToList() : Ticks(y0, y1);
        foreach (var t in yTicks)
        {
            var y = Top + plotH - (t - y0) / (y1 - y0) * plotH;
            var label = _rowLabels is not null ? WebUtility.HtmlEncode(_rowLabels[(int)t]) : logY ? "1e" + t.ToString("0", CultureInfo.InvariantCulture) : Label(t);
            sb.Append(Invariant($"<line class=\"grid\" x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#eee\"/>"));
            sb.Append(Invariant($"<line class=\"tick y\" x1=\"{Left - 5}\" x2=\"{Left}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#333\"/>"));
            sb.Append(Invariant($"<text class=\"tick-label y\" x=\"{Left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\" font-size=\"11\">{label}</text>"));
        }
        sb.Append(Invariant($"<line class=\"axis x\" x1=\"{Left}\" x2=\"{Left + plotW}\" y1=\"{Top + plotH}\" y2=\"{Top + plotH}\" stroke=\"#333\"/>"));
        sb.Append(Invariant($"<line class=\"axis y\" x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Top + plotH}\" stroke=\"#333\"/>"));
        sb.Append(Invariant($"<text class=\"axis-title x\" x=\"{Left + plotW / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\" font-size=\"12\">{WebUtility.HtmlEncode(xTitle)}</text>"));
        sb.Append(Invariant($"<text class=\"axis-title y\" transform=\"translate(14 {Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{WebUtility.HtmlEncode(yTitle)}{(logY ? " (log scale)" : "")}</text>"));

        sb.Append(Invariant($"<g clip-path=\"url(#{id}-clip)\">"));
        foreach (var s in _spans)
        {
            var (top, height) = _rowLabels is not null ? (Y(s.Row + 0.35), Y(s.Row - 0.35) - Y(s.Row + 0.35)) : (Y(s.Value), Y(0) - Y(s.Value));
            var (left, width) = (X(s.Start), Math.Max(1, X(s.End) - X(s.Start)));
            sb.Append(Invariant($"<rect class=\"span\" x=\"{left:F1}\" y=\"{top:F1}\" width=\"{width:F1}\" height=\"{Math.Max(0, height):F1}\" fill=\"{s.Color}\"><title>{WebUtility.HtmlEncode(s.Title)}</title></rect>"));
        }
        foreach (var s in _series)
        {
            var points = new StringBuilder();
            for (var i = 0; i < s.X.Count; i++)
            {
                if (!double.IsFinite(s.Y[i]) || (logY && s.Y[i] <= 0)) continue;
                points.Append(Invariant($"{X(s.X[i]):F1},{Y(s.Y[i]):F1} "));
            }
            sb.Append(Invariant($"<polyline class=\"series\" data-series=\"{WebUtility.HtmlEncode(s.Name)}\" fill=\"none\" stroke=\"{s.Color}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>"));
            if (_markers)
                for (var i = 0; i < s.X.Count; i++)
                    if (double.IsFinite(s.Y[i]) && (!logY || s.Y[i] > 0))
                        sb.Append(Invariant($"<circle class=\"marker\" data-series=\"{WebUtility.HtmlEncode(s.Name)}\" cx=\"{X(s.X[i]):F1}\" cy=\"{Y(s.Y[i]):F1}\" r=\"3.5\" fill=\"{s.Color}\"/>"));
        }
        sb.Append("</g>");
        // Legend, top right inside the plot.
        for (var i = 0; i < _series.Count; i++)
        {
            var y = Top + 14 + 16 * i;
            sb.Append(Invariant($"<g class=\"legend\"><line x1=\"{Left + plotW - 170}\" x2=\"{Left + plotW - 150}\" y1=\"{y - 4}\" y2=\"{y - 4}\" stroke=\"{_series[i].Color}\" stroke-width=\"2\"/>"));
            sb.Append(Invariant($"<text x=\"{Left + plotW - 145}\" y=\"{y}\" font-size=\"11\">{WebUtility.HtmlEncode(_series[i].Name)}</text></g>"));
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>About five ticks at multiples of 1, 2 or 5 × 10^k inside [min, max].</summary>
    public static List<double> Ticks(double min, double max, double minimumStep = 0)
    {
        if (!(max > min)) return [min];
        var raw = (max - min) / 5;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = Math.Max(minimumStep, magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10));
        var ticks = new List<double>();
        for (var t = Math.Ceiling(min / step) * step; t <= max + step * 1e-9; t += step) ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        return ticks;
    }

    private static (double, double) Pad(double min, double max, double fraction)
    {
        if (max == min) return (min - (min == 0 ? 1 : Math.Abs(min) * 0.1), max + (max == 0 ? 1 : Math.Abs(max) * 0.1));
        var pad = (max - min) * fraction;
        return (min - pad, max + pad);
    }

    private static string Label(double v) => Math.Abs(v) >= 1e5 || (Math.Abs(v) < 1e-3 && v != 0)
        ? v.ToString("0.##e0", CultureInfo.InvariantCulture)
        : v.ToString("0.######", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
