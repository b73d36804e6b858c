using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Functions.Reports;

namespace StepML.Functions.Tests.Report;

/// <summary>The report's structure: each chart is well-formed SVG with both axes, tick marks, tick labels and its
/// series; failed runs show their error; KMeans shows inertia.</summary>
public sealed class ReportPageTests
{
    private static RoundMetrics Round(int r, double loss, double? metric = 0.8, string name = "accuracy") => new()
    {
        Round = r, TrainLoss = loss, ValidationLoss = loss * 1.01, Metric = name, ValidationMetric = metric, Workers = 4,
        WorkerSeconds = 0.4, ElapsedSeconds = 0.5 * (r + 1), CostUsd = 0.001 * (r + 1), Action = "continue",
    };

    private static List<RoundMetrics> Rounds(int n) => Enumerable.Range(0, n).Select(r => Round(r, 0.2 + 0.5 / (r + 1))).ToList();

    private static Dictionary<string, XElement> Charts(string html) =>
        Regex.Matches(html, "<svg.*?</svg>", RegexOptions.Singleline)
            .Select(m => XElement.Parse(m.Value))
            .ToDictionary(svg => (string)svg.Attribute("id")!);

    private static IEnumerable<XElement> WithClass(XElement svg, string cls) =>
        svg.Descendants().Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(cls) == true);

    private static JobSpec Job(string model = "logistic") => JobSpecParser.Parse(
        $$"""{ "name": "r", "dataset": { "path": "d.libsvm", "features": 3 }, "model": { "type": "{{model}}" }, "algorithm": { "type": "{{(model == "kmeans" ? "kmeans-em" : "admm")}}" } }""");

    private static FinalSummary Summary(string metric = "accuracy") => new()
    {
        RunId = "run-1", Rounds = 12, ModelKey = "runs/run-1/model/final.tensor", TrainLoss = 0.24, ValidationLoss = 0.25,
        Metric = metric, TrainMetric = 0.9, ValidationMetric = 0.88, StopReason = "stop.maxRounds 12 reached", CostUsd = 0.012, ElapsedSeconds = 6,
    };

    [Fact]
    public void Html_FinishedRunWithTimelineAndOptimum_EveryChartHasAxesTicksLabelsAndSeries()
    {
        var workers = Enumerable.Range(0, 12).SelectMany(r => Enumerable.Range(0, 4).Select(p =>
            new WorkerSpan(r, p, 0.5 * r + 0.01 * p, 0.1 + 0.02 * p, p == 2 && r == 3 ? 2 : 1, p == 2 && r == 3 ? "retried" : "ok", null))).ToList();
        var data = new ReportData("run-1", Job(), Rounds(12))
        {
            Summary = Summary(), Workers = workers, OptimumLoss = 0.2, OptimumSource = "Newton",
            Parameters = ParameterLayout.Of(new LogisticRegression(3)),
        };

        var html = ReportPage.Html(data);
        var charts = Charts(html);

        Assert.Equal(["duration", "gap", "loss", "metric", "timeline"], charts.Keys.Order());
        foreach (var (id, svg) in charts)
        {
            Assert.Single(WithClass(svg, "axis"), e => ((string)e.Attribute("class")!).EndsWith(" x", StringComparison.Ordinal));
            Assert.Single(WithClass(svg, "axis"), e => ((string)e.Attribute("class")!).EndsWith(" y", StringComparison.Ordinal));
            Assert.True(WithClass(svg, "tick").Count() >= 4, id);
            Assert.True(WithClass(svg, "tick-label").Count() >= 4, id);
            Assert.Equal(2, WithClass(svg, "axis-title").Count());
        }
        Assert.Equal(["training loss", "validation loss"], WithClass(charts["loss"], "series").Select(s => (string)s.Attribute("data-series")!));
        Assert.Equal(12, ((string)WithClass(charts["loss"], "series").First().Attribute("points")!).Split(' ').Length);
        // x ticks at nice values: rounds 0..11 → 0, 2, 4, ..., 10.
        Assert.Equal(["0", "2", "4", "6", "8", "10"], WithClass(charts["loss"], "tick-label").Where(e => ((string)e.Attribute("class")!).EndsWith(" x", StringComparison.Ordinal)).Select(e => e.Value));
        // The gap axis is log10: labels are powers of ten.
        Assert.All(WithClass(charts["gap"], "tick-label").Where(e => ((string)e.Attribute("class")!).EndsWith(" y", StringComparison.Ordinal)), e => Assert.Matches(@"^1e-?\d+$", e.Value));
        Assert.Contains("log scale", charts["gap"].ToString());
        // The timeline: one bar per worker visit, one row label per partition, the retried one orange.
        Assert.Equal(48, WithClass(charts["timeline"], "span").Count());
        Assert.Single(WithClass(charts["timeline"], "span"), e => (string)e.Attribute("fill")! == "#ff7f0e");
        Assert.Equal(12, WithClass(charts["duration"], "span").Count());
        Assert.Contains("id=\"cost\"", html);
        Assert.Contains("id=\"job\"", html);
        Assert.Contains("<td class=\"l\">weights</td><td>[3]</td>", html);
        Assert.Contains("read_smlt(&quot;runs/run-1/model/final.tensor&quot;)", html);
        Assert.Contains("TensorCodec.Decode", html);
        Assert.Contains("gap 20.000%", html);
    }

    [Fact]
    public void Html_FailedRun_ShowsTheErrorAndTheRoundsItCompleted()
    {
        var failure = new FailureRecord("run-1", "TensorChecksumException", """{"errorMessage":"runs/run-1/rounds/2/stats/1.tensor: block 0 checksum mismatch"}""", DateTimeOffset.UnixEpoch);
        var data = new ReportData("run-1", Job(), Rounds(2)) { Failure = failure };

        var html = ReportPage.Html(data);

        Assert.Contains("<div class=\"failed\" id=\"failure\"><b>Failed</b> after 2 completed rounds", html);
        Assert.Contains("TensorChecksumException", html);
        Assert.Contains("block 0 checksum mismatch", html);
        Assert.Contains("runs/run-1/model/2.tensor", html);
        Assert.DoesNotContain("id=\"summary\"", html);
        // Two rounds: the round axis ticks whole rounds only.
        Assert.Equal(["0", "1"], WithClass(Charts(html)["loss"], "tick-label").Where(e => ((string)e.Attribute("class")!).EndsWith(" x", StringComparison.Ordinal)).Select(e => e.Value));
        Assert.Contains("id=\"no-timeline\"", html);
    }

    [Fact]
    public void Html_KMeans_PlotsInertiaNotAccuracy()
    {
        var rounds = Enumerable.Range(0, 5).Select(r => Round(r, 3.0 / (r + 1), 3.0 / (r + 1), "inertia")).ToList();

        var html = ReportPage.Html(new ReportData("k", Job("kmeans"), rounds) { Summary = Summary("inertia") });
        var metric = Charts(html)["metric"];

        Assert.Equal("validation inertia", (string)WithClass(metric, "series").Single().Attribute("data-series")!);
        Assert.Contains("inertia", WithClass(metric, "axis-title").Last().Value);
        Assert.DoesNotContain("accuracy (%)", html);
    }

    [Theory]
    [InlineData(0, 1, "0 0.2 0.4 0.6 0.8 1")]
    [InlineData(0.213, 0.241, "0.215 0.22 0.225 0.23 0.235 0.24")]
    [InlineData(0, 29, "0 5 10 15 20 25")]
    public void Ticks_Range_NiceValuesInside(double min, double max, string expected)
    {
        var ticks = SvgChart.Ticks(min, max);

        Assert.Equal(expected, string.Join(' ', ticks.Select(t => t.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture))));
    }
}

public sealed class RecordFailureReportTests
{
    [Fact]
    public async Task RunAsync_RunWithJobAndRounds_WritesAReportWithTheError()
    {
        using var run = new TestRun();
        var state = await run.PrepareAsync(TestRun.Job());
        state = await run.RoundAsync(state);
        var input = JsonNode.Parse(JsonSerializer.Serialize(state, ContractJson.Default.RunState))!.AsObject();
        input["error"] = new JsonObject { ["Error"] = "TrainingDivergedException", ["Cause"] = "loss is NaN" };

        await RecordFailureStep.RunAsync(run.Context, input);

        var html = Encoding.UTF8.GetString(await run.GetAsync("runs/run-1/report.html"));
        Assert.Contains("TrainingDivergedException", html);
        Assert.Contains("loss is NaN", html);
        Assert.Contains("after 1 completed rounds", html);
    }
}
