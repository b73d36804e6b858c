using System.Text.Json.Nodes;
using StepML.Infra;

namespace StepML.Infra.Tests;

// The stack, statemachines/functions.json (which the local engine enforces too) and train.asl.json agree on
// every time limit, and the worker's limits fit inside the EXPRESS child that runs it.
public sealed class LimitsTests(SynthesizedStack stack) : IClassFixture<SynthesizedStack>
{
    private JsonObject Asl => JsonNode.Parse(File.ReadAllText(Path.Combine(stack.RepositoryRoot, RepositoryLayout.StateMachineDefinition)))!.AsObject();

    // Every Task state in the definition, nested ones included.
    private static IEnumerable<(string Name, JsonObject State)> Tasks(JsonObject states)
    {
        foreach (var (name, node) in states)
        {
            var state = node!.AsObject();
            if ((string?)state["Type"] == "Task") yield return (name, state);
            if (state["ItemProcessor"]?["States"] is JsonObject inner)
                foreach (var task in Tasks(inner)) yield return task;
        }
    }

    private int TemplateTimeout(string function) =>
        stack.Resource(stack.FunctionId(function)).GetProperty("Properties").GetProperty("Timeout").GetInt32();

    [Fact]
    public void Asl_EveryFunctionTask_HasTheDeployedFunctionTimeoutAsTimeoutSeconds()
    {
        var checkedFunctions = new List<string>();
        foreach (var (name, state) in Tasks(Asl["States"]!.AsObject()))
        {
            var resource = (string)state["Resource"]!;
            var function = FunctionCatalog.All.SingleOrDefault(f => resource == "${" + f.SubstitutionName + "}");
            if (function is null) continue;

            Assert.True(state["TimeoutSeconds"] is not null, $"Task '{name}' calls {function.Name} without TimeoutSeconds");
            Assert.Equal(function.DefaultTimeoutSeconds, (int)state["TimeoutSeconds"]!);
            Assert.Equal(function.DefaultTimeoutSeconds, TemplateTimeout(function.Name));
            checkedFunctions.Add(function.Name);
        }
        // Partition runs in three states (a range, Summarize, an output) and Prepare in two (Prepare, Commit).
        // Merge is called by two tasks (MergeShard, and MergeGroup of the tree pattern's level loop), Worker by two (Work,
        // and AsyncWork of asynchronous training); all are checked.
        Assert.Equal(FunctionCatalog.All.Select(f => f.Name).Order(), checkedFunctions.Distinct().Order());
    }

    [Fact]
    public void Asl_WorkTask_RunsInAnExpressChildAndItsTimeoutFitsTheFiveMinutes()
    {
        var workers = Asl["States"]!["Workers"]!;
        Assert.Equal("DISTRIBUTED", (string)workers["ItemProcessor"]!["ProcessorConfig"]!["Mode"]!);
        Assert.Equal("EXPRESS", (string)workers["ItemProcessor"]!["ProcessorConfig"]!["ExecutionType"]!);

        var work = (int)workers["ItemProcessor"]!["States"]!["Work"]!["TimeoutSeconds"]!;
        Assert.InRange(work, 1, FunctionCatalog.ExpressChildSeconds - 1);
        Assert.InRange(TemplateTimeout(FunctionCatalog.Worker), 1, work);
    }

    [Fact]
    public void Asl_AsyncWork_LoopsInAStandardChildWithTheWorkerTimeout()
    {
        // An asynchronous worker's loop may outlast an EXPRESS child's 5 minutes; each invocation stays inside the
        // Worker's timeout (its round budget ends its updates first).
        var map = Asl["States"]!["AsyncWorkers"]!;
        Assert.Equal("STANDARD", (string)map["ItemProcessor"]!["ProcessorConfig"]!["ExecutionType"]!);
        var states = map["ItemProcessor"]!["States"]!;
        Assert.Equal("${" + FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.Worker).SubstitutionName + "}", (string)states["AsyncWork"]!["Resource"]!);
        Assert.Equal(TemplateTimeout(FunctionCatalog.Worker), (int)states["AsyncWork"]!["TimeoutSeconds"]!);
        Assert.Equal("AsyncWork", (string)states["AsyncDone?"]!["Default"]!);
    }

    [Fact]
    public void Functions_Worker_GetsARoundBudgetBelowItsTimeout()
    {
        var worker = stack.Resource(stack.FunctionId(FunctionCatalog.Worker)).GetProperty("Properties");
        var budget = int.Parse(worker.GetProperty("Environment").GetProperty("Variables").GetProperty("STEPML_WORKER_ROUND_SECONDS").GetString()!,
            System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(180, budget);
        Assert.InRange(budget, 1, worker.GetProperty("Timeout").GetInt32() - 30);
    }

    [Fact]
    public void Functions_PrepareAndPartition_GetTheTmpTheyWriteAndEveryOtherTheDefault()
    {
        var sizes = FunctionCatalog.All.ToDictionary(f => f.Name, f =>
            stack.Resource(stack.FunctionId(f.Name)).GetProperty("Properties").GetProperty("EphemeralStorage").GetProperty("Size").GetInt32());

        // Prepare writes every partition to /tmp before uploading: 10,240 MB is Lambda's maximum.
        Assert.Equal(10240, sizes["Prepare"]);
        // Partition: one range's pieces, or one assembled partition (at most 2 GiB).
        Assert.Equal(4096, sizes["Partition"]);
        Assert.All(sizes.Where(s => s.Key is not ("Prepare" or "Partition")), s => Assert.Equal(512, s.Value));
    }

    [Fact]
    public void Functions_MemoryAndTimeout_AreWithinLambdasLimits()
    {
        foreach (var function in FunctionCatalog.All)
        {
            Assert.InRange(function.DefaultMemoryMb, 128, 10240);
            Assert.InRange(function.DefaultTimeoutSeconds, 1, FunctionCatalog.MaxTimeoutSeconds);
            Assert.InRange(function.EphemeralStorageMb, 512, 10240);
        }
    }
}
