using System.CommandLine;
using StepML.Cli.Commands;

namespace StepML.Cli;

public static class CliApp
{
    public static RootCommand Build() => new("StepML: train machine-learning models on serverless infrastructure, orchestrated by a Step Functions state machine that also runs locally.")
    {
        DemoCommand.Create(),
        RunCommand.Create(),
        ResumeCommand.Create(),
        DataCommands.Create(),
        RunsCommand.Create(),
        HistoryCommand.Create(),
        GcCommand.Create(),
        WatchCommand.Create(),
        ReportCommand.Create(),
        PlanCommand.Create(),
        SearchCommand.Create(),
        PredictCommands.Predict(),
        PredictCommands.Evaluate(),
        ExportCommand.Create(),
        ServeLambda.ServeLambdaCommand.Create(),
        ServeLambda.InvokeCommand.Create(),
        Bench.BenchCommand.Create(),
        Bench.ModelKernelBenchmark.Create(),
        Bench.ModelBench.Create(),
        CliErrors.VerboseOption(),
        Bench.ChannelBenchmark.Create(),
    };

    public static Task<int> RunAsync(string[] args) => CliErrors.InvokeAsync(Build(), args);
}
