using Deqn.Equilibrium.Modeling;
using Deqn.Equilibrium.Shocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Perturbation;

/// <summary>
/// How the deterministic economy treats each Markov chain: held in a chosen state (it never moves), or — the default —
/// with every quantity the model reads through <c>Values</c> averaged under the chain's stationary distribution.
/// </summary>
public sealed record ChainTreatment
{
    /// <summary>Chains held in a state, by chain name → state index 0 … n−1; the others are averaged.</summary>
    public IReadOnlyDictionary<string, int> Held { get; init; } = new Dictionary<string, int>();

    /// <summary>Each chain's treatment in words, e.g. "shock: values averaged under its stationary distribution".</summary>
    public IReadOnlyList<string> Describe(Model model) => model.ChainStates.Select(c => Held.TryGetValue(c.Name, out var j)
        ? $"{c.Name}: held in state {c.Chain!.Labels[j]}"
        : $"{c.Name}: values averaged under its stationary distribution").ToArray();
}

/// <summary>
/// The model's economy without risk, as the steady state and the first-order perturbation read it: next period's normal
/// shocks at zero (one node), Markov chains frozen, next period's policies a separate argument. Every function here maps a
/// batch of rows to a batch of rows, row by row, so that one backward pass over copies of a point gives a whole Jacobian.
/// </summary>
internal sealed class DeterministicSystem
{
    private readonly Model _model;
    private readonly double[] _chainColumn;
    private readonly Dictionary<State, double[]> _averages = new(ReferenceEqualityComparer.Instance);

    public DeterministicSystem(Model model, ChainTreatment? chains = null)
    {
        model.Validate();
        _model = model;
        chains ??= new ChainTreatment();
        foreach (var name in chains.Held.Keys)
            if (!model.ChainStates.Any(c => c.Name == name))
                throw new ArgumentException($"{model.Title} has no Markov chain '{name}' (its chains: {(model.ChainStates.Count == 0 ? "none" : string.Join(", ", model.ChainStates.Select(c => c.Name)))})");
        var columns = model.StateColumns;
        Continuous = Enumerable.Range(0, columns.Count).Where(j => columns[j].State.Chain is null).ToArray();
        _chainColumn = new double[columns.Count];
        foreach (var chain in model.ChainStates)
        {
            if (chains.Held.TryGetValue(chain.Name, out var j))
            {
                if (j < 0 || j >= chain.Chain!.Count) throw new ArgumentException($"chain {chain.Name} has states 0 … {chain.Chain!.Count - 1} (got {j})");
                _chainColumn[chain.Index] = j;
            }
            else _averages[chain] = chain.Chain!.Stationary.ToArray();
        }
        Chains = chains;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = tensor(Continuous.Select(j => columns[j].Initial.Typical).ToArray(), [1, Continuous.Length], dtype: ScalarType.Float64);
        var p = ones(1, model.PolicyWidth, dtype: ScalarType.Float64).mul(0.5);
        var (_, residuals, names) = Evaluate(x, p, p);
        EquationNames = names;
        _ = residuals;
    }

    public Model Model => _model;

    public ChainTreatment Chains { get; }

    /// <summary>The state matrix's continuous columns (all but the Markov chains'): the deterministic economy's states.</summary>
    public int[] Continuous { get; }

    /// <summary>Every equation element by name ("euler", "euler[1]", …), in the order of <see cref="Evaluate"/>'s residual columns.</summary>
    public IReadOnlyList<string> EquationNames { get; private set; } = [];

    /// <summary>The full state matrix [B, StateWidth] from the continuous states [B, continuous]: chains held or at 0 (averaged).</summary>
    public Tensor StateMatrix(Tensor continuous)
    {
        long b = continuous.shape[0];
        var columns = new Tensor[_chainColumn.Length];
        int k = 0;
        for (int j = 0; j < columns.Length; j++)
            columns[j] = k < Continuous.Length && Continuous[k] == j ? continuous.select(1, k++) : full(b, _chainColumn[j], dtype: continuous.dtype);
        return columns.Length == 1 ? columns[0].unsqueeze(1) : stack(columns, 1);
    }

    /// <summary>
    /// Next period's continuous states [B, continuous] and every equation element's residual [B, equations] at states
    /// [B, continuous], policy values [B, policies] and next period's policy values [B, policies].
    /// </summary>
    public (Tensor Next, Tensor Residuals, IReadOnlyList<string> Names) Evaluate(Tensor continuous, Tensor policies, Tensor nextPolicies)
    {
        var now = Period(continuous, policies, nextPolicies);
        var names = new List<string>();
        var blocks = new List<Tensor>();
        foreach (var (name, residual) in _model.EquationsAt(now))
        {
            if (residual.dim() == 1) { names.Add(name); blocks.Add(residual.unsqueeze(1)); }
            else
            {
                for (int e = 0; e < residual.shape[0]; e++) names.Add($"{name}[{e + 1}]");
                blocks.Add(residual.t());
            }
        }
        if (blocks.Count == 0) throw new InvalidOperationException($"{_model.Title}: the model returns no equations");
        var next = Next(now);
        return (next, blocks.Count == 1 ? blocks[0] : cat(blocks, 1), names);
    }

    /// <summary>Next period's continuous states [B, continuous] at states and policies, normal shocks at zero (or at <paramref name="shocks"/> [B, shocks]), chains frozen.</summary>
    public Tensor Next(Tensor continuous, Tensor policies, Tensor? shocks = null) => Next(Period(continuous, policies, policies), shocks);

    /// <summary>Every definition's value by element at states and policies [1, …] (no gradients).</summary>
    public IReadOnlyList<(string Name, double Value)> Definitions(Tensor continuous, Tensor policies)
    {
        var now = Period(continuous, policies, policies);
        var result = new List<(string, double)>();
        foreach (var d in _model.Definitions)
        {
            var value = now[d].to_type(ScalarType.Float64).flatten().data<double>().ToArray();
            for (int e = 0; e < d.Size; e++) result.Add((d.ElementNames[e], value[e]));
        }
        return result;
    }

    private Period Period(Tensor continuous, Tensor policies, Tensor nextPolicies)
    {
        int d = _model.Shocks.Count;
        var quadrature = new QuadratureTensors(new Quadrature(new double[1, d], [1.0], "shocks at zero"), [], continuous.dtype, continuous.device);
        var next = new ExpectationOperator(_model, new GivenPolicy(nextPolicies), quadrature, frozenChains: true);
        return new Period(_model, StateMatrix(continuous), policies, next, new PenaltyLedger(), _averages.Count > 0 ? _averages : null);
    }

    private Tensor Next(Period now, Tensor? drawn = null)
    {
        long b = now.Count;
        int d = _model.Shocks.Count;
        var shocks = new ShockValues(_model, d > 0 ? drawn ?? zeros(b, d, dtype: now.States.dtype) : null, null, asRow: false, frozenChains: true);
        var next = _model.NextStateMatrix(now, shocks, [b]);
        return Continuous.Length == next.shape[1] ? next : next.index_select(1, tensor(Continuous.Select(j => (long)j).ToArray()));
    }

    /// <summary>Next period's policies as given values (one per row), whatever the next states are.</summary>
    private sealed class GivenPolicy(Tensor values) : IPolicyFunction
    {
        public Tensor Values(Tensor states) => states.shape[0] == values.shape[0] ? values
            : throw new InvalidOperationException($"next period has {states.shape[0]} rows for {values.shape[0]} given policies");
    }

    /// <summary>
    /// f's value at the point <paramref name="u"/> and its Jacobian, for an f that maps rows [B, n] to rows [B, k] one by
    /// one: f is evaluated once on k copies of the point, and the backward pass of the sum of the diagonal gives every row.
    /// </summary>
    public static (double[] Value, double[,] Jacobian) Jacobian(Func<Tensor, Tensor> f, double[] u)
    {
        using var scope = NewDisposeScope();
        double[] value;
        using (no_grad()) value = f(tensor(u, [1, u.Length], dtype: ScalarType.Float64)).flatten().data<double>().ToArray();
        int k = value.Length;
        var copies = tensor(u, [1, u.Length], dtype: ScalarType.Float64).repeat(k, 1).requires_grad_(true);
        IList<Tensor> grads;
        using (enable_grad())
        {
            var f2 = f(copies);
            grads = autograd.grad([f2.diagonal().sum()], [copies], allow_unused: true);
        }
        var jacobian = new double[k, u.Length];
        if (grads[0] is { IsInvalid: false } g)
        {
            var flat = g.contiguous().data<double>().ToArray();
            Buffer.BlockCopy(flat, 0, jacobian, 0, flat.Length * sizeof(double));
        }
        return (value, jacobian);
    }
}
