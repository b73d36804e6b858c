using System.Text;
using StepML.Functions.Reports;
using StepML.Storage;

namespace StepML.Functions.Search;

/// <summary>searches/&lt;id&gt;/report.html: the outcome, the rungs as a chart (validation loss over rounds, one line per
/// trial through the rungs it reached, the best in red) and the trial table. Same self-contained style as a run's report.</summary>
internal static class SearchReportPage
{
    private static readonly string[] s_palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    private const string Red = "#d62728";

    public static string Html(TrialTable table, SearchResult result)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StepML search ").Append(E(table.SearchId)).Append("</title><style>")
          .Append(ReportPage.Css).Append("</style></head><body>");
        sb.Append("<h1>Search ").Append(E(table.SearchId)).Append("</h1>");
        sb.Append("<p id=\"outcome\">").Append(E(table.Strategy)).Append(": ").Append(table.Trials.Length).Append(" trials, ")
          .Append(result.TotalRounds).Append(" rounds in all, estimated cost $").Append(F(result.CostUsd, "F5")).Append("; ended: ").Append(E(result.StopReason)).Append(".</p>");
        if (result.Best is { } best)
            sb.Append("<p id=\"best\">Best: trial ").Append(best.Trial).Append(" (").Append(E(Parameters(best))).Append("), validation loss ")
              .Append(F(best.ValidationLoss)).Append(" after ").Append(best.Rounds).Append(" rounds; run <code>").Append(E(best.RunId))
              .Append("</code>, model <code>").Append(E(RunLayout.FinalModel(best.RunId))).Append("</code>.</p>");
        else sb.Append("<p id=\"best\">No trial finished with a validation loss.</p>");

        var chart = new SvgChart("rungs", "rounds trained", "validation loss").IntegerX().Markers();
        foreach (var t in table.Trials)
        {
            var points = t.Rungs.Where(p => p.ValidationLoss is { } l && double.IsFinite(l)).ToArray();
            if (points.Length == 0) continue;
            var color = result.Best?.Trial == t.Trial ? Red : s_palette[t.Trial % s_palette.Length];
            chart.Add(new Series($"t{t.Trial}", points.Select(p => (double)p.Rounds).ToArray(), points.Select(p => p.ValidationLoss!.Value).ToArray(), color));
        }
        sb.Append("<h2>Rungs</h2>").Append(chart.Render());
        sb.Append("<p class=\"caption\">Each line is one trial through the rungs it reached (").Append(E(string.Join(", ", table.RungRounds)))
          .Append(" rounds); a trial that stops at a rung was not among the best 1/η there. The best trial is red.</p>");

        sb.Append("<h2>Trials</h2><table id=\"trials\"><tr><th>trial</th><th class=\"l\">parameters</th><th>rung</th><th>rounds</th><th>validation loss</th>")
          .Append("<th>metric</th><th>cost $</th><th class=\"l\">status</th><th class=\"l\">run</th></tr>");
        foreach (var t in table.Trials.OrderBy(t => t.ValidationLoss ?? double.PositiveInfinity))
        {
            sb.Append(result.Best?.Trial == t.Trial ? "<tr class=\"best\">" : "<tr>").Append("<td>").Append(t.Trial).Append("</td><td class=\"l\">").Append(E(Parameters(t)))
              .Append("</td><td>").Append(t.Rung).Append("</td><td>").Append(t.Rounds).Append("</td><td>").Append(F(t.ValidationLoss)).Append("</td><td>")
              .Append(F(t.ValidationMetric)).Append("</td><td>").Append(F(t.CostUsd, "F5")).Append("</td><td class=\"l\">")
              .Append(E(t.Status + (t.Error is null ? "" : ": " + t.Error))).Append("</td><td class=\"l\">").Append(E(t.RunId)).Append("</td></tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }

    internal static string Parameters(TrialRecord t) => string.Join(", ", t.Parameters.Select(p => $"{p.Key}={p.Value?.ToJsonString()}"));

    private static string E(string s) => ReportPage.E(s);

    private static string F(double? v, string format = "G6") => ReportPage.F(v, format);
}
