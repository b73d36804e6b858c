using System.CommandLine;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli;

/// <summary>Turns the errors users cause (bad files, bad specs, missing objects) into one clear line and exit
/// code 2, instead of a stack trace. Anything else is a bug and keeps its stack trace.</summary>
internal static class CliErrors
{
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is JobSpecException or DatasetFormatException or TensorFormatException or ObjectNotFoundException
                                       or AslValidationException or ArgumentException or FileNotFoundException or DirectoryNotFoundException or UsageException)
        {
            Console.Error.WriteLine($"stepml: {e.Message}");
            return 2;
        }
    }
}

/// <summary>A command-line usage error that the option parser cannot express.</summary>
internal sealed class UsageException(string message) : Exception(message);
