return await StepML.Cli.CliApp.RunAsync(args);
