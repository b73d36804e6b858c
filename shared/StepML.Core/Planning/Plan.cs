namespace StepML.Core.Planning;

/// <summary>The same job on one VM: one worker per vCPU in one process, statistics merged in memory.</summary>
public sealed record VmPoint(string Name, int Vcpus, double UsdPerHour, double RoundSeconds, double TotalSeconds, double TotalUsd, string? Infeasible = null);

/// <summary>
/// <c>stepml plan</c>'s answer: every memory size × worker count on Lambda, the cheapest and the fastest, the Pareto
/// front (no other configuration is both faster and cheaper), the same job on VMs, and the verdict.
/// </summary>
public sealed record Plan(PlanInput Input, CloudConstants Constants, IReadOnlyList<PlanPoint> Points, PlanPoint? Cheapest, PlanPoint? Fastest,
    IReadOnlyList<PlanPoint> Pareto, IReadOnlyList<VmPoint> Vms, string Verdict)
{
    public static readonly int[] MemorySizes = [512, 1024, 1769, 3008, 5307, 10240];
    public static readonly int[] WorkerCounts = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    public static Plan Make(PlanInput input, CloudConstants constants, Cost.DeployedMemory memory,
        IReadOnlyList<int>? memorySizes = null, IReadOnlyList<int>? workerCounts = null, IReadOnlyList<VmType>? vms = null)
    {
        var model = new CloudModel(input, constants, memory);
        var points = new List<PlanPoint>();
        // The job's own memory size and worker count are always in the table.
        foreach (var z in (memorySizes ?? MemorySizes).Append(input.Job.Workers.MemoryMb).Distinct().Order())
            foreach (var n in (workerCounts ?? WorkerCounts).Append(input.Job.Dataset.Partitions).Distinct().Order())
                if (n <= Math.Max(1, input.TrainingRows)) points.Add(model.Predict(z, n));
        var feasible = points.Where(p => p.Feasible).ToList();
        var cheapest = feasible.OrderBy(p => p.TotalUsd).ThenBy(p => p.TotalSeconds).FirstOrDefault();
        var fastest = feasible.OrderBy(p => p.TotalSeconds).ThenBy(p => p.TotalUsd).FirstOrDefault();
        var vmPoints = (vms ?? VmType.Defaults).Select(vm => OnVm(input, constants, vm)).ToList();
        return new Plan(input, constants, points, cheapest, fastest, ParetoFront(feasible), vmPoints, Judge(cheapest, fastest, vmPoints, input));
    }

    /// <summary>The configurations no other is both at least as fast and at least as cheap as (strictly better in
    /// one): by rising time, each is cheaper than every faster one.</summary>
    public static IReadOnlyList<PlanPoint> ParetoFront(IEnumerable<PlanPoint> points)
    {
        var front = new List<PlanPoint>();
        foreach (var p in points.OrderBy(p => p.TotalSeconds).ThenBy(p => p.TotalUsd))
            if (front.Count == 0 || p.TotalUsd < front[^1].TotalUsd)
                front.Add(p);
        return front;
    }

    /// <summary>One VM runs the job's own partitions (the same algorithm, so the same rounds), as many workers at a
    /// time as it has vCPUs; merging in memory is a pass over the statistics; EC2 bills per second with a 60-second
    /// minimum.</summary>
    public static VmPoint OnVm(PlanInput input, CloudConstants constants, VmType vm)
    {
        var partitions = Math.Max(1, input.Job.Dataset.Partitions);
        var waves = (partitions + vm.Vcpus - 1) / vm.Vcpus;
        var compute = waves * input.Calibration.RoundSeconds(Calibration.RowsPerWorker(input.Job, input.TrainingRows, partitions)) * constants.ComputeScale;
        var merge = partitions * input.Calibration.Parameters * sizeof(float) / 5e9;
        var round = compute + merge;
        var total = constants.VmStartSeconds + input.DatasetBytes / constants.S3BytesPerSecond + Math.Max(1, input.Rounds) * round;
        var bytes = input.TrainingRows * (input.Features + 1L) * sizeof(float) * 2;
        return new VmPoint(vm.Name, vm.Vcpus, vm.UsdPerHour, round, total, Math.Max(60, total) / 3600 * vm.UsdPerHour,
            bytes > vm.MemoryGb * 1e9 ? $"the data needs about {bytes / 1e9:F1} GB" : null);
    }

    private static string Judge(PlanPoint? cheapest, PlanPoint? fastest, IReadOnlyList<VmPoint> vms, PlanInput input)
    {
        var vmOk = vms.Where(v => v.Infeasible is null).ToList();
        if (cheapest is null || fastest is null) return "IaaS: no Lambda configuration fits (see the reasons in the table).";
        if (vmOk.Count == 0) return "FaaS: no listed VM holds the data in memory.";
        var vmCheap = vmOk.MinBy(v => v.TotalUsd)!;
        var vmFast = vmOk.MinBy(v => v.TotalSeconds)!;
        var communication = cheapest.CommunicationSeconds + cheapest.OverheadSeconds;
        var share = communication / Math.Max(cheapest.RoundSeconds, 1e-9);
        var why = $"At the cheapest Lambda configuration communication and orchestration are {share:P0} of a round over {input.Rounds} rounds; "
                  + "LambdaML (§5) finds FaaS pays off only for communication-efficient models that converge in few rounds.";
        if (cheapest.TotalUsd <= vmCheap.TotalUsd)
            return $"FaaS pays off: Lambda at {cheapest.MemoryMb} MB × {cheapest.Workers} costs ${cheapest.TotalUsd:F4} against ${vmCheap.TotalUsd:F4} on {vmCheap.Name}"
                   + (fastest.TotalSeconds < vmFast.TotalSeconds ? $", and its fastest configuration takes {fastest.TotalSeconds:F0} s against {vmFast.TotalSeconds:F0} s. " : ". ") + why;
        if (fastest.TotalSeconds < vmFast.TotalSeconds && fastest.TotalUsd <= vmFast.TotalUsd)
            return $"FaaS for speed: the fastest Lambda configuration ({fastest.MemoryMb} MB × {fastest.Workers}) takes {fastest.TotalSeconds:F0} s for ${fastest.TotalUsd:F4}, "
                   + $"faster and cheaper than the fastest VM ({vmFast.Name}: {vmFast.TotalSeconds:F0} s, ${vmFast.TotalUsd:F4}); the cheapest run is a VM's ({vmCheap.Name}, ${vmCheap.TotalUsd:F4} against Lambda's ${cheapest.TotalUsd:F4}). " + why;
        if (fastest.TotalSeconds < vmFast.TotalSeconds)
            return $"FaaS only for speed: the fastest Lambda configuration ({fastest.MemoryMb} MB × {fastest.Workers}) takes {fastest.TotalSeconds:F0} s against {vmFast.TotalSeconds:F0} s on {vmFast.Name}, "
                   + $"but costs ${fastest.TotalUsd:F4} ({fastest.TotalUsd / Math.Max(vmFast.TotalUsd, 1e-12):F1}× that VM's cost); the cheapest Lambda run costs ${cheapest.TotalUsd:F4} against ${vmCheap.TotalUsd:F4} on {vmCheap.Name}. " + why;
        return $"IaaS: {vmCheap.Name} costs ${vmCheap.TotalUsd:F4} and {vmFast.Name} takes {vmFast.TotalSeconds:F0} s; Lambda's cheapest costs ${cheapest.TotalUsd:F4} and its fastest takes {fastest.TotalSeconds:F0} s. " + why;
    }
}
