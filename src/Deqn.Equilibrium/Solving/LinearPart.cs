using System.Globalization;
using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Perturbation;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// The first-order solution in the network's raw (pre-transform) outputs: raw = a + S·(x − x̄), each row held within
/// ±<see cref="Reach"/> of its anchor a. a = T⁻¹(p̄) for each policy's output transform T, S = (T⁻¹)′(p̄)·P with P the
/// perturbation's slopes, x the continuous states. A policy network with a linear part outputs raw = this + the
/// network, so the network learns only what the linear solution misses (<see cref="WarmStartKind.Correction"/>), and
/// its approximation error scales with that correction rather than with the whole policy.
/// </summary>
/// <remarks>
/// Anchoring in raw outputs keeps every policy inside its transform's range however far the linear policy would leave
/// it; where T⁻¹ is unbounded (a multiplier at 0 under softplus) the anchor sits at a small positive value.
/// </remarks>
public sealed class LinearPart
{
    /// <summary>How far from its anchor a raw output of the linear part may go (beyond, it is held: the network takes over).</summary>
    public const double Reach = 10;

    private LinearPart(int[] columns, double[] center, double[] anchor, double[,] slopes)
    {
        Columns = columns;
        Center = center;
        Anchor = anchor;
        Slopes = slopes;
    }

    /// <summary>The state columns it reads (the continuous ones), and the steady state there.</summary>
    public IReadOnlyList<int> Columns { get; }
    public IReadOnlyList<double> Center { get; }

    /// <summary>The raw outputs at the steady state, one per policy element.</summary>
    public IReadOnlyList<double> Anchor { get; }

    /// <summary>d raw / d x at the steady state [policy elements, continuous states].</summary>
    public double[,] Slopes { get; }

    /// <summary>The linear part of <paramref name="model"/> at <paramref name="linear"/>; null without a steady state (slopes zero without a first-order solution).</summary>
    public static LinearPart? Of(Model model, LinearSolution linear)
    {
        var steady = linear.SteadyState;
        if (!steady.Found) return null;
        int m = model.PolicyWidth;
        var policies = model.PolicyColumns;
        var continuous = ContinuousColumns(model);
        var anchor = new double[m];
        var slopes = new double[m, continuous.Length];
        for (int i = 0; i < m; i++)
        {
            var p = policies[i].Policy;
            anchor[i] = PolicyOutputs.Inverse(p, steady.PolicyRow[i]);
            double factor = 1 / Math.Max(PolicyOutputs.Slope(p, anchor[i]), 1e-12);
            if (linear.Solved)
                for (int j = 0; j < continuous.Length; j++) slopes[i, j] = factor * linear.PolicySlopes[i, j];
        }
        return new LinearPart(continuous, continuous.Select(j => steady.StateRow[j]).ToArray(), anchor, slopes);
    }

    private static int[] ContinuousColumns(Model model) =>
        model.StateColumns.Select((c, j) => (c, j)).Where(x => x.c.State.Chain is null).Select(x => x.j).ToArray();

    /// <summary>The raw outputs [n, policy elements] at <paramref name="states"/> [n, StateWidth] (no gradients).</summary>
    /// <remarks>
    /// Row by row through <see cref="RawAt"/>: for fits and checks. A policy network computes the same from its scaled
    /// inputs, one addmm a call.
    /// </remarks>
    public Tensor Raw(Tensor states)
    {
        var x = Tensors.ToArray(states.detach());
        int rows = x.GetLength(0), m = Anchor.Count;
        var raw = new double[rows, m];
        var continuous = new double[Columns.Count];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < continuous.Length; j++) continuous[j] = x[i, Columns[j]];
            var row = RawAt(continuous);
            for (int k = 0; k < m; k++) raw[i, k] = row[k];
        }
        return Tensors.FromArray(raw, states.dtype).to(states.device);
    }

    /// <summary>Round-trip text for a policy file's provenance: "columns=…;center=…;anchor=…;slopes=…" (slopes row-major).</summary>
    public override string ToString() => string.Join(';',
        "columns=" + string.Join(',', Columns),
        "center=" + Join(Center),
        "anchor=" + Join(Anchor),
        "slopes=" + Join(Slopes.Cast<double>()),
        "reach=" + Reach.ToString("R", CultureInfo.InvariantCulture));

    private static string Join(IEnumerable<double> values) => string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Reads <see cref="ToString"/>'s text for <paramref name="model"/>; <see cref="ArgumentException"/> when it does not fit the model.</summary>
    public static LinearPart Parse(Model model, string text)
    {
        var part = Parse(text);
        var continuous = ContinuousColumns(model);
        if (!part.Columns.SequenceEqual(continuous) || part.Anchor.Count != model.PolicyWidth)
            throw new ArgumentException($"the linear part does not fit {model.Title} ({model.PolicyWidth} policy elements over {continuous.Length} continuous states)");
        return part;
    }

    /// <summary>Reads <see cref="ToString"/>'s text without a model (its columns are then the first inputs of the policy's network, in order).</summary>
    public static LinearPart Parse(string text)
    {
        var fields = text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=', 2))
            .ToDictionary(f => f[0].Trim(), f => f.Length == 2 ? f[1] : throw new ArgumentException($"the linear part's field '{f[0]}' has no value"));
        double[] Numbers(string key) => fields.TryGetValue(key, out var v)
            ? v.Length == 0 ? [] : v.Split(',').Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x
                : throw new ArgumentException($"the linear part's {key} has '{s}', not a number")).ToArray()
            : throw new ArgumentException($"the linear part has no '{key}'");
        var columns = Numbers("columns").Select(v => (int)v).ToArray();
        var center = Numbers("center");
        var anchor = Numbers("anchor");
        var flat = Numbers("slopes");
        if (center.Length != columns.Length || flat.Length != anchor.Length * columns.Length || center.Concat(anchor).Concat(flat).Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"the linear part is not {anchor.Length} anchors with {columns.Length} finite slopes each");
        var slopes = new double[anchor.Length, columns.Length];
        Buffer.BlockCopy(flat, 0, slopes, 0, flat.Length * sizeof(double));
        return new LinearPart(columns, center, anchor, slopes);
    }

    /// <summary>The raw outputs at one state's continuous values <paramref name="continuous"/> (in <see cref="Columns"/>' order).</summary>
    public double[] RawAt(ReadOnlySpan<double> continuous)
    {
        var raw = new double[Anchor.Count];
        for (int i = 0; i < raw.Length; i++)
        {
            double value = Anchor[i];
            for (int j = 0; j < Columns.Count; j++) value += Slopes[i, j] * (continuous[j] - Center[j]);
            raw[i] = Math.Clamp(value, Anchor[i] - Reach, Anchor[i] + Reach);
        }
        return raw;
    }
}
