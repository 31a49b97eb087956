using Deqn.Equilibrium.Shocks;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>Policy values [n, policies] at states [n, states] — a network, a closed form, anything.</summary>
public interface IPolicyFunction
{
    /// <summary>Values after each policy's output transform, before clipping into its bounds.</summary>
    Tensor Values(Tensor states);
}

/// <summary>
/// The nodes and weights of next period's expectation as tensors of one dtype and device, made once and reused by
/// every evaluation: the normal shocks' quadrature rule times every next state of each Markov chain (chain-major, the
/// normal node fastest). With chains whose rows differ the weights depend on today's states, [economies, nodes].
/// </summary>
public sealed class QuadratureTensors : IDisposable
{
    private readonly Tensor? _constantWeights;
    private readonly Tensor? _normalWeights;
    private readonly Tensor[] _chainWeights;
    private readonly int[] _normalIndex;
    private readonly ScalarType _dtype;
    private readonly Device _device;

    /// <summary>A rule for normal shocks only.</summary>
    public QuadratureTensors(Quadrature rule, ScalarType dtype, Device? device = null) : this(rule, [], dtype, device) { }

    public QuadratureTensors(Quadrature rule, IReadOnlyList<State> chains, ScalarType dtype, Device? device = null)
    {
        Rule = rule;
        Chains = chains;
        _dtype = dtype;
        _device = device ?? CPU;
        int normal = rule.Count;
        var sizes = chains.Select(c => c.Chain!.Count).ToArray();
        long total = sizes.Aggregate((long)normal, (a, b) => a * b);
        if (total > 10_000_000) throw new ArgumentException($"the expectation has {total:N0} nodes ({normal} for the normal shocks × {string.Join(" × ", sizes)} chain states); use fewer quadrature nodes");
        Count = (int)total;
        _normalIndex = new int[Count];
        var next = new double[Count * chains.Count];
        var constant = new double[Count];
        var normalWeights = new double[Count];
        var chainWeights = chains.Select(c => new double[c.Chain!.Count * Count]).ToArray();
        for (int q = 0; q < Count; q++)
        {
            _normalIndex[q] = q % normal;
            normalWeights[q] = constant[q] = rule.Weights[q % normal];
            int rest = q / normal;
            for (int c = chains.Count - 1; c >= 0; c--)
            {
                int j = rest % sizes[c];
                rest /= sizes[c];
                next[q * chains.Count + c] = j;
                var markov = chains[c].Chain!;
                constant[q] *= markov[0, j];
                for (int i = 0; i < sizes[c]; i++) chainWeights[c][i * Count + q] = markov[i, j];
            }
        }
        if (rule.Dimension > 0) Nodes = Expand(rule.Nodes);
        if (chains.Count > 0) ChainNext = torch.tensor(next, [Count, chains.Count], dtype: dtype, device: _device);
        if (chains.All(c => c.Chain!.IsIid))
        {
            _constantWeights = torch.tensor(constant, dtype: dtype, device: _device);
            _chainWeights = [];
        }
        else
        {
            _normalWeights = torch.tensor(normalWeights, dtype: dtype, device: _device);
            _chainWeights = chainWeights.Select((w, c) => torch.tensor(w, [sizes[c], Count], dtype: dtype, device: _device)).ToArray();
        }
    }

    /// <summary>The normal shocks' rule.</summary>
    public Quadrature Rule { get; private set; }

    public IReadOnlyList<State> Chains { get; }

    /// <summary>All nodes: the rule's nodes times the chains' next states.</summary>
    public int Count { get; }

    /// <summary>How the expectation is taken, for logs and reports, e.g. "Gauss–Hermite 5 × Markov chain 4".</summary>
    public string Description => string.Join(" × ", (Rule.Dimension > 0 || Chains.Count == 0 ? [Rule.Rule] : Array.Empty<string>())
        .Concat(Chains.Select(c => $"Markov chain {c.Name} ({c.Chain!.Count} states)")));

    /// <summary>[nodes, normal shocks], or null without normal shocks.</summary>
    public Tensor? Nodes { get; private set; }

    /// <summary>[nodes, chains]: each node's next state of every chain, or null without chains.</summary>
    public Tensor? ChainNext { get; }

    /// <summary>The weights [nodes] when they do not depend on today's states (no chains, or iid chains); null otherwise.</summary>
    public Tensor? Weights => _constantWeights;

    /// <summary>
    /// Replaces the normal nodes by fresh antithetic draws ±L·z (<paramref name="pairs"/> pairs, equal weights), for
    /// Monte Carlo expectations that are redrawn every step instead of fixed once (whose error would bias training).
    /// </summary>
    public void Redraw(StandardNormalStream random, double[,] cholesky, int pairs)
    {
        if (Rule.Count != 2 * pairs || Rule.Dimension != cholesky.GetLength(0)) throw new InvalidOperationException($"a redraw keeps the rule's size ({Rule.Count} nodes, {Rule.Dimension} shocks)");
        Rule = Quadratures.Antithetic(pairs, cholesky, random);
        var old = Nodes;
        Nodes = Expand(Rule.Nodes);
        old?.Dispose();
    }

    /// <summary>E over the nodes of <paramref name="values"/> [..., economies·nodes], for the economies of <paramref name="now"/>: [..., economies].</summary>
    internal Tensor Integrate(Tensor values, Period now)
    {
        if (Count == 1) return values;
        long n = now.Count;
        var shape = values.shape[..^1].Concat(new[] { n, (long)Count }).ToArray();
        var grid = values.view(shape);
        if (_constantWeights is not null) return grid.matmul(_constantWeights);
        var weights = _normalWeights!;
        for (int c = 0; c < Chains.Count; c++)
            weights = weights * _chainWeights[c].index_select(0, now[Chains[c]].to_type(ScalarType.Int64));
        return grid.mul(weights).sum(-1);
    }

    private Tensor Expand(double[,] ruleNodes)
    {
        int d = ruleNodes.GetLength(1);
        var values = new double[Count * d];
        for (int q = 0; q < Count; q++)
            for (int j = 0; j < d; j++) values[q * d + j] = ruleNodes[_normalIndex[q], j];
        using var scope = torch.NewDisposeScope();
        return torch.tensor(values, [Count, d], dtype: _dtype, device: _device).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        Nodes?.Dispose();
        ChainNext?.Dispose();
        _constantWeights?.Dispose();
        _normalWeights?.Dispose();
        foreach (var w in _chainWeights) w.Dispose();
    }
}

/// <summary>
/// Builds next period for a batch at every quadrature node at once: the transition sees this period's values as
/// columns [N, 1] and the nodes as rows [1, Q], the N·Q next states go through the policy in one call, and an
/// expectation is the weighted sum over each row of the [N, Q] integrand.
/// </summary>
internal sealed class ExpectationOperator(Model model, IPolicyFunction policy, QuadratureTensors quadrature, bool frozenChains = false)
{
    private bool _inTransition;

    public Period NextPeriod(Period now)
    {
        if (_inTransition) throw new InvalidOperationException("a transition cannot take expectations");
        _inTransition = true;
        try { return Build(now); }
        finally { _inTransition = false; }
    }

    private Period Build(Period now)
    {
        long n = now.Count;
        var shocks = new ShockValues(model, quadrature.Nodes, quadrature.ChainNext, asRow: true, frozenChains);
        // With a single node there is nothing to broadcast against: the transition reads this period as it is.
        var states = quadrature.Nodes is null && quadrature.Chains.Count == 0
            ? model.NextStateMatrix(now, shocks, [n])
            : model.NextStateMatrix(now.Broadcast(), shocks, [n, quadrature.Count]);
        return new Period(model, states, policy.Values(states), null, now.Penalties, now.ChainAverages);
    }

    public Tensor Integrate(Tensor values, Period now) => quadrature.Integrate(values, now);
}

/// <summary>The equilibrium conditions of a batch: residuals by equation, penalties by variable, and the loss.</summary>
public sealed class Residuals
{
    private readonly double[] _weights;

    internal Residuals(Period now, IReadOnlyList<(string Name, Tensor Residual)> equations, IReadOnlyDictionary<string, Tensor> penalties, double[]? weights = null)
    {
        Now = now;
        Equations = equations;
        Penalties = penalties;
        _weights = weights ?? Enumerable.Repeat(1.0, equations.Count).ToArray();
    }

    /// <summary>The period the residuals were evaluated in (its states, policies and definitions).</summary>
    public Period Now { get; }

    /// <summary>The equations as the model returns them: [economies], or [elements, economies] for a vector equation.</summary>
    public IReadOnlyList<(string Name, Tensor Residual)> Equations { get; }

    /// <summary>Every scalar residual by element name ("euler", "euler[1]", …): a vector equation's elements one by one.</summary>
    public IEnumerable<(string Name, string Block, Tensor Residual)> Elements()
    {
        foreach (var (name, residual) in Equations)
        {
            if (residual.dim() == 1) yield return (name, name, residual);
            else
                for (int e = 0; e < residual.shape[0]; e++) yield return ($"{name}[{e + 1}]", name, residual[e]);
        }
    }

    /// <summary>
    /// The equations as least-squares rows: every element's residuals [economies] times √(its weight in
    /// <see cref="Loss"/> / economies), so that the sum of all their squares is the loss without penalties. Elements
    /// of weight 0 are left out.
    /// </summary>
    public IReadOnlyList<Tensor> LeastSquaresRows()
    {
        double total = 0;
        for (int i = 0; i < Equations.Count; i++) total += _weights[i] * (Equations[i].Residual.dim() == 1 ? 1 : Equations[i].Residual.shape[0]);
        var rows = new List<Tensor>();
        for (int i = 0; i < Equations.Count; i++)
        {
            if (_weights[i] == 0) continue;
            var r = Equations[i].Residual;
            using var factor = Math.Sqrt(_weights[i] / (total * r.shape[^1])).ToScalar();
            if (r.dim() == 1) rows.Add(r.mul(factor));
            else for (int e = 0; e < r.shape[0]; e++) rows.Add(r[e].mul(factor));
        }
        return rows;
    }

    /// <summary>Penalty·mean((clipped − raw)²) per bounded variable that was read (scalars).</summary>
    public IReadOnlyDictionary<string, Tensor> Penalties { get; }

    /// <summary>
    /// The weighted mean over every equation element of its mean squared residual (a vector equation of k elements
    /// counts k times), plus every penalty.
    /// </summary>
    public Tensor Loss()
    {
        bool plain = _weights.All(w => w == 1) && Equations.All(e => e.Residual.dim() == 1);
        Tensor loss;
        if (plain)
        {
            loss = Equations[0].Residual.square().mean();
            for (int i = 1; i < Equations.Count; i++) loss = loss.add(Equations[i].Residual.square().mean());
            if (Equations.Count > 1) loss = loss.div(Equations.Count);
        }
        else
        {
            double total = 0;
            loss = null!;
            for (int i = 0; i < Equations.Count; i++)
            {
                var r = Equations[i].Residual;
                double elements = r.dim() == 1 ? 1 : r.shape[0];
                double weight = _weights[i] * elements;
                total += weight;
                var term = r.square().mean().mul(weight);
                loss = i == 0 ? term : loss.add(term);
            }
            if (!(total > 0)) throw new InvalidOperationException("every equation has loss weight 0");
            loss = loss.div(total);
        }
        foreach (var p in Penalties.Values) loss = loss.add(p);
        return loss;
    }
}

public static class Evaluation
{
    /// <summary>
    /// The model's residuals at <paramref name="states"/> ([n, StateWidth]) under <paramref name="policy"/>, with
    /// expectations by <paramref name="quadrature"/>; <paramref name="weights"/> override the model's loss weights by
    /// equation name. The tensors live in the caller's dispose scope.
    /// </summary>
    public static Residuals Evaluate(Model model, Tensor states, IPolicyFunction policy, QuadratureTensors quadrature, IReadOnlyDictionary<string, double>? weights = null)
    {
        var ledger = new PenaltyLedger();
        var now = new Period(model, states, policy.Values(states), new ExpectationOperator(model, policy, quadrature), ledger);
        var equations = new List<(string, Tensor)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, residual) in model.EquationsAt(now))
        {
            if (!names.Add(name)) throw new InvalidOperationException($"{model.Title}: equation '{name}' is returned twice");
            bool scalar = residual.dim() == 1 && residual.shape[0] == now.Count;
            bool vector = residual.dim() == 2 && residual.shape[1] == now.Count;
            if (!scalar && !vector)
                throw new InvalidOperationException($"{model.Title}: equation '{name}' must give one residual per economy ({now.Count}) or [elements, {now.Count}], got shape [{string.Join(", ", residual.shape)}]");
            equations.Add((name, residual));
        }
        if (equations.Count == 0) throw new InvalidOperationException($"{model.Title}: the model returns no equations");
        return new Residuals(now, equations, ledger.ByName, Weights(model, equations, weights));
    }

    private static double[]? Weights(Model model, List<(string Name, Tensor)> equations, IReadOnlyDictionary<string, double>? overrides)
    {
        if (model.EquationWeights.Count == 0 && (overrides is null || overrides.Count == 0)) return null;
        foreach (var name in model.EquationWeights.Keys.Concat(overrides?.Keys ?? []))
            if (!equations.Any(e => e.Name == name))
                throw new InvalidOperationException($"{model.Title}: a loss weight names equation '{name}', which the model does not return (its equations: {string.Join(", ", equations.Select(e => e.Name))})");
        return equations.Select(e => overrides is not null && overrides.TryGetValue(e.Name, out var w) ? w
            : model.EquationWeights.TryGetValue(e.Name, out var m) ? m : 1.0).ToArray();
    }

    /// <summary>
    /// Next-period states [n, StateWidth] from states [n, StateWidth] and drawn shocks [n, normal shocks + chains]
    /// (innovations, then one uniform draw per Markov chain), as simulation steps the economy.
    /// </summary>
    public static Tensor Step(Model model, Tensor states, IPolicyFunction policy, Tensor? draws)
    {
        var now = new Period(model, states, policy.Values(states), null, new PenaltyLedger());
        int d = model.Shocks.Count, c = model.ChainStates.Count;
        var shocks = new ShockValues(model, d > 0 ? draws!.narrow(1, 0, d) : null, c > 0 ? draws!.narrow(1, d, c) : null, asRow: false);
        return model.NextStateMatrix(now, shocks, [states.shape[0]]);
    }

}

/// <summary>The model's closed-form policy as a policy function (states only; the model must have one).</summary>
public sealed class ClosedFormPolicy : IPolicyFunction
{
    private readonly Model _model;

    public ClosedFormPolicy(Model model)
    {
        if (!model.HasClosedForm) throw new ArgumentException($"{model.Title} has no closed form for this calibration");
        _model = model;
    }

    public Tensor Values(Tensor states)
    {
        var now = new Period(_model, states, null, null, new PenaltyLedger());
        var values = new Tensor?[_model.Policies.Count];
        long n = states.shape[0];
        foreach (var (policy, value) in _model.ClosedFormAt(now) ?? throw new InvalidOperationException($"{_model.Title}: no closed form"))
        {
            _model.CheckOwns(policy);
            values[policy.Position] = policy.IsVector ? value.expand(policy.Size, n).t() : value.expand(n).unsqueeze(1);
        }
        for (int i = 0; i < values.Length; i++)
            if (values[i] is null) throw new InvalidOperationException($"{_model.Title}: the closed form does not give policy {_model.Policies[i].Name}");
        return torch.cat(values!, 1);
    }
}
