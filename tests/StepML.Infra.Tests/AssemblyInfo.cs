// jsii marshals every call through one node process and one pipe; calls from parallel test classes deadlock.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
