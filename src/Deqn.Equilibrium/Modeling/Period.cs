using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// One period of a batch of economies as a model reads it: <c>t[K]</c> for a state, <c>t[s]</c> for a policy,
/// <c>t[C]</c> for a definition — each a tensor with one value per economy ([economies]), or [elements, economies] for
/// a vector, clipped into its declared bounds (the raw value is <see cref="Raw"/>). Elements come first so that a
/// scalar combines with a vector by broadcasting (<c>t[r] * t[k]</c>), and <c>t[k][0]</c> is the first element.
/// <see cref="Expect"/> integrates over next period's shocks.
/// </summary>
/// <remarks>
/// Values are computed once per period and cached, so a definition read by several equations costs one evaluation and
/// a bound's penalty is counted once. Tensors belong to the solver's dispose scope; model code never disposes them.
/// </remarks>
public sealed class Period
{
    private readonly Model _model;
    private readonly Tensor _states;
    private readonly Tensor? _policies;
    private readonly Period? _broadcastOf;
    private readonly ExpectationOperator? _expectations;
    private readonly PenaltyLedger _penalties;
    private readonly Dictionary<Variable, Tensor> _values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Variable, Tensor> _raw = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Definition> _computing = new(ReferenceEqualityComparer.Instance);
    private Period? _broadcast;
    private Period? _next;
    // Columns split once per variable: one autograd node whose backward is a single concatenation, where a select
    // per column would each allocate and fill a full-size zero gradient.
    private Tensor[]? _stateColumns;
    private Tensor[]? _policyColumns;
    private readonly Dictionary<IReadOnlyList<double>, Tensor> _elementConstants = new(ReferenceEqualityComparer.Instance);

    internal Period(Model model, Tensor states, Tensor? policies, ExpectationOperator? expectations, PenaltyLedger penalties,
        IReadOnlyDictionary<State, double[]>? chainAverages = null)
    {
        _model = model;
        _states = states;
        _policies = policies;
        _expectations = expectations;
        _penalties = penalties;
        ChainAverages = chainAverages;
    }

    // A view whose values are columns [N, 1], so that a transition combines them with quadrature nodes [1, Q].
    private Period(Period of) : this(of._model, of._states, of._policies, null, of._penalties, of.ChainAverages) => _broadcastOf = of;

    /// <summary>
    /// Markov chains whose <see cref="Model"/>.Values quantities are read as their average under these weights instead of
    /// at the chain's state (the deterministic steady state's default treatment of a chain); null: none.
    /// </summary>
    internal IReadOnlyDictionary<State, double[]>? ChainAverages { get; }

    /// <summary>Number of economies (rows) in the batch.</summary>
    public long Count => _states.shape[0];

    /// <summary>The states as a matrix [Count, StateWidth], in declaration order (raw, not clipped).</summary>
    public Tensor States => _states;

    public Tensor this[State state] => Read(state);
    public Tensor this[Policy policy] => Read(policy);
    public Tensor this[Definition definition] => Read(definition);

    /// <summary>The value before clipping into the variable's bounds (for implied policies, the bounded value itself).</summary>
    public Tensor Raw(Variable variable)
    {
        if (_broadcastOf is not null) return _broadcastOf.Raw(variable).unsqueeze(-1);
        Read(variable);
        return _raw.TryGetValue(variable, out var raw) ? raw : _values[variable];
    }

    /// <summary>
    /// E[f(next period)] over the shocks, one value per economy (or [elements, economies] for a vector integrand).
    /// Next period's states come from the model's transition at every quadrature node (and every next state of each
    /// Markov chain), and their policies from one forward pass for all nodes; every expectation in the period shares them.
    /// </summary>
    public Tensor Expect(Func<Period, Tensor> f)
    {
        if (_expectations is null)
            throw new InvalidOperationException(_broadcastOf is not null
                ? "a transition cannot take expectations"
                : "an expectation inside next period's values: nested expectations are not supported");
        _next ??= _expectations.NextPeriod(this);
        var values = f(_next);
        if (values.dim() is not (1 or 2) || values.shape[^1] != _next.Count)
            throw new InvalidOperationException($"an expectation's integrand must give one value per next-period economy ({_next.Count}), or [elements, {_next.Count}], got shape [{string.Join(", ", values.shape)}]");
        return _expectations.Integrate(values, this);
    }

    /// <summary>
    /// Constants per element of a vector (labour endowment by age…) shaped to combine with this period's vectors:
    /// [elements, 1] (made once per period and cached).
    /// </summary>
    public Tensor PerElement(IReadOnlyList<double> values)
    {
        if (_broadcastOf is not null) return _broadcastOf.PerElement(values).unsqueeze(-1);
        if (_elementConstants.TryGetValue(values, out var cached)) return cached;
        var t = torch.tensor(values.ToArray(), [values.Count, 1], dtype: _states.dtype, device: _states.device);
        _elementConstants[values] = t;
        return t;
    }

    /// <summary>
    /// table[j] where <paramref name="chain"/> is in state j, for every economy; the weighted average of the table when
    /// this period averages the chain (<see cref="ChainAverages"/>).
    /// </summary>
    internal Tensor ChainValue(State chain, double[] table)
    {
        var index = this[chain];
        if (ChainAverages is not null && ChainAverages.TryGetValue(chain, out var weights))
            return torch.full_like(index, table.Zip(weights, (v, w) => v * w).Sum());
        var values = torch.tensor(table, dtype: index.dtype, device: index.device);
        return values.index_select(0, index.flatten().to_type(ScalarType.Int64)).view_as(index);
    }

    internal Period Broadcast() => _broadcast ??= new Period(this);

    /// <summary>The model's features at <paramref name="states"/> as columns [rows, feature columns] (no policies are read).</summary>
    internal static Tensor FeatureMatrix(Model model, Tensor states)
    {
        var t = new Period(model, states, null, null, new PenaltyLedger());
        return torch.cat(model.Features.Select(f => f.IsVector ? t[f].t() : t[f].unsqueeze(1)).ToArray(), 1);
    }

    internal Model Model => _model;

    /// <summary>
    /// Which economies read a value clipped into its bounds in this period or, at any node, in next period's values this
    /// period's expectations used ([Count] booleans), and the names of the clipped variables (next period's with a ′).
    /// Only values that were read count.
    /// </summary>
    internal (Tensor Rows, IReadOnlyList<(string Name, Tensor Rows)> Variables) Clipped()
    {
        var rows = torch.zeros(Count, dtype: ScalarType.Bool, device: _states.device);
        var variables = new List<(string, Tensor)>();
        foreach (var (variable, raw) in _raw)
        {
            var clipped = _values[variable].ne(raw);
            if (clipped.dim() == 2) clipped = clipped.any(0);
            if (!clipped.any().item<bool>()) continue;
            rows = rows.logical_or(clipped);
            variables.Add((variable.Name, clipped));
        }
        if (_next is not null && _next.Count % Count == 0)
        {
            var (next, nextVariables) = _next.Clipped();
            rows = rows.logical_or(next.view(Count, -1).any(1));
            variables.AddRange(nextVariables.Select(v => (v.Name + "′", v.Rows.view(Count, -1).any(1))));
        }
        return (rows, variables);
    }

    internal PenaltyLedger Penalties => _penalties;

    private Tensor Read(Variable variable)
    {
        if (_broadcastOf is not null) return _broadcastOf.Read(variable).unsqueeze(-1);
        if (_values.TryGetValue(variable, out var cached)) return cached;
        _model.CheckOwns(variable);
        Tensor raw;
        Bounds? bounds = variable.Bounds;
        switch (variable)
        {
            case State { Constant: double constant }:
                raw = torch.full(Count, constant, dtype: _states.dtype, device: _states.device);
                break;
            case State s:
                raw = (_stateColumns ??= Split(_states, _model.States))[s.Position];
                break;
            case Policy p:
                if (_policies is null) throw new InvalidOperationException($"policy {p.Name} is not available here (a closed form and a feature read states only)");
                raw = (_policyColumns ??= Split(_policies, _model.Policies))[p.Position];
                bounds = p.EnforcedBounds;
                break;
            case Definition d:
                if (!_computing.Add(d)) throw new InvalidOperationException($"definition {d.Name} depends on itself");
                try { raw = d.Compute(this); }
                finally { _computing.Remove(d); }
                if (d.IsVector ? raw.dim() != 2 || raw.shape[0] != d.Size || raw.shape[1] != Count : raw.dim() != 1 || raw.shape[0] != Count)
                    throw new InvalidOperationException($"definition {d.Name} must give {(d.IsVector ? $"[{d.Size}, {Count}]" : $"one value per economy ({Count})")}, got shape [{string.Join(", ", raw.shape)}]");
                break;
            default:
                throw new ArgumentException($"unknown kind of variable {variable.Name}");
        }
        var value = raw;
        if (bounds is not null)
        {
            value = bounds.Clip(raw);
            _raw[variable] = raw;
            if (bounds.Penalty > 0) _penalties.Add(variable.Name, value.sub(raw).square().mean().mul(bounds.Penalty));
        }
        _values[variable] = value;
        return value;
    }

    /// <summary>A matrix's columns by variable: [rows] for a scalar, [elements, rows] for a vector, in one autograd node.</summary>
    private static Tensor[] Split<T>(Tensor matrix, IReadOnlyList<T> variables) where T : Variable
    {
        if (variables.All(v => !v.IsVector)) return matrix.unbind(1);
        var parts = matrix.split(variables.Select(v => (long)v.Size).ToArray(), 1);
        return parts.Select((part, i) => variables[i].IsVector ? part.t() : part.squeeze(1)).ToArray();
    }
}

/// <summary>Bound-violation penalties of one evaluation, by variable name (current and next period add up).</summary>
internal sealed class PenaltyLedger
{
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);

    public void Add(string name, Tensor penalty) => _byName[name] = _byName.TryGetValue(name, out var p) ? p.add(penalty) : penalty;

    public IReadOnlyDictionary<string, Tensor> ByName => _byName;
}

/// <summary>
/// The shock values a transition reads: drawn innovations when simulating, quadrature nodes in expectations. Markov
/// chains are moved by the model itself (<see cref="NextChainState"/>), from a uniform draw or the node's next state.
/// </summary>
public sealed class ShockValues
{
    private readonly Tensor? _normals;
    private readonly Tensor? _chains;
    private readonly bool _asRow;

    private readonly bool _frozenChains;

    // Simulating: normals [N, shocks] and one uniform draw per chain [N, chains]. Expectations: the nodes [Q, shocks]
    // and each node's next chain states [Q, chains], read as rows [1, Q]. Frozen chains stay where they are (the
    // deterministic steady state and its linearization).
    internal ShockValues(Model model, Tensor? normals, Tensor? chains, bool asRow, bool frozenChains = false)
    {
        Model = model;
        _normals = normals;
        _chains = chains;
        _asRow = asRow;
        _frozenChains = frozenChains;
    }

    internal Model Model { get; }

    private static double BelowOne(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => Math.BitDecrement(1.0),
        ScalarType.Float32 => MathF.BitDecrement(1f),
        _ => 1 - 1.0 / 1024,   // half precision: 1 − 2⁻¹⁰ is representable in both float16 and bfloat16's neighbourhood of 1
    };

    public Tensor this[Shock shock]
    {
        get
        {
            Model.CheckOwns(shock);
            var column = _normals!.select(1, shock.Index);
            return _asRow ? column.unsqueeze(0) : column;
        }
    }

    /// <summary>Chain <paramref name="c"/>'s next state: the node's in an expectation, drawn from today's row when simulating.</summary>
    internal Tensor NextChainState(int c, State chain, Period now)
    {
        if (_frozenChains) return now[chain];
        if (_asRow) return _chains!.select(1, c).unsqueeze(0);
        var markov = chain.Chain!;
        int n = markov.Count;
        var today = now[chain];
        var cumulative = torch.tensor(markov.CumulativeRows, [n, n], dtype: today.dtype, device: today.device)
            .index_select(0, today.to_type(ScalarType.Int64));
        // The first state whose cumulative probability exceeds the draw: the number of states at or below it. A draw that
        // rounded up to 1 in a narrow dtype would pass every entry and land in the last state, possible or not: keep it below 1.
        var drawn = _chains!.select(1, c).unsqueeze(1).clamp_max(BelowOne(today.dtype));
        return cumulative.le(drawn).sum(1).clamp_max(n - 1).to_type(today.dtype);
    }
}
