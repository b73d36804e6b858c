using StepML.Core.Algorithms;
using StepML.Core.Jobs;
using StepML.Core.Models;
using StepML.Core.Tensors;

namespace StepML.Functions;

/// <summary>What every step of a round derives from the run's job.json: the model, the algorithm and how the model's
/// parameters split into shards. One place, so Worker, Merge, Decide and Finalize cannot disagree.</summary>
internal sealed record RunSetup(JobSpec Job, IModel Model, IAlgorithm Algorithm, ShardLayout Layout)
{
    public int Parameters => Model.ParameterCount;

    public static async Task<RunSetup> LoadAsync(FunctionContext context, string runId)
    {
        var job = await context.Cache.JobAsync(runId).ConfigureAwait(false);
        var model = Models.Create(job.Model, job.Dataset.Features);
        return new RunSetup(job, model, Algorithms.Create(job), ShardLayout.For(model.ParameterCount, job.Communication.Shards));
    }
}
