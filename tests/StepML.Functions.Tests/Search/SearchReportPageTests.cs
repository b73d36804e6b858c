using System.Text.Json.Nodes;
using System.Xml.Linq;
using StepML.Functions.Search;

namespace StepML.Functions.Tests.Search;

public sealed class SearchReportPageTests
{
    private static TrialRecord Trial(int i, params (int Rung, int Rounds, double? Loss)[] rungs) => new()
    {
        Trial = i, RunId = $"s-t{i:D2}", Parameters = new JsonObject { ["algorithm.rho"] = 0.1 * (i + 1) },
        Rung = rungs.Max(r => r.Rung), Rounds = rungs[^1].Rounds, ValidationLoss = rungs[^1].Loss,
        Status = rungs[^1].Loss is null ? "failed" : "finished", Error = rungs[^1].Loss is null ? "TrainingDivergedException: loss is NaN" : null,
        Rungs = rungs.Select(r => new RungPoint(r.Rung, r.Rounds, r.Loss, 0.001 * r.Rounds)).ToArray(),
    };

    [Fact]
    public void Html_ThreeRungs_PlotsEachTrialThroughItsRungsBestInRedAndListsEveryTrial()
    {
        var trials = new[]
        {
            Trial(0, (0, 1, 0.60)),
            Trial(1, (0, 1, 0.50), (1, 3, 0.40)),
            Trial(2, (0, 1, 0.45), (1, 3, 0.35), (2, 9, 0.30)),
            Trial(3, (0, 1, null)),
        };
        var table = new TrialTable("s", "successive-halving", [1, 3, 9], trials, 3);
        var result = new SearchResult { SearchId = "s", Strategy = "successive-halving", Trials = 4, TotalRounds = 14, Best = trials[2], StopReason = "every rung trained" };

        var html = SearchReportPage.Html(table, result);

        var start = html.IndexOf("<svg", StringComparison.Ordinal);
        var svg = XElement.Parse(html[start..(html.IndexOf("</svg>", start, StringComparison.Ordinal) + 6)]);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var lines = svg.Descendants(ns + "polyline").ToList();
        Assert.Equal(["t0", "t1", "t2"], lines.Select(l => (string)l.Attribute("data-series")!));
        Assert.Equal([1, 2, 3], lines.Select(l => ((string)l.Attribute("points")!).Split(' ').Length));
        Assert.Equal("#d62728", (string)lines[2].Attribute("stroke")!);
        Assert.Equal(6, svg.Descendants(ns + "circle").Count(c => (string?)c.Attribute("class") == "marker"));
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "rounds trained");
        Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "validation loss");
        Assert.Contains("<tr class=\"best\"><td>2</td>", html);
        Assert.Contains("failed: TrainingDivergedException: loss is NaN", html);
        Assert.Contains("14 rounds in all", html);
    }
}
