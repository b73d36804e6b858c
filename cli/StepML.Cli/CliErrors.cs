using System.CommandLine;
using System.CommandLine.Help;
using StepML.Core.Data;
using StepML.Core.Jobs;
using StepML.Core.Tensors;
using StepML.Functions;
using StepML.Local;
using StepML.Storage;

namespace StepML.Cli;

/// <summary>
/// The CLI's exit codes: 0 success, 2 bad input (a command-line argument, a job field, a dataset file: the user
/// fixes it), 1 a fault (a store that is down or full, a failed run, a bug). Every error is one line on stderr,
/// printed once, naming what is wrong; the stack trace only with <c>--verbose</c>.
/// </summary>
internal static class CliErrors
{
    public const int InputError = 2;
    public const int Fault = 1;

    /// <summary>A message quotes at most this many characters of anything (user input included).</summary>
    private const int MaxMessageChars = 2000;

    /// <summary>Error names (exception type names, as the state machine reports them) that mean "fix your input".</summary>
    private static readonly HashSet<string> s_inputErrors =
    [
        nameof(JobSpecException), nameof(StepML.Core.Search.SearchSpecException), nameof(DatasetFormatException), nameof(InvalidInputException), nameof(TensorFormatException),
        nameof(ObjectNotFoundException), nameof(AslValidationException), nameof(ArgumentException), nameof(UsageException),
        nameof(FileNotFoundException), nameof(DirectoryNotFoundException), nameof(RunExistsException),
        nameof(RunNotFoundException), nameof(RunNotResumableException),
    ];

    /// <summary>The global <c>--verbose</c> option (one per root command).</summary>
    public static Option<bool> VerboseOption() => new("--verbose")
    {
        Description = "On an error, also print the stack trace",
        Recursive = true,
    };

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        var verboseOption = root.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == "--verbose");
        var verbose = verboseOption is not null && parse.GetValue(verboseOption);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            // One line per problem and a pointer to the help, never the whole help text.
            foreach (var error in parse.Errors) Console.Error.WriteLine($"stepml: {Clip(error.Message)}");
            var command = string.Join(' ', parse.CommandResult.Command is RootCommand ? [] : CommandPath(parse.CommandResult));
            Console.Error.WriteLine($"  see: stepml {command}{(command.Length > 0 ? " " : "")}--help");
            return InputError;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception e) when (IsInputError(e))
        {
            Console.Error.WriteLine($"stepml: {Clip(e.Message)}");
            if (verbose) Console.Error.WriteLine(e);
            return InputError;
        }
        catch (UnauthorizedAccessException e)
        {
            // A file or folder of the user's that this user may not read or write (mode 000, another owner's folder):
            // theirs to fix, named by the path in the message.
            Console.Error.WriteLine($"stepml: {Clip(e.Message.TrimEnd('.'))} (permission denied): make it readable (or writable) for this user with chmod or chown, or give another path");
            if (verbose) Console.Error.WriteLine(e);
            return InputError;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("stepml: cancelled");
            return Fault;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"stepml: {e.GetType().Name}: {Clip(e.Message)}");
            for (var inner = e.InnerException; inner is not null && !verbose; inner = inner.InnerException)
                if (inner.Message != e.Message) Console.Error.WriteLine($"  caused by {inner.GetType().Name}: {Clip(inner.Message)}");
            Console.Error.WriteLine(verbose ? e.ToString() : "  (stepml --verbose ... prints the stack trace)");
            return Fault;
        }
    }

    /// <summary>Whether a failed run's error name (or an exception) is the user's input rather than a fault.</summary>
    public static bool IsInputError(string? errorName) => errorName is not null && s_inputErrors.Contains(errorName);

    private static bool IsInputError(Exception e) => IsInputError(e.GetType().Name) || e is ArgumentException;

    /// <summary>The exit code for a run that ended: 0, or 2 when its error is an input error, else 1.</summary>
    public static int ExitCode(PipelineResult result) => result.Succeeded ? 0 : IsInputError(result.Error) ? InputError : Fault;

    /// <summary>Cuts a message to <see cref="MaxMessageChars"/>, saying how much was left out.</summary>
    public static string Clip(string message) => message.Length <= MaxMessageChars
        ? message
        : $"{message[..(MaxMessageChars - 200)]}… [{message.Length - MaxMessageChars + 200:N0} more characters] …{message[^200..]}";

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Command.Name);
        return names;
    }
}

/// <summary>A command-line usage error that the option parser cannot express.</summary>
internal sealed class UsageException(string message) : Exception(message);
