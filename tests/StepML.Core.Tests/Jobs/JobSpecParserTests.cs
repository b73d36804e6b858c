using FsCheck;
using FsCheck.Fluent;
using StepML.Core.Jobs;

namespace StepML.Core.Tests.Jobs;

public class JobSpecParserTests
{
    private const string Minimal = """{ "dataset": { "path": "datasets/higgs.libsvm" } }""";

    [Fact]
    public void Parse_MinimalSpec_FillsEveryDefault()
    {
        // Act
        var spec = JobSpecParser.Parse(Minimal);

        // Assert
        Assert.Equal("job", spec.Name);
        Assert.Null(spec.RunId);
        Assert.Equal(42UL, spec.Seed);
        Assert.Equal("datasets/higgs.libsvm", spec.Dataset.Path);
        Assert.Equal("", spec.Dataset.Format);
        Assert.Equal(0, spec.Dataset.Features);
        Assert.Equal(4, spec.Dataset.Partitions);
        Assert.Equal(0.1, spec.Dataset.ValidationFraction);
        Assert.False(spec.Dataset.CsvHeader);
        Assert.Equal("logistic", spec.Model.Type);
        Assert.Equal(1e-4, spec.Model.L2);
        Assert.Equal("admm", spec.Algorithm.Type);
        Assert.Equal(0.5, spec.Algorithm.LearningRate);
        Assert.Equal(1000, spec.Algorithm.BatchSize);
        Assert.Equal(1, spec.Algorithm.LocalEpochs);
        Assert.Equal(0.1, spec.Algorithm.Rho);
        Assert.Equal(0.0, spec.Algorithm.Momentum);
        Assert.Equal("s3", spec.Communication.Channel);
        Assert.Equal("all-reduce", spec.Communication.Pattern);
        Assert.Equal(1, spec.Communication.Shards);
        Assert.Null(spec.Stop.TargetLoss);
        Assert.Equal(100, spec.Stop.MaxRounds);
        Assert.Equal(3600.0, spec.Stop.MaxSeconds);
        Assert.Null(spec.Stop.MaxCostUsd);
        Assert.Equal(1e-6, spec.Stop.Tolerance);
        Assert.Equal(10.0, spec.Stop.DivergenceFactor);
        Assert.Equal(0.0, spec.Stop.ModelTolerance);
        Assert.Equal(0, spec.Stop.RoundsPerExecution);
        Assert.Equal(2048, spec.Workers.MemoryMb);
        Assert.Null(spec.Workers.ToleratedFailurePercentage); // absent: the deployment default applies
        Assert.Equal(0, spec.Workers.MaxConcurrency);
        Assert.Equal(new JobSpec { Dataset = new DatasetSpec { Path = "datasets/higgs.libsvm" } }, spec);
    }

    [Fact]
    public void ToJsonParse_EveryFieldChangedFromItsDefault_RoundTrips()
    {
        // Arrange: every field differs from its default, so a field that ToJson drops or Parse ignores shows up.
        var spec = new JobSpec
        {
            Name = "higgs-lr.v2",
            RunId = "run_7",
            Seed = ulong.MaxValue,
            Dataset = new DatasetSpec { Path = "datasets/h.csv", Format = "csv", Features = 28, Partitions = 16, ValidationFraction = 0.25, CsvHeader = true },
            Model = new ModelSpec { Type = "logistic", L2 = 3.3e-5 },
            Algorithm = new AlgorithmSpec { Type = "ga-sgd", LearningRate = 0.123456789012345, BatchSize = 77, LocalEpochs = 3, Rho = 2.5, Momentum = 0.9 },
            Communication = new CommunicationSpec { Channel = "redis", Endpoint = "10.0.0.7:6380", Pattern = "scatter-reduce", Shards = 5 },
            Stop = new StopSpec { TargetLoss = 0.4321, MaxRounds = 17, MaxSeconds = 99.5, MaxCostUsd = 1.25, Tolerance = 1e-3, ModelTolerance = 2e-4, DivergenceFactor = 4, RoundsPerExecution = 12 },
            Workers = new WorkersSpec { MemoryMb = 3008, ToleratedFailurePercentage = 12.5, MaxConcurrency = 6 },
        };
        Assert.All(new object[] { spec.Dataset, spec.Algorithm, spec.Communication, spec.Stop, spec.Workers },
            part => Assert.NotEqual(Activator.CreateInstance(part.GetType()), part));

        // Act
        var parsed = JobSpecParser.Parse(JobSpecParser.ToJson(spec));

        // Assert
        Assert.Equal(spec, parsed);
    }

    [Fact]
    public void ToJsonParse_RandomNumericFields_RoundTripBitExact()
    {
        var gen =
            from rate in Gen.Choose(1, int.MaxValue).Select(i => i / 1e7)
            from l2 in Gen.Choose(0, int.MaxValue).Select(i => i * Math.PI * 1e-12)
            from fraction in Gen.Choose(0, 999_999).Select(i => i / 1e6 + 1e-9)
            from seed in Gen.Choose(0, int.MaxValue).Select(i => (ulong)i * 8_589_934_583UL)
            from batch in Gen.Choose(0, 1_000_000)
            select (rate, l2, fraction, seed, batch);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var spec = new JobSpec
            {
                Seed = t.seed,
                Dataset = new DatasetSpec { Path = "d.libsvm", ValidationFraction = t.fraction },
                Model = new ModelSpec { L2 = t.l2 },
                Algorithm = new AlgorithmSpec { LearningRate = t.rate, BatchSize = t.batch },
            };
            return JobSpecParser.Parse(JobSpecParser.ToJson(spec)) == spec;
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("""{ "dataset": { "path": "d", "partitons": 4 } }""", "dataset.partitons", "partitions")]
    [InlineData("""{ "sede": 1, "dataset": { "path": "d" } }""", "sede", "seed")]
    [InlineData("""{ "dataset": { "path": "d" }, "algorithm": { "learnngRate": 0.1 } }""", "algorithm.learnngRate", "learningRate")]
    [InlineData("""{ "dataset": { "path": "d" }, "stop": { "maxRound": 3 } }""", "stop.maxRound", "maxRounds")]
    public void Parse_UnknownField_NamesJsonPathAndSuggestsClosest(string json, string field, string suggestion)
    {
        // Act
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        // Assert
        Assert.Equal(field, e.Field);
        Assert.Contains($"'{field}'", e.Message);
        Assert.Contains($"did you mean '{suggestion}'", e.Message);
    }

    [Fact]
    public void Parse_UnknownFieldFarFromEveryName_ListsValidFields()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse("""{ "dataset": { "path": "d" }, "model": { "zzzzzzzzzz": 1 } }"""));

        Assert.Equal("model.zzzzzzzzzz", e.Field);
        Assert.Contains("valid fields here: type, l2", e.Message);
    }

    [Theory]
    [InlineData("""{ "dataset": { "path": "d", "partitions": "4" } }""", "dataset.partitions", "whole number")]
    [InlineData("""{ "dataset": { "path": "d", "partitions": 2.5 } }""", "dataset.partitions", "whole number")]
    [InlineData("""{ "dataset": { "path": 7 } }""", "dataset.path", "string")]
    [InlineData("""{ "dataset": { "path": "d", "csvHeader": 1 } }""", "dataset.csvHeader", "true or false")]
    [InlineData("""{ "dataset": { "path": "d" }, "algorithm": { "learningRate": "fast" } }""", "algorithm.learningRate", "number")]
    [InlineData("""{ "dataset": { "path": "d" }, "seed": -1 }""", "seed", "whole number")]
    [InlineData("""{ "dataset": { "path": "d" }, "model": [] }""", "model", "JSON object")]
    [InlineData("""{ "dataset": "datasets/x" }""", "dataset", "JSON object")]
    [InlineData("""{ "dataset": { "path": "d" }, "stop": { "targetLoss": true } }""", "stop.targetLoss", "number")]
    public void Parse_WrongType_NamesField(string json, string field, string expected)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal(field, e.Field);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("""{ "dataset": { } }""", "dataset.path")]
    [InlineData("""{ "name": "x" }""", "dataset")]
    public void Parse_MissingRequiredField_NamesIt(string json, string field)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal(field, e.Field);
        Assert.Contains("required", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"datasets/x\"")]
    [InlineData("42")]
    public void Parse_RootNotAnObject_NamesRoot(string json)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal("$", e.Field);
        Assert.Contains("JSON object", e.Message);
    }

    [Theory]
    [InlineData("name", "\"bad name\"")]
    [InlineData("name", "\"-x\"")]
    [InlineData("name", "\"a..b\"")] // the name starts generated run ids, where '..' is refused
    [InlineData("runId", "\"a..b\"")]
    [InlineData("runId", "\"../etc\"")]
    [InlineData("dataset.format", "\"parquet\"")]
    [InlineData("dataset.features", "-1")]
    [InlineData("dataset.partitions", "0")]
    [InlineData("dataset.partitions", "2001")]
    [InlineData("dataset.validationFraction", "1")]
    [InlineData("dataset.validationFraction", "-0.1")]
    [InlineData("model.l2", "-0.5")]
    [InlineData("algorithm.learningRate", "0")]
    [InlineData("algorithm.batchSize", "-5")]
    [InlineData("algorithm.localEpochs", "0")]
    [InlineData("algorithm.localEpochs", "1001")]
    [InlineData("algorithm.rho", "0")]
    [InlineData("algorithm.momentum", "1")]
    [InlineData("communication.shards", "0")]
    [InlineData("stop.maxRounds", "0")]
    [InlineData("stop.maxSeconds", "0")]
    [InlineData("stop.maxCostUsd", "0")]
    [InlineData("stop.tolerance", "1")]
    [InlineData("stop.divergenceFactor", "1")]
    [InlineData("stop.roundsPerExecution", "-1")]
    [InlineData("stop.roundsPerExecution", "2000")]
    [InlineData("workers.memoryMb", "127")]
    [InlineData("workers.memoryMb", "10241")]
    [InlineData("workers.toleratedFailurePercentage", "100.5")]
    [InlineData("workers.maxConcurrency", "-1")]
    public void Parse_OutOfRangeValue_NamesFieldAndValue(string field, string value)
    {
        // Arrange
        var json = WithField(field, value);

        // Act
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        // Assert
        Assert.Equal(field, e.Field);
        Assert.Contains(value.Trim('"'), e.Message);
    }

    [Theory]
    [InlineData("algorithm.learningRate", "1e308")] // in float32 every step would be inf·0 = NaN, silently dropped: a run that trains nothing
    [InlineData("algorithm.rho", "1e39")]
    [InlineData("algorithm.epsilon", "4e38")]
    [InlineData("model.l2", "1e300")]
    [InlineData("model.l1", "1e300")]
    public void Parse_ValueBeyondFloat32_NamesFieldAndTheLimit(string field, string value)
    {
        var json = WithField(field, value);

        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal(field, e.Field);
        Assert.Contains("at most 3.4e38", e.Message);
    }

    [Fact]
    public void Parse_RoundsPerExecutionOverHistoryLimit_GivesTheEventCountAndTheMaximum()
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(WithField("stop.roundsPerExecution", "1000")));

        // One shard: 28 events a round; 1000 × 28 + 1000 reserved = 29,000 > 25,000; at most (25,000 − 1,000) / 28 = 857.
        Assert.Contains("29,000 events", e.Message);
        Assert.Contains("at most 857", e.Message);
        Assert.Equal(857, JobSpecParser.Parse(WithField("stop.roundsPerExecution", "857")).Stop.RoundsPerExecution);
    }

    [Theory]
    [InlineData("algorithm.type", "adm", "admm")]
    [InlineData("algorithm.type", "ma_sgd", "ma-sgd")]
    [InlineData("communication.pattern", "scater-reduce", "scatter-reduce")]
    [InlineData("model.type", "logistc", "logistic")]
    [InlineData("communication.channel", "s4", "s3")]
    public void Parse_UnknownEnumValue_SuggestsClosest(string field, string value, string suggestion)
    {
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(WithField(field, $"\"{value}\"")));

        Assert.Equal(field, e.Field);
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains($"did you mean \"{suggestion}\"", e.Message);
    }

    [Theory]
    [InlineData("""{ "seed": 1, "dataset": { "path": "d" }, "seed": 2 }""", "seed")]
    [InlineData("""{ "dataset": { "path": "d", "partitions": 2, "partitions": 8 } }""", "dataset.partitions")]
    public void Parse_DuplicateField_NamesIt(string json, string field)
    {
        // Which of two values wins is parser trivia; a spec that says both is ambiguous.
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal(field, e.Field);
        Assert.Contains("more than once", e.Message);
    }

    [Fact]
    public void Parse_AllReduceWithSeveralShards_RejectedPointingAtScatterReduce()
    {
        var json = """{ "dataset": { "path": "d" }, "communication": { "pattern": "all-reduce", "shards": 4 } }""";

        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        Assert.Equal("communication.shards", e.Field);
        Assert.Contains("scatter-reduce", e.Message);
    }

    [Fact]
    public void Parse_ScatterReduceWithSeveralShards_Accepted()
    {
        var spec = JobSpecParser.Parse("""{ "dataset": { "path": "d" }, "communication": { "pattern": "scatter-reduce", "shards": 4 } }""");

        Assert.Equal(4, spec.Communication.Shards);
        Assert.Equal(Patterns.ScatterReduce, spec.Communication.Pattern);
    }

    [Fact]
    public void Parse_InvalidJson_ReportsLine()
    {
        // Arrange: the stray token is on line 4.
        var json = "{\n  \"name\": \"x\",\n  \"dataset\": { \"path\": \"d\" },\n  \"seed\": 4 2\n}";

        // Act
        var e = Assert.Throws<JobSpecException>(() => JobSpecParser.Parse(json));

        // Assert
        Assert.Equal("$", e.Field);
        Assert.Contains("line 4", e.Message);
    }

    [Fact]
    public void Parse_CommentsTrailingCommasAndNulls_AcceptedWithDefaults()
    {
        var json = """
            {
              // a comment
              "dataset": { "path": "d", "partitions": null, },
              "stop": { "targetLoss": null },
            }
            """;

        var spec = JobSpecParser.Parse(json);

        Assert.Equal(4, spec.Dataset.Partitions);
        Assert.Null(spec.Stop.TargetLoss);
    }

    // Builds a minimal valid spec with one dotted field set to a raw JSON value.
    private static string WithField(string field, string rawValue)
    {
        var parts = field.Split('.');
        var dataset = parts[0] == "dataset" ? $"\"path\": \"d\", \"{parts[1]}\": {rawValue}" : "\"path\": \"d\"";
        var rest = parts.Length == 1 ? $", \"{parts[0]}\": {rawValue}"
            : parts[0] == "dataset" ? ""
            : $", \"{parts[0]}\": {{ \"{parts[1]}\": {rawValue} }}";
        return $"{{ \"dataset\": {{ {dataset} }}{rest} }}";
    }
}
