using System.CommandLine;
using StepML.Cli;
using StepML.Cli.Commands;

var root = new RootCommand("StepML: train machine-learning models on serverless infrastructure, orchestrated by a Step Functions state machine that also runs locally.")
{
    DemoCommand.Create(),
    RunCommand.Create(),
    DataCommands.Create(),
    HistoryCommand.Create(),
    StepML.Cli.Bench.BenchCommand.Create(),
};
return await CliErrors.InvokeAsync(root, args);
