using System.Globalization;
using System.Net;
using System.Text;
using StepML.Core.Cost;
using StepML.Core.Jobs;
using StepML.Core.Training;
using StepML.Storage;

namespace StepML.Functions.Reports;

/// <summary>report.html: one self-contained page (inline SVG and CSS, no scripts, no external assets) with the outcome,
/// the curves, the rounds' durations and workers, the cost, the job's settings and how to load the model.</summary>
public static class ReportPage
{
    private const string Blue = "#1f77b4", Orange = "#ff7f0e", Green = "#2ca02c", Red = "#d62728", Grey = "#7f7f7f";

    public static string Html(ReportData d)
    {
        var sb = new StringBuilder();
        var title = $"{d.Job.Name} — {d.RunId}";
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>StepML run ").Append(E(d.RunId)).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px;color:#222}table{border-collapse:collapse;margin:.5em 0}")
          .Append("td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}")
          .Append("pre{background:#f6f6f6;padding:.8em;overflow-x:auto}.failed{background:#fde8e8;border:1px solid #d62728;padding:.6em}")
          .Append(".caption{color:#555;font-size:90%}</style></head><body>");
        sb.Append("<h1>").Append(E(title)).Append("</h1>");
        Outcome(sb, d);
        Charts(sb, d);
        Workers(sb, d);
        Cost(sb, d);
        sb.Append("<h2>Job settings</h2><pre id=\"job\">").Append(E(JobSpecParser.ToJson(d.Job))).Append("</pre>");
        Model(sb, d);
        RoundsTable(sb, d);
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static void Outcome(StringBuilder sb, ReportData d)
    {
        if (d.Failure is { } f)
        {
            sb.Append("<div class=\"failed\" id=\"failure\"><b>Failed</b> after ").Append(d.Rounds.Count).Append(" completed rounds at ")
              .Append(E(f.Time.ToString("u", CultureInfo.InvariantCulture))).Append(": <code>").Append(E(f.Error)).Append("</code><br>")
              .Append(E(CauseMessage(f.Cause))).Append("<br>Nothing written was removed: the models of the completed rounds stay under <code>")
              .Append(E(RunLayout.Root(d.RunId))).Append("/model/</code> (the latest: <code>").Append(E(RunLayout.Model(d.RunId, d.Rounds.Count))).Append("</code>).</div>");
        }
        if (d.Summary is not { } s)
        {
            if (d.Failure is null) sb.Append("<p>Running or stopped: ").Append(d.Rounds.Count).Append(" rounds completed so far.</p>");
            return;
        }
        sb.Append("<p>Finished after ").Append(s.Rounds).Append(" rounds in ").Append(F(s.ElapsedSeconds, "F1")).Append(" s; stopped: ")
          .Append(E(s.StopReason)).Append(". Estimated cost $").Append(F(s.CostUsd, "F5")).Append(".</p>");
        if (s.RelativeGap is { } relative)
            sb.Append("<p>Certified: at most ").Append(F(relative * 100, "G3")).Append("% above the optimum (duality gap ").Append(F(s.Gap ?? double.NaN, "G3")).Append(").</p>");
        var format = s.Metric == "accuracy" ? "P2" : "G6";
        sb.Append("<table id=\"summary\"><tr><th></th><th>loss</th><th>").Append(E(s.Metric)).Append("</th></tr>");
        sb.Append("<tr><th class=\"l\">training</th><td>").Append(F(s.TrainLoss)).Append("</td><td>").Append(F(s.TrainMetric, format)).Append("</td></tr>");
        sb.Append("<tr><th class=\"l\">validation</th><td>").Append(F(s.ValidationLoss)).Append("</td><td>").Append(F(s.ValidationMetric, format)).Append("</td></tr>");
        if (s.TestLoss is not null)
            sb.Append("<tr><th class=\"l\">test</th><td>").Append(F(s.TestLoss)).Append("</td><td>").Append(F(s.TestAccuracy, format)).Append("</td></tr>");
        if (d.OptimumLoss is { } optimum)
            sb.Append("<tr><th class=\"l\">optimum</th><td>").Append(F(optimum)).Append("</td><td class=\"l\">gap ")
              .Append(F((s.TrainLoss - optimum) / optimum * 100, "F3")).Append("% (").Append(E(d.OptimumSource ?? "")).Append(")</td></tr>");
        sb.Append("</table>");
    }

    private static void Charts(StringBuilder sb, ReportData d)
    {
        if (d.Rounds.Count == 0) return;
        var rounds = d.Rounds.Select(r => (double)r.Round).ToList();
        var train = d.Rounds.Select(r => r.TrainLoss).ToList();
        var validation = d.Rounds.Select(r => r.ValidationLoss ?? double.NaN).ToList();
        var loss = new SvgChart("loss", "round", "loss").IntegerX().Add(new Series("training loss", rounds, train, Blue));
        if (validation.Any(double.IsFinite)) loss.Add(new Series("validation loss", rounds, validation, Orange));
        // The first round's loss (the initial model) is often far above the rest: scale to the later rounds and say so.
        var later = train.Skip(1).Concat(validation.Skip(1)).Where(double.IsFinite).ToList();
        var caption = "";
        if (later.Count >= 2 && (train[0] - later.Max()) > 2 * (later.Max() - later.Min()))
        {
            var pad = (later.Max() - later.Min()) * 0.08 + 1e-12;
            loss.YRange(later.Min() - pad, later.Max() + pad);
            caption = $"Round 0 (loss {F(train[0])}, the initial model) is above the top edge; the axis is scaled to the later rounds.";
        }
        sb.Append("<h2>Loss</h2>").Append(loss.Render()).Append("<p class=\"caption\">Training loss (with the L2 term) before each round's update; validation loss on the held-out partition. ")
          .Append(E(caption)).Append("</p>");
        if (d.OptimumLoss is { } optimum)
        {
            var gaps = train.Select(l => (l - optimum) / optimum).ToList();
            sb.Append("<h2>Gap to the optimum</h2>")
              .Append(new SvgChart("gap", "round", "relative gap (F − F*) / F*", logY: true).IntegerX().Add(new Series("training gap", rounds, gaps, Green)).Render())
              .Append("<p class=\"caption\">F* = ").Append(F(optimum)).Append(", ").Append(E(d.OptimumSource ?? "")).Append(".</p>");
        }
        var metricName = d.Rounds[0].Metric;
        var metric = d.Rounds.Select(r => r.ValidationMetric ?? r.ValidationAccuracy ?? double.NaN).Select(v => metricName == "accuracy" ? v * 100 : v).ToList();
        if (metric.Any(double.IsFinite))
            sb.Append("<h2>Validation ").Append(E(metricName)).Append("</h2>")
              .Append(new SvgChart("metric", "round", metricName == "accuracy" ? "accuracy (%)" : metricName).IntegerX().Add(new Series("validation " + metricName, rounds, metric, Red)).Render());
        var bars = d.Rounds.Select((r, i) =>
        {
            var seconds = r.ElapsedSeconds - (i == 0 ? 0 : d.Rounds[i - 1].ElapsedSeconds);
            return new Span(r.Round - 0.4, r.Round + 0.4, 0, Blue, $"round {r.Round}: {F(seconds, "F3")} s", seconds);
        });
        sb.Append("<h2>Round duration</h2>").Append(new SvgChart("duration", "round", "seconds").IntegerX().Spans(bars).Render())
          .Append("<p class=\"caption\">Wall time of each round (workers, merge, decide), from metrics.jsonl; the first includes the time since the run started.</p>");
    }

    private static void Workers(StringBuilder sb, ReportData d)
    {
        sb.Append("<h2>Worker timeline</h2>");
        if (d.Workers is not { Count: > 0 } workers)
        {
            sb.Append("<p id=\"no-timeline\">No execution history in the store for this run (cloud runs: the Step Functions console shows each round's map run); per-round totals are in the table below.</p>");
            return;
        }
        var partitions = workers.Select(w => w.Partition).Distinct().Order().ToArray();
        var row = partitions.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i);
        var spans = workers.Select(w => new Span(w.Start, w.Start + w.Seconds, row[w.Partition],
            w.Status == "failed" ? Red : w.Status == "retried" ? Orange : (w.Round % 2 == 0 ? Blue : "#6baed6"),
            $"round {w.Round}, partition {w.Partition}: {F(w.Seconds, "F3")} s, {w.Attempts} attempt(s), {w.Status}{(w.Error is null ? "" : " " + w.Error)}"));
        sb.Append(new SvgChart("timeline", "seconds since the run started", "partition").Spans(spans, partitions.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToArray()).Render());
        sb.Append("<p class=\"caption\">One bar per worker invocation (rounds alternate dark and light blue; orange: retried; red: failed). Hover a bar for its round and duration.</p>");
        sb.Append("<table id=\"workers\"><tr><th>round</th><th>workers</th><th>slowest (partition)</th><th>median s</th><th>max ÷ median</th><th>retries</th><th>failed</th></tr>");
        foreach (var g in workers.GroupBy(w => w.Round).OrderBy(g => g.Key))
        {
            var seconds = g.Select(w => w.Seconds).Order().ToList();
            var median = seconds[seconds.Count / 2];
            var slowest = g.MaxBy(w => w.Seconds)!;
            sb.Append("<tr><td>").Append(g.Key).Append("</td><td>").Append(g.Count()).Append("</td><td>").Append(F(slowest.Seconds, "F3")).Append(" s (")
              .Append(slowest.Partition).Append(")</td><td>").Append(F(median, "F3")).Append("</td><td>").Append(F(median > 0 ? slowest.Seconds / median : double.NaN, "F1"))
              .Append("</td><td>").Append(g.Sum(w => w.Attempts - 1)).Append("</td><td>").Append(g.Count(w => w.Status == "failed")).Append("</td></tr>");
        }
        sb.Append("</table>");
    }

    private static void Cost(StringBuilder sb, ReportData d)
    {
        if (d.Rounds.Count == 0) return;
        var job = d.Job;
        var shards = job.Communication.Shards;
        var state = job.Algorithm.Type is AlgorithmTypes.Admm or AlgorithmTypes.Cocoa; // the algorithms with worker state
        double workers = 0, requests = 0, transitions = 0;
        foreach (var r in d.Rounds)
        {
            workers += Pricing.Lambda(r.WorkerSeconds, job.Workers.MemoryMb, r.Workers);
            requests += Pricing.RoundRequests(r.Workers, shards, state);
            transitions += Pricing.StepFunctionsTransition * StopRules.EventsPerRound(shards) / 2;
        }
        var total = d.Rounds[^1].CostUsd;
        var merge = Math.Max(0, total - workers - requests - transitions);
        sb.Append("<h2>Cost</h2><table id=\"cost\"><tr><th class=\"l\">part</th><th>USD</th><th>share</th></tr>");
        foreach (var (name, value) in new[] { ("workers (Lambda GB-s and requests, " + job.Workers.MemoryMb + " MB)", workers), ("merge and decide (Lambda)", merge), ("S3 requests", requests), ("Step Functions transitions", transitions) })
            sb.Append("<tr><td class=\"l\">").Append(E(name)).Append("</td><td>").Append(F(value, "F5")).Append("</td><td>").Append(F(total > 0 ? value / total : 0, "P1")).Append("</td></tr>");
        sb.Append("<tr><th class=\"l\">total (estimated, x86 list prices)</th><th>").Append(F(total, "F5")).Append("</th><th></th></tr></table>");
    }

    private static void Model(StringBuilder sb, ReportData d)
    {
        var final = RunLayout.FinalModel(d.RunId);
        sb.Append("<h2>The model</h2><p>Final model: <code>").Append(E(d.Summary is null ? "(none: the run did not finish)" : final)).Append("</code>; each round's model: <code>")
          .Append(E(RunLayout.Model(d.RunId, 0).Replace("/0.tensor", "/<round>.tensor", StringComparison.Ordinal))).Append("</code>; summary <code>").Append(E(RunLayout.FinalSummary(d.RunId)))
          .Append("</code>; rounds <code>").Append(E(RunLayout.Metrics(d.RunId))).Append("</code>. A tensor file is a 64-byte header and float32 blocks of 16,384 values, each followed by its CRC32C (README, \"Tensor files\").</p>");
        if (d.Parameters.Count > 0)
        {
            sb.Append("<table id=\"parameters\"><tr><th class=\"l\">tensor</th><th>shape</th><th>offset</th></tr>");
            foreach (var p in d.Parameters)
                sb.Append("<tr><td class=\"l\">").Append(E(p.Name)).Append("</td><td>[").Append(string.Join(", ", p.Shape)).Append("]</td><td>").Append(p.Offset).Append("</td></tr>");
            sb.Append("</table>");
        }
        sb.Append("<h3>Python</h3><pre>").Append(E($"""
            # stepml export {d.RunId} --format npy   → one .npy per tensor above; or read the tensor file directly:
            from smlt_reader import read_smlt          # examples/smlt_reader.py
            flat, round_ = read_smlt("{final}")
            """)).Append("</pre>");
        sb.Append("<h3>C#</h3><pre>").Append(E($"""
            // stepml predict {d.RunId} rows.libsvm   (or: stepml export {d.RunId} --format onnx)
            var parameters = TensorCodec.Decode(File.ReadAllBytes("{final}"), "final.tensor", out _);
            var model = Models.Create(job.Model, job.Dataset.Features);     // job = JobSpecParser.Parse(runs/{d.RunId}/job.json)
            var predictions = Predictions.Of(model, parameters, Partition.Decode(File.ReadAllBytes("rows.part"), "rows.part"));
            """)).Append("</pre>");
    }

    private static void RoundsTable(StringBuilder sb, ReportData d)
    {
        if (d.Rounds.Count == 0) return;
        var metric = d.Rounds[0].Metric;
        var format = metric == "accuracy" ? "P2" : "G6";
        sb.Append("<h2>Rounds</h2><table id=\"rounds\"><tr><th>round</th><th>train loss</th><th>val loss</th><th>val ").Append(E(metric))
          .Append("</th><th>workers</th><th>failed</th><th>worker s</th><th>elapsed s</th><th>cost $</th></tr>");
        foreach (var r in d.Rounds)
            sb.Append("<tr><td>").Append(r.Round).Append("</td><td>").Append(F(r.TrainLoss)).Append("</td><td>").Append(F(r.ValidationLoss))
              .Append("</td><td>").Append(F(r.ValidationMetric ?? r.ValidationAccuracy, format)).Append("</td><td>").Append(r.Workers).Append("</td><td>").Append(r.FailedWorkers)
              .Append("</td><td>").Append(F(r.WorkerSeconds, "F3")).Append("</td><td>").Append(F(r.ElapsedSeconds, "F2")).Append("</td><td>").Append(F(r.CostUsd, "F5")).Append("</td></tr>");
        sb.Append("</table>");
    }

    private static string CauseMessage(string cause)
    {
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(cause)?["errorMessage"]?.GetValue<string>() ?? cause;
        }
        catch (System.Text.Json.JsonException)
        {
            return cause;
        }
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string F(double? v, string format = "G6") => v is { } d && double.IsFinite(d) ? d.ToString(format, CultureInfo.InvariantCulture) : "–";
}
