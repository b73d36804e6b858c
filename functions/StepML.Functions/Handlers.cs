using System.Text.Json.Nodes;

namespace StepML.Functions;

// Lambda entry points: StepML.Functions::StepML.Functions.<Class>::HandleAsync on the managed dotnet10 runtime,
// which passes the raw event stream. Each parses, calls its step, and serialises the result; an exception's type
// name becomes the Step Functions Error that the ASL's Retry and Catch match.

public sealed class PrepareFunction(FunctionContext context)
{
    public PrepareFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var node = await Json.ReadNodeAsync(input, "Prepare").ConfigureAwait(false)
            ?? throw new InvalidInputException("Prepare: the input is JSON null; expected a job spec, {\"jobKey\": ...}, an S3 event or {\"resume\": ...}");
        var state = await PrepareStep.RunAsync(context, node).ConfigureAwait(false);
        return Json.Write(state, ContractJson.Default.RunState);
    }
}

public sealed class WorkerFunction(FunctionContext context)
{
    public WorkerFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await Json.ReadAsync(input, ContractJson.Default.WorkerInput, "Worker").ConfigureAwait(false);
        var result = await WorkerStep.RunAsync(context, request).ConfigureAwait(false);
        return Json.Write(result, ContractJson.Default.WorkerOutput);
    }
}

public sealed class MergeFunction(FunctionContext context)
{
    public MergeFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await Json.ReadAsync(input, ContractJson.Default.MergeInput, "Merge").ConfigureAwait(false);
        var result = await MergeStep.RunAsync(context, request).ConfigureAwait(false);
        return Json.Write(result, ContractJson.Default.MergeOutput);
    }
}

public sealed class DecideFunction(FunctionContext context)
{
    public DecideFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var state = await Json.ReadAsync(input, ContractJson.Default.RunState, "Decide").ConfigureAwait(false);
        var next = await DecideStep.RunAsync(context, state).ConfigureAwait(false);
        return Json.Write(next, ContractJson.Default.RunState);
    }
}

public sealed class FinalizeFunction(FunctionContext context)
{
    public FinalizeFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var state = await Json.ReadAsync(input, ContractJson.Default.RunState, "Finalize").ConfigureAwait(false);
        var summary = await FinalizeStep.RunAsync(context, state).ConfigureAwait(false);
        return Json.Write(summary, ContractJson.Default.FinalSummary);
    }
}

public sealed class RecordFailureFunction(FunctionContext context)
{
    public RecordFailureFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var node = await Json.ReadNodeAsync(input, "RecordFailure").ConfigureAwait(false);
        var record = await RecordFailureStep.RunAsync(context, node).ConfigureAwait(false);
        return Json.Write(record, ContractJson.Default.FailureRecord);
    }
}

public sealed class PartitionFunction(FunctionContext context)
{
    public PartitionFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await Json.ReadAsync(input, ContractJson.Default.PartitionInput, "Partition").ConfigureAwait(false);
        var result = await PartitionStep.RunAsync(context, request).ConfigureAwait(false);
        return Json.Write(result, ContractJson.Default.PartitionOutput);
    }
}
