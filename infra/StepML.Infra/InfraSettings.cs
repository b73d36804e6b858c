using System.Globalization;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;

namespace StepML.Infra;

// The deploy-time options, read once from CDK context (cdk deploy -c stepml:workerMemoryMb=3008
// or the context block of cdk.json) and validated here, naming the key and the allowed values.
internal sealed record InfraSettings(
    Architecture Architecture,
    IReadOnlyDictionary<string, int> MemoryMb,
    IReadOnlyDictionary<string, int> TimeoutSeconds,
    int MaxConcurrency,
    int ToleratedFailurePercentage,
    RetentionDays LogRetention,
    int StatisticsExpiryDays)
{
    public const string Prefix = "stepml:";
    public const string ArchitectureKey = Prefix + "architecture";
    public const string MaxConcurrencyKey = Prefix + "maxConcurrency";
    public const string ToleratedFailurePercentageKey = Prefix + "toleratedFailurePercentage";
    public const string LogRetentionDaysKey = Prefix + "logRetentionDays";
    public const string StatisticsExpiryDaysKey = Prefix + "statisticsExpiryDays";

    public static string MemoryKey(FunctionSpec function) => $"{Prefix}{function.ContextName}MemoryMb";

    public static string TimeoutKey(FunctionSpec function) => $"{Prefix}{function.ContextName}TimeoutSeconds";

    // x86_64 by default: the local engine's results are compared with cloud runs, and float sums are only
    // bit-identical when the SIMD width (AVX2 on x86 vs NEON on arm64) is the same.
    public const string DefaultArchitecture = "x86_64";
    public const int DefaultMaxConcurrency = 100;
    public const int DefaultToleratedFailurePercentage = 0;
    public const int DefaultLogRetentionDays = 30;
    public const int DefaultStatisticsExpiryDays = 7;

    private static readonly IReadOnlyDictionary<int, RetentionDays> s_retentions = new Dictionary<int, RetentionDays>
    {
        [1] = RetentionDays.ONE_DAY, [3] = RetentionDays.THREE_DAYS, [5] = RetentionDays.FIVE_DAYS,
        [7] = RetentionDays.ONE_WEEK, [14] = RetentionDays.TWO_WEEKS, [30] = RetentionDays.ONE_MONTH,
        [60] = RetentionDays.TWO_MONTHS, [90] = RetentionDays.THREE_MONTHS, [120] = RetentionDays.FOUR_MONTHS,
        [150] = RetentionDays.FIVE_MONTHS, [180] = RetentionDays.SIX_MONTHS, [365] = RetentionDays.ONE_YEAR,
        [400] = RetentionDays.THIRTEEN_MONTHS, [545] = RetentionDays.EIGHTEEN_MONTHS, [731] = RetentionDays.TWO_YEARS,
        [1096] = RetentionDays.THREE_YEARS, [1827] = RetentionDays.FIVE_YEARS, [2192] = RetentionDays.SIX_YEARS,
        [2557] = RetentionDays.SEVEN_YEARS, [2922] = RetentionDays.EIGHT_YEARS, [3288] = RetentionDays.NINE_YEARS,
        [3653] = RetentionDays.TEN_YEARS,
    };

    public static InfraSettings FromContext(Construct scope)
    {
        string? Raw(string key) => scope.Node.TryGetContext(key) switch
        {
            null => null,
            string s => s,
            var v => Convert.ToString(v, CultureInfo.InvariantCulture),
        };

        int Int(string key, int fallback, int min, int max, string unit)
        {
            var raw = Raw(key);
            if (raw is null) return fallback;
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                throw new ArgumentException($"context {key}='{raw}' is not valid: give a whole number of {unit} from {min} to {max} (default {fallback})");
            return value;
        }

        var architecture = (Raw(ArchitectureKey) ?? DefaultArchitecture) switch
        {
            "x86_64" => Architecture.X86_64,
            "arm64" => Architecture.ARM_64,
            var other => throw new ArgumentException($"context {ArchitectureKey}='{other}' is not valid: use x86_64 or arm64 (default {DefaultArchitecture})"),
        };

        var memory = new Dictionary<string, int>();
        var timeout = new Dictionary<string, int>();
        foreach (var function in FunctionCatalog.All)
        {
            // Lambda's own limits: 128 MB to 10,240 MB.
            memory[function.Name] = Int(MemoryKey(function), function.DefaultMemoryMb, 128, 10240, "MB");
            // At most the catalog's value: it is also the Task's TimeoutSeconds in train.asl.json (and, for the Worker,
            // what fits the EXPRESS child's 5 minutes).
            timeout[function.Name] = Int(TimeoutKey(function), function.DefaultTimeoutSeconds, 1, function.DefaultTimeoutSeconds,
                $"seconds (the {function.Name} state's TimeoutSeconds in {RepositoryLayout.StateMachineDefinition} is the ceiling)");
        }

        var retentionDays = Int(LogRetentionDaysKey, DefaultLogRetentionDays, 1, 3653, "days");
        if (!s_retentions.TryGetValue(retentionDays, out var retention))
            throw new ArgumentException(
                $"context {LogRetentionDaysKey}={retentionDays} is not a CloudWatch Logs retention: use one of {string.Join(", ", s_retentions.Keys)}");

        return new InfraSettings(
            architecture,
            memory,
            timeout,
            // The Distributed Map's own ceiling is 10,000 concurrent child executions.
            Int(MaxConcurrencyKey, DefaultMaxConcurrency, 1, 10000, "concurrent workers"),
            Int(ToleratedFailurePercentageKey, DefaultToleratedFailurePercentage, 0, 100, "percent"),
            retention,
            Int(StatisticsExpiryDaysKey, DefaultStatisticsExpiryDays, 1, 3650, "days"));
    }
}
