using System.Text.Json;
using System.Text.Json.Nodes;
using StepML.Functions.Search;

namespace StepML.Functions;

/// <summary>The hyper-parameter search's Lambda entry point (statemachines/search.asl.json): <c>{"action": "plan", "spec":
/// {...}}</c>, <c>{"action": "rank" | "finish", "state": {...}}</c>. One function for the three steps: they share the
/// trial table and need the same permissions.</summary>
public sealed class SearchFunction(FunctionContext context)
{
    public SearchFunction() : this(FunctionContext.FromEnvironment()) { }

    public async Task<Stream> HandleAsync(Stream input)
    {
        var node = await Json.ReadNodeAsync(input, "Search").ConfigureAwait(false) as JsonObject
                   ?? throw new InvalidInputException("Search: the input must be {\"action\": \"plan\" | \"rank\" | \"finish\", ...}");
        var action = node["action"]?.GetValue<string>();
        return action switch
        {
            "plan" => Json.Write(await SearchStep.PlanAsync(context, node).ConfigureAwait(false), SearchJson.Default.SearchState),
            "rank" => Json.Write(await SearchStep.RankAsync(context, State(node)).ConfigureAwait(false), SearchJson.Default.SearchState),
            "finish" => Json.Write(await SearchStep.FinishAsync(context, State(node)).ConfigureAwait(false), SearchJson.Default.SearchResult),
            _ => throw new InvalidInputException($"Search: action '{action}' is not plan, rank or finish"),
        };
    }

    private static SearchState State(JsonObject node)
    {
        try
        {
            return node["state"].Deserialize(SearchJson.Default.SearchState) ?? throw new InvalidInputException("Search: 'state' is null");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"Search: 'state' is not a search state: {e.Message}", e);
        }
    }
}
