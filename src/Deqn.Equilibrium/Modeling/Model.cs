using Deqn.Equilibrium.Shocks;
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
    private readonly List<State> _chains = [];
    private readonly List<Definition> _features = [];
    private readonly List<(int First, double[,] Covariance)> _correlated = [];
    private readonly Dictionary<string, double> _weights = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<object> _owned = new(ReferenceEqualityComparer.Instance);
    private readonly List<(State State, double Rho, Shock? Innovation)> _processes = [];
    private readonly List<(State State, double[,] Persistence, Shock[] Innovations)> _vectorProcesses = [];
    // Each vector process's persistence matrix as a tensor, made once per dtype and device: the transition runs several
    // times a training step.
    private readonly Dictionary<(State, ScalarType, DeviceType, int), Tensor> _persistence = [];
    private double[,]? _cholesky;

    /// <summary>The states in declaration order (Markov-chain states among them); a vector state is one entry of <see cref="Variable.Size"/> columns.</summary>
    public IReadOnlyList<State> States => _states;
    public IReadOnlyList<Policy> Policies => _policies;
    public IReadOnlyList<Definition> Definitions => _definitions;

    /// <summary>The normal innovations (Markov chains are <see cref="ChainStates"/>).</summary>
    public IReadOnlyList<Shock> Shocks => _shocks;

    /// <summary>Derived inputs the network sees beside the states (income by age, aggregate capital…), in declaration order.</summary>
    public IReadOnlyList<Definition> Features => _features;

    /// <summary>The feature columns by element.</summary>
    public IReadOnlyList<string> FeatureColumns => _features.SelectMany(f => f.ElementNames).ToArray();

    /// <summary>The states that follow a Markov chain, in declaration order.</summary>
    public IReadOnlyList<State> ChainStates => _chains;

    /// <summary>Columns of the state matrix [economies, StateWidth]: every element of every state.</summary>
    public int StateWidth { get; private set; }

    /// <summary>Columns of the policy matrix [economies, PolicyWidth]: every element of every policy (the network's outputs).</summary>
    public int PolicyWidth { get; private set; }

    /// <summary>The state matrix's columns, by element ("K", "k[1]", "k[2]", …), with their state and initial distribution.</summary>
    public IReadOnlyList<(string Name, State State, InitialDistribution Initial)> StateColumns =>
        _states.SelectMany(s => s.ElementNames.Select((name, e) => (name, s, s.Initials[e]))).ToArray();

    /// <summary>The policy matrix's columns by element.</summary>
    public IReadOnlyList<(string Name, Policy Policy)> PolicyColumns =>
        _policies.SelectMany(p => p.ElementNames.Select(name => (name, p))).ToArray();

    /// <summary>Whether the model has anything random: normal shocks or a Markov chain with more than one state.</summary>
    public bool IsStochastic => _shocks.Count > 0 || _chains.Any(c => c.Chain!.Count > 1);

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
        Register(new State(name, description, [initial], bounds), _states);

    /// <summary>A vector state of <paramref name="size"/> elements (per generation, per country…), each starting from <paramref name="initial"/>.</summary>
    protected State State(string name, int size, InitialDistribution initial, Bounds? bounds = null, string description = "") =>
        State(name, Enumerable.Repeat(initial, RequireSize(name, size)).ToArray(), bounds, description);

    /// <summary>A vector state with one initial distribution per element.</summary>
    protected State State(string name, IReadOnlyList<InitialDistribution> initial, Bounds? bounds = null, string description = "") =>
        Register(new State(name, description, initial, bounds, isVector: true), _states);

    protected Policy Policy(string name, PolicyOutput output = PolicyOutput.Linear, Bounds? bounds = null, string description = "") =>
        Register(new Policy(name, description, output, bounds), _policies);

    /// <summary>A vector policy: <paramref name="size"/> network outputs, read as one [size, economies] tensor.</summary>
    protected Policy Policy(string name, int size, PolicyOutput output = PolicyOutput.Linear, Bounds? bounds = null, string description = "") =>
        Register(new Policy(name, description, output, bounds, RequireSize(name, size), isVector: true), _policies);

    protected Definition Define(string name, Func<Period, Tensor> compute, Bounds? bounds = null, string description = "") =>
        Register(new Definition(name, description, compute, bounds), _definitions);

    /// <summary>A vector definition: <paramref name="compute"/> gives [size, economies].</summary>
    protected Definition Define(string name, int size, Func<Period, Tensor> compute, Bounds? bounds = null, string description = "") =>
        Register(new Definition(name, description, compute, bounds, RequireSize(name, size), isVector: true), _definitions);

    /// <summary>
    /// A derived input: a quantity computed from the states alone (no policies) that the network sees beside them —
    /// aggregate capital, income by age — because a good input can save the network from learning it. It is also a
    /// definition the model can read. Its input is scaled by the running mean and spread of the simulated states.
    /// </summary>
    protected Definition Feature(string name, Func<Period, Tensor> compute, string description = "")
    {
        var feature = Define(name, compute, description: description);
        _features.Add(feature);
        return feature;
    }

    /// <summary>A vector derived input, [size, economies].</summary>
    protected Definition Feature(string name, int size, Func<Period, Tensor> compute, string description = "")
    {
        var feature = Define(name, size, compute, description: description);
        _features.Add(feature);
        return feature;
    }

    protected Shock Shock(string name, double sigma, string description = "")
    {
        var shock = new Shock(name, description, sigma);
        if (!_names.Add(name)) throw new ArgumentException($"the model declares '{name}' twice");
        shock.Index = _shocks.Count;
        _shocks.Add(shock);
        _owned.Add(shock);
        _cholesky = null;
        return shock;
    }

    /// <summary>
    /// Normal innovations ε ~ N(0, Σ) drawn jointly with covariance <paramref name="covariance"/> (symmetric positive
    /// definite): simulation draws L·z with Σ = L·Lᵀ, and every quadrature rule integrates over the same L.
    /// </summary>
    protected Shock[] CorrelatedShocks(IReadOnlyList<string> names, double[,] covariance, string description = "")
    {
        int d = names.Count;
        if (d == 0 || covariance.GetLength(0) != d || covariance.GetLength(1) != d)
            throw new ArgumentException($"{d} correlated shocks need a {d} × {d} covariance matrix (got {covariance.GetLength(0)} × {covariance.GetLength(1)})");
        _ = Cholesky.Lower(covariance);
        int first = _shocks.Count;
        var shocks = names.Select((n, j) => Shock(n, Math.Sqrt(covariance[j, j]), description)).ToArray();
        _correlated.Add((first, (double[,])covariance.Clone()));
        return shocks;
    }

    /// <summary>
    /// An exogenous state that follows a discrete Markov chain: it holds the chain's state 0 … n−1 (the network sees it
    /// one-hot), simulation draws the next state from the current row of the transition matrix, and an expectation is
    /// the exact probability-weighted sum over the next states. Read quantities that depend on it with <see cref="Values"/>.
    /// It starts from <paramref name="initial"/> (the stationary distribution by default).
    /// </summary>
    protected State Markov(string name, MarkovChain chain, InitialDistribution? initial = null, string description = "")
    {
        initial ??= InitialDistribution.Discrete(chain.Stationary);
        if (initial.Kind is not (InitialKind.Discrete or InitialKind.Fixed) || initial.High > chain.Count - 1 || initial.Low < 0
            || (initial.Kind == InitialKind.Fixed && initial.Low != Math.Floor(initial.Low)))
            throw new ArgumentException($"{name}: a Markov chain starts from a discrete distribution over its {chain.Count} states or a fixed state 0 … {chain.Count - 1}");
        var state = Register(new State(name, description, [initial], null) { Chain = chain }, _states);
        _chains.Add(state);
        return state;
    }

    /// <summary>A quantity that takes <paramref name="values"/>[j] when the chain <paramref name="chain"/> is in state j (e.g. productivity by regime).</summary>
    protected Definition Values(State chain, string name, IReadOnlyList<double> values, string description = "")
    {
        CheckOwns(chain);
        if (chain.Chain is not { } c) throw new ArgumentException($"{name}: {chain.Name} is not a Markov-chain state");
        if (values.Count != c.Count) throw new ArgumentException($"{name}: {values.Count} values for the {c.Count} states of {chain.Name}");
        var table = values.ToArray();
        return Define(name, t => t.ChainValue(chain, table), description: description);
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
            var constant = new State(name, description, [initial], null) { Constant = 1.0 };
            _owned.Add(constant);
            return constant;
        }
        var state = State(name, initial, description: description);
        var innovation = sigma > 0 ? Shock($"eps_{name}", sigma, $"innovation to ln {name}") : null;
        _processes.Add((state, rho, innovation));
        return state;
    }

    /// <summary>
    /// An exogenous vector state that follows the VAR(1) x′ = A·x + u, u ~ N(0, Σ): declares the state (n elements, each
    /// starting from <paramref name="initial"/>), its n jointly normal innovations eps_&lt;name&gt;[1] … [n] with covariance
    /// Σ (so simulation and every quadrature rule see the joint distribution), and writes its transition, so
    /// <see cref="Transition"/> does not give it. A is <paramref name="persistence"/> [n, n], Σ <paramref name="covariance"/>
    /// (symmetric positive definite).
    /// </summary>
    protected State VAR1(string name, InitialDistribution initial, double[,] persistence, double[,] covariance, string description = "")
    {
        int n = persistence.GetLength(0);
        if (n < 1 || persistence.GetLength(1) != n)
            throw new ArgumentException($"{name}: the persistence matrix must be square (got {persistence.GetLength(0)} × {persistence.GetLength(1)})");
        if (covariance.GetLength(0) != n || covariance.GetLength(1) != n)
            throw new ArgumentException($"{name}: a VAR(1) of {n} elements needs a {n} × {n} covariance (got {covariance.GetLength(0)} × {covariance.GetLength(1)})");
        if (persistence.Cast<double>().Concat(covariance.Cast<double>()).Any(v => !double.IsFinite(v)))
            throw new ArgumentException($"{name}: the persistence and covariance matrices must be finite");
        var state = State(name, n, initial, description: description);
        var innovations = CorrelatedShocks(Enumerable.Range(1, n).Select(j => $"eps_{name}[{j}]").ToArray(), covariance, $"innovation to {name}");
        _vectorProcesses.Add((state, (double[,])persistence.Clone(), innovations));
        return state;
    }

    /// <summary>
    /// n AR(1) processes with independent and common innovations, x′_j = ρ·x_j + σ·ε_j + σ_common·ε_0 with ε ~ N(0, 1)
    /// (the IRBC's log TFP: σ_common = σ): the VAR(1) with A = ρ·I and Σ = σ²·I + σ_common²·11ᵀ, so expectations integrate
    /// n correlated innovations rather than n + 1 independent ones.
    /// </summary>
    protected State AR1(string name, int size, InitialDistribution initial, double rho, double sigma, double commonSigma = 0, string description = "")
    {
        RequireSize(name, size);
        if (!(Math.Abs(rho) < 1)) throw new ArgumentException($"{name}: ρ must satisfy |ρ| < 1 (got {rho})");
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentException($"{name}: σ must be finite and > 0 (got {sigma})");
        if (!(commonSigma >= 0) || !double.IsFinite(commonSigma)) throw new ArgumentException($"{name}: the common innovation's σ must be finite and ≥ 0 (got {commonSigma})");
        var persistence = new double[size, size];
        var covariance = new double[size, size];
        for (int i = 0; i < size; i++)
            for (int j = 0; j < size; j++)
            {
                persistence[i, j] = i == j ? rho : 0;
                covariance[i, j] = commonSigma * commonSigma + (i == j ? sigma * sigma : 0);
            }
        return VAR1(name, initial, persistence, covariance, description);
    }

    /// <summary>
    /// The weight of an equation (or of every element of a vector equation) in the loss: the loss is the weighted mean
    /// of the elements' mean squared residuals. Default 1; a solver config may override it.
    /// </summary>
    protected void Weigh(string equation, double weight)
    {
        if (!(weight >= 0) || !double.IsFinite(weight)) throw new ArgumentException($"equation '{equation}': a loss weight is finite and ≥ 0 (got {weight})");
        _weights[equation] = weight;
    }

    /// <summary>The loss weights the model declares, by equation name.</summary>
    public IReadOnlyDictionary<string, double> EquationWeights => _weights;

    private static int RequireSize(string name, int size) =>
        size >= 1 ? size : throw new ArgumentException($"{name}: a vector needs at least one element (got {size})");

    private T Register<T>(T variable, List<T> list) where T : Variable
    {
        if (!_names.Add(variable.Name)) throw new ArgumentException($"the model declares '{variable.Name}' twice");
        variable.Position = list.Count;
        if (ReferenceEquals(list, _states))
        {
            variable.Index = StateWidth;
            StateWidth += variable.Size;
        }
        else if (ReferenceEquals(list, _policies))
        {
            variable.Index = PolicyWidth;
            PolicyWidth += variable.Size;
        }
        else variable.Index = list.Count;
        list.Add(variable);
        _owned.Add(variable);
        return variable;
    }

    internal void CheckOwns(object handle)
    {
        if (!_owned.Contains(handle)) throw new InvalidOperationException($"'{handle}' belongs to another model");
    }

    /// <summary>
    /// The lower-triangular L with Σ = L·Lᵀ for all normal shocks: diagonal σ for independent shocks, the Cholesky
    /// factor of each correlated block. Simulation draws L·z; quadratures integrate over L·x.
    /// </summary>
    public double[,] ShockCholesky
    {
        get
        {
            if (_cholesky is not null) return _cholesky;
            int d = _shocks.Count;
            var l = new double[d, d];
            for (int j = 0; j < d; j++) l[j, j] = _shocks[j].Sigma;
            foreach (var (first, covariance) in _correlated)
            {
                var block = Cholesky.Lower(covariance);
                for (int i = 0; i < block.GetLength(0); i++)
                    for (int j = 0; j < block.GetLength(0); j++) l[first + i, first + j] = block[i, j];
            }
            return _cholesky = l;
        }
    }

    /// <summary>Whether all normal shocks are independent (L is diagonal).</summary>
    public bool ShocksIndependent => _correlated.Count == 0;

    /// <summary>Next period's value of every state, given this period and the shocks' values.</summary>
    protected abstract IEnumerable<(State State, Tensor Next)> Transition(Period now, ShockValues shocks);

    /// <summary>
    /// The equilibrium conditions as residuals (zero at the solution), by name; unit-free where possible. A residual is
    /// one value per economy ([economies]) or, for a vector equation, [elements, economies] (named "euler[1]", … in logs).
    /// </summary>
    protected abstract IEnumerable<(string Name, Tensor Residual)> Equations(Period now);

    internal IEnumerable<(string Name, Tensor Residual)> EquationsAt(Period now) => Equations(now);

    internal IEnumerable<(Policy Policy, Tensor Value)>? ClosedFormAt(Period now) => ClosedForm(now);

    /// <summary>The exact policies, when the model has a closed form (reads states only); null otherwise.</summary>
    protected virtual IEnumerable<(Policy Policy, Tensor Value)>? ClosedForm(Period now) => null;

    /// <summary>Whether <see cref="ClosedForm"/> gives the solution for this calibration.</summary>
    public virtual bool HasClosedForm => false;

    /// <summary>A numerical reference solution to compare with (e.g. time iteration), or null; may take seconds.</summary>
    public virtual IPolicyReference? Reference() => null;

    /// <summary>
    /// Whether the economy has a deterministic steady state (shocks at zero, chains frozen). A model with trends or time
    /// as a state has none: say so, and the checks that need one are not applicable instead of failed.
    /// </summary>
    public virtual bool HasSteadyState => true;

    /// <summary>
    /// A guess of the steady state for Newton's method (states and policy values by handle); without one it starts from
    /// the initial distributions' centers and each policy output's neutral value (sigmoid ½ of its bounds, softplus ln 2,
    /// exp 1, linear 0), then from other points of the initial box.
    /// </summary>
    protected virtual void GuessSteadyState(Perturbation.SteadyStateGuess guess) { }

    internal void GuessSteadyStateAt(Perturbation.SteadyStateGuess guess) => GuessSteadyState(guess);

    /// <summary>Checks the declarations once, before a solver uses the model.</summary>
    public void Validate()
    {
        if (_states.Count == 0) throw new ArgumentException($"{Title}: a model needs at least one state");
        if (_policies.Count == 0) throw new ArgumentException($"{Title}: a model needs at least one policy");
    }

    /// <summary>Next period's states as a matrix [rows, StateWidth]: the transition's values broadcast to <paramref name="shape"/>, one row per economy (and node).</summary>
    internal Tensor NextStateMatrix(Period now, ShockValues shocks, long[] shape)
    {
        var next = new Tensor?[_states.Count];
        int position(State s) => s.Constant is null && s.Position < _states.Count && _states[s.Position] == s ? s.Position : -1;
        foreach (var (state, value) in Transition(now, shocks))
        {
            CheckOwns(state);
            int at = position(state);
            if (at < 0) throw new InvalidOperationException($"{state.Name} is a constant, not a state; the transition does not give it");
            if (next[at] is not null) throw new InvalidOperationException($"the transition gives state {state.Name} twice");
            if (state.Chain is not null || _processes.Any(p => p.State == state) || _vectorProcesses.Any(p => p.State == state))
                throw new InvalidOperationException($"state {state.Name} follows its declared process; the transition does not give it");
            next[at] = Broadcast(value, state, shape);
        }
        foreach (var (state, rho, innovation) in _processes)
        {
            var logNext = now[state].log().mul(rho);
            next[position(state)] = Broadcast((innovation is null ? logNext : logNext + shocks[innovation]).exp(), state, shape);
        }
        foreach (var (state, persistence, innovations) in _vectorProcesses)
        {
            // [n, …] with the elements first: A·x over the first axis, then the innovations stacked the same way.
            var x = now[state];
            int n = innovations.Length;
            var key = (state, x.dtype, x.device_type, x.device_index);
            if (!_persistence.TryGetValue(key, out var a))
                _persistence[key] = a = torch.tensor(persistence, dtype: x.dtype, device: x.device).DetachFromDisposeScope();
            var ax = a.matmul(x.reshape(n, -1)).reshape(x.shape);
            next[position(state)] = Broadcast(ax + torch.stack(innovations.Select(e => shocks[e]).ToArray(), 0), state, shape);
        }
        for (int c = 0; c < _chains.Count; c++)
            next[position(_chains[c])] = Broadcast(shocks.NextChainState(c, _chains[c], now), _chains[c], shape);
        for (int i = 0; i < next.Length; i++)
            if (next[i] is null) throw new InvalidOperationException($"the transition does not give state {_states[i].Name}");
        if (_states.All(s => !s.IsVector))
        {
            // Stacking the broadcast views along a new last axis copies once, straight into row-major [rows, states];
            // one state needs no stacking (a view when nothing was broadcast).
            if (next.Length == 1) return next[0]!.reshape(-1, 1);
            return torch.stack(next!, shape.Length).view(-1, StateWidth);
        }
        // Vectors are [elements, …shape]: move the elements to the last axis, then one copy into [rows, StateWidth].
        var blocks = next.Select((v, i) => _states[i].IsVector ? v!.flatten(1).t() : v!.reshape(-1, 1)).ToArray();
        return torch.cat(blocks, 1);
    }

    // A value that depends on every economy (and node) already has the shape: no view needed.
    private static Tensor Broadcast(Tensor value, State state, long[] shape)
    {
        long[] target = state.IsVector ? [state.Size, .. shape] : shape;
        if (state.IsVector && (value.dim() == 0 || value.shape[0] != state.Size))
            throw new InvalidOperationException($"the transition of vector state {state.Name} must give [{state.Size}, economies], got [{string.Join(", ", value.shape)}]");
        return value.shape.SequenceEqual(target) ? value : value.expand(target);
    }
}

/// <summary>The Cholesky factor of a covariance matrix, with a clear error when it is not positive definite.</summary>
internal static class Cholesky
{
    public static double[,] Lower(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (!double.IsFinite(a[i, j]) || Math.Abs(a[i, j] - a[j, i]) > 1e-12 * Math.Max(1, Math.Abs(a[i, j])))
                    throw new ArgumentException($"a covariance matrix is finite and symmetric (entry [{i + 1}, {j + 1}])");
        for (int j = 0; j < n; j++)
        {
            double d = a[j, j];
            for (int k = 0; k < j; k++) d -= l[j, k] * l[j, k];
            if (!(d > 0)) throw new ArgumentException($"the covariance matrix is not positive definite (pivot {j + 1})");
            l[j, j] = Math.Sqrt(d);
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                l[i, j] = s / l[j, j];
            }
        }
        return l;
    }
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
