using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using StepML.Core.Planning;
using StepML.Functions.Reports;

namespace StepML.Cli.Planning;

/// <summary>A plan as text (the table, the front, the VMs, the verdict), as JSON (<c>--json</c>) and as an HTML page
/// with the report's style and charts (<c>--out</c>).</summary>
internal static class PlanOutput
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string Key(PlanPoint p) => $"{p.MemoryMb} MB × {p.Workers}";

    public static string Text(Plan plan, string roundsSource)
    {
        var sb = new StringBuilder();
        var input = plan.Input;
        var c = input.Calibration;
        sb.AppendLine(CultureInfo.InvariantCulture, $"plan for '{input.Job.Name}': {input.Job.Model.Type} ({c.Parameters:N0} parameters), {input.Job.Algorithm.Type}, {input.Job.Communication.Channel} {input.Job.Communication.Pattern}; {input.TrainingRows:N0} training rows × {input.Features:N0} features");
        sb.AppendLine(CultureInfo.InvariantCulture, $"calibration on this machine: a worker's round = {F(c.FixedSeconds * 1e3, "F3")} ms + {F(c.SecondsPerRow * 1e6, "F3")} µs per row touched (sample of {c.SampleRows:N0} rows)");
        sb.AppendLine(CultureInfo.InvariantCulture, $"rounds: {input.Rounds} ({roundsSource})");
        if (input.Job.Communication.IsAsync)
            sb.AppendLine(CultureInfo.InvariantCulture, $"asynchronous: each worker applies {input.Rounds} updates without a barrier; a row's \"round\" is one update (its local work, then the model and its optimizer state read and written), and the Lambda rows bill the workers' whole loops; conflicts are not modelled. The VM rows run the same updates as rounds");
        sb.AppendLine();
        sb.AppendLine("memory MB  workers  compute s  comm s  round s   total s   $/round     total $  note");
        foreach (var p in plan.Points)
        {
            var note = p.Infeasible ?? string.Join(", ", new[] { p == plan.Cheapest ? "cheapest" : null, p == plan.Fastest ? "fastest" : null, plan.Pareto.Contains(p) ? "pareto" : null }.OfType<string>());
            sb.AppendLine(CultureInfo.InvariantCulture, $"{p.MemoryMb,9}  {p.Workers,7}  {F(p.ComputeSeconds, "F3"),9}  {F(p.CommunicationSeconds, "F3"),6}  {F(p.RoundSeconds, "F3"),7}  {F(p.TotalSeconds, "F1"),8}  {F(p.RoundUsd, "F6"),8}  {F(p.TotalUsd, "F4"),10}  {note}");
        }
        sb.AppendLine();
        if (plan.Cheapest is { } cheap) sb.AppendLine(CultureInfo.InvariantCulture, $"cheapest: {Key(cheap)}: ${F(cheap.TotalUsd, "F4")} in {F(cheap.TotalSeconds, "F0")} s");
        if (plan.Fastest is { } fast) sb.AppendLine(CultureInfo.InvariantCulture, $"fastest:  {Key(fast)}: {F(fast.TotalSeconds, "F0")} s for ${F(fast.TotalUsd, "F4")}");
        sb.AppendLine("pareto front (faster ones cost more): " + string.Join("; ", plan.Pareto.Select(p => $"{Key(p)} {F(p.TotalSeconds, "F0")} s ${F(p.TotalUsd, "F4")}")));
        sb.AppendLine();
        sb.AppendLine("VM             vCPUs   $/hour   round s   total s     total $  note");
        foreach (var v in plan.Vms)
            sb.AppendLine(CultureInfo.InvariantCulture, $"{v.Name,-13}  {v.Vcpus,5}  {F(v.UsdPerHour, "F4"),7}  {F(v.RoundSeconds, "F3"),8}  {F(v.TotalSeconds, "F1"),8}  {F(v.TotalUsd, "F4"),10}  {v.Infeasible}");
        sb.AppendLine();
        sb.AppendLine("verdict: " + plan.Verdict);
        return sb.ToString();
    }

    public static string Json(Plan plan, string roundsSource) => JsonSerializer.Serialize(new
    {
        job = plan.Input.Job.Name,
        model = plan.Input.Job.Model.Type,
        algorithm = plan.Input.Job.Algorithm.Type,
        channel = plan.Input.Job.Communication.Channel,
        pattern = plan.Input.Job.Communication.Pattern,
        trainingRows = plan.Input.TrainingRows,
        features = plan.Input.Features,
        datasetBytes = plan.Input.DatasetBytes,
        rounds = plan.Input.Rounds,
        roundsSource,
        calibration = plan.Input.Calibration,
        constants = plan.Constants,
        pricesAsOf = StepML.Core.Cost.Pricing.AsOf,
        points = plan.Points,
        cheapest = plan.Cheapest,
        fastest = plan.Fastest,
        pareto = plan.Pareto,
        vms = plan.Vms,
        verdict = plan.Verdict,
    }, s_json);

    public static string Html(Plan plan, string roundsSource)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StepML plan ").Append(E(plan.Input.Job.Name))
          .Append("</title><style>").Append(ReportPage.Css).Append("</style></head><body>");
        sb.Append("<h1>Plan: ").Append(E(plan.Input.Job.Name)).Append("</h1><p>").Append(E(plan.Verdict)).Append("</p>");
        var colors = new[] { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b" };
        var chart = new SvgChart("plan", "total time (s)", "total cost ($)", logY: true);
        var i = 0;
        foreach (var group in plan.Points.Where(p => p.Feasible).GroupBy(p => p.MemoryMb))
            chart.Add(new Series($"{group.Key} MB", group.Select(p => p.TotalSeconds).ToList(), group.Select(p => p.TotalUsd).ToList(), colors[i++ % colors.Length]));
        chart.Add(new Series("Pareto front", plan.Pareto.Select(p => p.TotalSeconds).ToList(), plan.Pareto.Select(p => p.TotalUsd).ToList(), "#000"));
        sb.Append("<h2>Time against cost</h2>").Append(chart.Render())
          .Append("<p class=\"caption\">Each line is one Lambda memory size over 1, 2, 4, … workers; black is the Pareto front. Rounds: ")
          .Append(plan.Input.Rounds).Append(" (").Append(E(roundsSource)).Append(").</p>");
        sb.Append("<h2>Lambda configurations</h2><table id=\"points\"><tr><th>memory MB</th><th>workers</th><th>compute s</th><th>communication s</th><th>round s</th><th>total s</th><th>$ per round</th><th>total $</th><th class=\"l\">note</th></tr>");
        foreach (var p in plan.Points)
            sb.Append("<tr><td>").Append(p.MemoryMb).Append("</td><td>").Append(p.Workers).Append("</td><td>").Append(F(p.ComputeSeconds, "F3")).Append("</td><td>")
              .Append(F(p.CommunicationSeconds, "F3")).Append("</td><td>").Append(F(p.RoundSeconds, "F3")).Append("</td><td>").Append(F(p.TotalSeconds, "F1"))
              .Append("</td><td>").Append(F(p.RoundUsd, "F6")).Append("</td><td>").Append(F(p.TotalUsd, "F4")).Append("</td><td class=\"l\">")
              .Append(E(p.Infeasible ?? (plan.Pareto.Contains(p) ? "pareto" : ""))).Append("</td></tr>");
        sb.Append("</table><h2>VMs</h2><table id=\"vms\"><tr><th class=\"l\">type</th><th>vCPUs</th><th>$ per hour</th><th>round s</th><th>total s</th><th>total $</th></tr>");
        foreach (var v in plan.Vms)
            sb.Append("<tr><td class=\"l\">").Append(E(v.Name)).Append("</td><td>").Append(v.Vcpus).Append("</td><td>").Append(F(v.UsdPerHour, "F4")).Append("</td><td>")
              .Append(F(v.RoundSeconds, "F3")).Append("</td><td>").Append(F(v.TotalSeconds, "F1")).Append("</td><td>").Append(F(v.TotalUsd, "F4")).Append("</td></tr>");
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}
