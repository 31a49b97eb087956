using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// A dynamic stochastic model in the economist's words. A subclass declares, in its constructor, its states (with
/// initial distributions and optional bounds), policies (the network's outputs), definitions (derived quantities) and
/// shocks, then writes the transition to next period's states and the equilibrium equations, returned by name.
/// Optionally a closed-form policy (for checking) and a reference solution.
/// </summary>
/// <remarks>
/// Model code computes with the tensors a <see cref="Period"/> hands it and never disposes them; the solver owns their
/// lifetimes. A model instance holds its calibration and declarations only, so one instance serves any number of runs.
/// </remarks>
public abstract class Model
{
    private readonly List<State> _states = [];
    private readonly List<Policy> _policies = [];
    private readonly List<Definition> _definitions = [];
    private readonly List<Shock> _shocks = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<object> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly List<(State State, double Rho, Shock? Innovation)> _processes = [];

    public IReadOnlyList<State> States => _states;
    public IReadOnlyList<Policy> Policies => _policies;
    public IReadOnlyList<Definition> Definitions => _definitions;
    public IReadOnlyList<Shock> Shocks => _shocks;

    /// <summary>One line for listings and reports, e.g. "Brock–Mirman 1972, δ = 1"; the class name unless a model says more.</summary>
    public virtual string Title => GetType().Name;

    /// <summary>
    /// The model in math notation for <c>deqn models &lt;name&gt;</c> and reports: one line per definition, transition and
    /// equation (e.g. "euler: 1 = β·E[(1 − δ + r′)·C/C′]"); empty when the model says nothing.
    /// </summary>
    public virtual IReadOnlyList<string> Formulas => [];

    /// <summary>What a solution is checked against, in words (e.g. "closed form s = αβ", "time iteration"); null: nothing.</summary>
    public virtual string? ReferenceSummary => null;

    /// <summary>The calibration as name → value, for reports and the run's merged config (<see cref="Model{TCalibration}"/> fills it in).</summary>
    public virtual IReadOnlyList<(string Name, double Value)> Parameters => [];

    protected State State(string name, InitialDistribution initial, Bounds? bounds = null, string description = "") =>
        Register(new State(name, description, initial, bounds), _states);

    protected Policy Policy(string name, PolicyOutput output = PolicyOutput.Linear, Bounds? bounds = null, string description = "") =>
        Register(new Policy(name, description, output, bounds), _policies);

    protected Definition Define(string name, Func<Period, Tensor> compute, Bounds? bounds = null, string description = "") =>
        Register(new Definition(name, description, compute, bounds), _definitions);

    protected Shock Shock(string name, double sigma, string description = "")
    {
        var shock = new Shock(name, description, sigma);
        if (!_names.Add(name)) throw new ArgumentException($"the model declares '{name}' twice");
        shock.Index = _shocks.Count;
        _shocks.Add(shock);
        _owned.Add(shock);
        return shock;
    }

    /// <summary>
    /// An exogenous state that follows ln x' = ρ·ln x + ε, ε ~ N(0, σ²): declares the state and its innovation (named
    /// eps_&lt;name&gt;) and writes its transition, so <see cref="Transition"/> does not give it. With σ = 0 and a start fixed
    /// at 1 the process never leaves 1: then it is a constant, not a state — no network input, no shock, nothing to
    /// integrate (a deterministic model's expectation is one node).
    /// </summary>
    protected State LogAR1(string name, InitialDistribution initial, double rho, double sigma, string description = "")
    {
        if (!(Math.Abs(rho) < 1)) throw new ArgumentException($"{name}: ρ must satisfy |ρ| < 1 (got {rho})");
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentException($"{name}: σ must be finite and ≥ 0 (got {sigma})");
        if (sigma == 0 && initial.Low == 1 && initial.High == 1)
        {
            if (!_names.Add(name)) throw new ArgumentException($"the model declares '{name}' twice");
            var constant = new State(name, description, initial, null) { Constant = 1.0 };
            _owned.Add(constant);
            return constant;
        }
        var state = State(name, initial, description: description);
        var innovation = sigma > 0 ? Shock($"eps_{name}", sigma, $"innovation to ln {name}") : null;
        _processes.Add((state, rho, innovation));
        return state;
    }

    private T Register<T>(T variable, List<T> list) where T : Variable
    {
        if (!_names.Add(variable.Name)) throw new ArgumentException($"the model declares '{variable.Name}' twice");
        variable.Index = list.Count;
        list.Add(variable);
        _owned.Add(variable);
        return variable;
    }

    internal void CheckOwns(object handle)
    {
        if (!_owned.Contains(handle)) throw new InvalidOperationException($"'{handle}' belongs to another model");
    }

    /// <summary>Next period's value of every state, given this period and the shocks' values.</summary>
    protected abstract IEnumerable<(State State, Tensor Next)> Transition(Period now, ShockValues shocks);

    /// <summary>The equilibrium conditions as residuals (zero at the solution), by name; unit-free where possible.</summary>
    protected abstract IEnumerable<(string Name, Tensor Residual)> Equations(Period now);

    internal IEnumerable<(string Name, Tensor Residual)> EquationsAt(Period now) => Equations(now);

    internal IEnumerable<(Policy Policy, Tensor Value)>? ClosedFormAt(Period now) => ClosedForm(now);

    /// <summary>The exact policies, when the model has a closed form (reads states only); null otherwise.</summary>
    protected virtual IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period now) => null;

    /// <summary>Whether <see cref="ClosedForm"/> gives the solution for this calibration.</summary>
    public virtual bool HasClosedForm => false;

    /// <summary>A numerical reference solution to compare with (e.g. time iteration), or null; may take seconds.</summary>
    public virtual IPolicyReference? Reference() => null;

    /// <summary>Checks the declarations once, before a solver uses the model.</summary>
    public void Validate()
    {
        if (_states.Count == 0) throw new ArgumentException($"{Title}: a model needs at least one state");
        if (_policies.Count == 0) throw new ArgumentException($"{Title}: a model needs at least one policy");
    }

    /// <summary>Next period's states as a matrix [rows, states]: the transition's values broadcast to <paramref name="shape"/>, one row per economy (and node).</summary>
    internal Tensor NextStateMatrix(Period now, ShockValues shocks, long[] shape)
    {
        var next = new Tensor?[_states.Count];
        foreach (var (state, value) in Transition(now, shocks))
        {
            CheckOwns(state);
            if (next[state.Index] is not null) throw new InvalidOperationException($"the transition gives state {state.Name} twice");
            if (state.Constant is not null || _processes.Any(p => p.State == state))
                throw new InvalidOperationException($"state {state.Name} follows its declared process; the transition does not give it");
            next[state.Index] = Broadcast(value, shape);
        }
        foreach (var (state, rho, innovation) in _processes)
        {
            var logNext = now[state].log().mul(rho);
            next[state.Index] = Broadcast((innovation is null ? logNext : logNext + shocks[innovation]).exp(), shape);
        }
        for (int i = 0; i < next.Length; i++)
            if (next[i] is null) throw new InvalidOperationException($"the transition does not give state {_states[i].Name}");
        // Stacking the broadcast views along a new last axis copies once, straight into row-major [rows, states]; one
        // state needs no stacking (a view when nothing was broadcast).
        if (next.Length == 1) return next[0]!.reshape(-1, 1);
        return torch.stack(next!, shape.Length).view(-1, _states.Count);
    }

    // A value that depends on every economy (and node) already has the shape: no view needed.
    private static Tensor Broadcast(Tensor value, long[] shape) => value.shape.SequenceEqual(shape) ? value : value.expand(shape);
}

/// <summary>
/// A model with its calibration: the record is validated once, kept as <see cref="Calibration"/>, and reported by name
/// through its parameter table, so a model file declares its variables and writes its equations and nothing else.
/// </summary>
public abstract class Model<TCalibration> : Model where TCalibration : Calibration
{
    private ParameterTable<TCalibration> _reported = ParameterTable<TCalibration>.All;

    protected Model(TCalibration calibration)
    {
        calibration.Validate();
        Calibration = calibration;
    }

    public TCalibration Calibration { get; }

    public override IReadOnlyList<(string Name, double Value)> Parameters =>
        _reported.Describe(Calibration).Select(p => (p.Name, p.Value)).ToArray();

    /// <summary>A catalog entry that lets users set only some parameters (it fixes the rest) has its models report only those.</summary>
    internal void ReportOnly(ParameterTable<TCalibration> table) => _reported = table;
}

/// <summary>A policy known at any state, to compare a solution with: a closed form or a numerical reference.</summary>
public interface IPolicyReference
{
    /// <summary>What it is, e.g. "closed form" or "time iteration on a 60 × 15 grid".</summary>
    string Name { get; }

    /// <summary>Policies [n, policies] at states [n, states].</summary>
    double[,] PolicyAt(double[,] states);
}
