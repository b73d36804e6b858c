namespace StepML.Storage.Ledger;

/// <summary>
/// Which ledger guards a store's runs. <c>dynamodb://TABLE</c> is the DynamoDB table (the stack passes its name
/// in <c>STEPML_LEDGER</c>; <c>STEPML_DYNAMODB_ENDPOINT</c> selects a DynamoDB-compatible server such as dynalite);
/// a path or <c>file://PATH</c> is a folder ledger. Without a ledger URI, a folder store keeps its ledger in its own
/// <c>ledger/</c> folder; an S3 store has no safe default (two machines share the bucket, not a folder), so it
/// needs one named.
/// </summary>
public static class RunLedgers
{
    public const string Variable = "STEPML_LEDGER";

    public static IRunLedger Open(string? ledgerUri, IObjectStore store, string? dynamoEndpoint = null, TimeProvider? time = null)
    {
        if (!string.IsNullOrEmpty(ledgerUri))
        {
            if (ledgerUri.StartsWith(DynamoDbRunLedger.Scheme, StringComparison.Ordinal))
                return DynamoDbRunLedger.Open(ledgerUri, dynamoEndpoint, time);
            if (ledgerUri.StartsWith("file://", StringComparison.Ordinal))
                return new FolderRunLedger(ledgerUri["file://".Length..], time);
            if (ledgerUri.Contains("://", StringComparison.Ordinal))
                throw new ArgumentException($"ledger '{ledgerUri}' has an unknown scheme: use dynamodb://TABLE or a folder");
            return new FolderRunLedger(ledgerUri, time);
        }
        if (store is FileObjectStore folder) return new FolderRunLedger(Path.Combine(folder.Root, "ledger"), time);
        throw new ArgumentException(
            $"store {store.Uri} needs a run ledger to guard its runs: pass --ledger dynamodb://TABLE (the stack's LedgerTableName output) " +
            $"or set {Variable}; a folder (--ledger DIR) guards only runs started from this machine");
    }
}
