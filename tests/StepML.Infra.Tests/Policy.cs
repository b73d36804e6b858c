using System.Text.Json;

namespace StepML.Infra.Tests;

// Reads IAM statements from the synthesized JSON, rendering CloudFormation intrinsics to readable
// strings: {"Fn::GetAtt":[X,"Arn"]} becomes arn(X), {"Ref":X} becomes ref(X), and
// Fn::Join concatenates its rendered parts.
internal static class Policy
{
    public static IReadOnlyList<string> Actions(JsonElement statement) => Strings(statement.GetProperty("Action"));

    public static IReadOnlyList<string> Resources(JsonElement statement) =>
        statement.GetProperty("Resource") is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray().Select(Render).ToList()
            : [Render(statement.GetProperty("Resource"))];

    public static bool IsAllow(JsonElement statement) => statement.GetProperty("Effect").GetString() == "Allow";

    public static string Render(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String) return value.GetString()!;
        var property = value.EnumerateObject().Single();
        return property.Name switch
        {
            "Ref" => $"ref({property.Value.GetString()})",
            "Fn::GetAtt" => property.Value[1].GetString() == "Arn"
                ? $"arn({property.Value[0].GetString()})"
                : $"{property.Value[1].GetString()!.ToLowerInvariant()}({property.Value[0].GetString()})",
            "Fn::Join" => string.Join(property.Value[0].GetString(), property.Value[1].EnumerateArray().Select(Render)),
            _ => throw new InvalidOperationException($"no rendering for intrinsic {property.Name}: {value}"),
        };
    }

    private static IReadOnlyList<string> Strings(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().Select(v => v.GetString()!).ToList() : [value.GetString()!];
}
