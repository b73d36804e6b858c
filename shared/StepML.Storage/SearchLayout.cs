namespace StepML.Storage;

/// <summary>Keys of a hyper-parameter search: <c>searches/&lt;searchId&gt;/</c> holds its spec, the trial table (rewritten
/// after every batch), the result and the report; each trial is an ordinary run under <c>runs/&lt;searchId&gt;-t&lt;NN&gt;/</c>.</summary>
public static class SearchLayout
{
    public const string Prefix = "searches/";
    public static string Root(string searchId) => $"{Prefix}{ObjectKey.ValidateRunId(searchId, "searchId")}";
    public static string Spec(string searchId) => $"{Root(searchId)}/spec.json";
    public static string Trials(string searchId) => $"{Root(searchId)}/trials.json";
    public static string Result(string searchId) => $"{Root(searchId)}/result.json";
    public static string Report(string searchId) => $"{Root(searchId)}/report.html";
    public static string TrialRunId(string searchId, int trial) => $"{searchId}-t{trial:D2}";
}
