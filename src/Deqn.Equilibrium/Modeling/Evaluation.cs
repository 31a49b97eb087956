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

/// <summary>A quadrature as tensors of one dtype and device, made once and reused by every evaluation.</summary>
public sealed class QuadratureTensors : IDisposable
{
    public QuadratureTensors(Quadrature rule, ScalarType dtype, Device? device = null)
    {
        Rule = rule;
        Count = rule.Count;
        if (rule.Dimension > 0)
        {
            using var nodes = Tensors.FromArray(rule.Nodes, dtype);
            Nodes = nodes.to(device ?? CPU);
        }
        Weights = torch.tensor(rule.Weights, dtype: dtype, device: device ?? CPU);
    }

    public Quadrature Rule { get; }
    public int Count { get; }

    /// <summary>[Q, shocks], or null without shocks.</summary>
    public Tensor? Nodes { get; }

    /// <summary>[Q].</summary>
    public Tensor Weights { get; }

    public void Dispose()
    {
        Nodes?.Dispose();
        Weights.Dispose();
    }
}

/// <summary>
/// Builds next period for a batch at every quadrature node at once: the transition sees this period's values as
/// columns [N, 1] and the nodes as rows [1, Q], the N·Q next states go through the policy in one call, and an
/// expectation is the weighted sum over each row of the [N, Q] integrand.
/// </summary>
internal sealed class ExpectationOperator(Model model, IPolicyFunction policy, QuadratureTensors quadrature)
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
        var shocks = new ShockValues(model, quadrature.Nodes, asRow: true);
        // Without shocks there is one node and nothing to broadcast against: the transition reads this period as it is.
        var states = quadrature.Nodes is null
            ? model.NextStateMatrix(now, shocks, [n])
            : model.NextStateMatrix(now.Broadcast(), shocks, [n, quadrature.Count]);
        return new Period(model, states, policy.Values(states), null, now.Penalties);
    }

    public Tensor Integrate(Tensor values, long n) =>
        quadrature.Count == 1 ? values : values.view(n, quadrature.Count).matmul(quadrature.Weights);
}

/// <summary>The equilibrium conditions of a batch: residuals by equation, penalties by variable, and the loss.</summary>
public sealed class Residuals
{
    internal Residuals(Period now, IReadOnlyList<(string Name, Tensor Residual)> equations, IReadOnlyDictionary<string, Tensor> penalties)
    {
        Now = now;
        Equations = equations;
        Penalties = penalties;
    }

    /// <summary>The period the residuals were evaluated in (its states, policies and definitions).</summary>
    public Period Now { get; }

    public IReadOnlyList<(string Name, Tensor Residual)> Equations { get; }

    /// <summary>Penalty·mean((clipped − raw)²) per bounded variable that was read (scalars).</summary>
    public IReadOnlyDictionary<string, Tensor> Penalties { get; }

    /// <summary>Mean over equations of the mean squared residual, plus every penalty.</summary>
    public Tensor Loss()
    {
        Tensor loss = Equations[0].Residual.square().mean();
        for (int i = 1; i < Equations.Count; i++) loss = loss.add(Equations[i].Residual.square().mean());
        if (Equations.Count > 1) loss = loss.div(Equations.Count);
        foreach (var p in Penalties.Values) loss = loss.add(p);
        return loss;
    }
}

public static class Evaluation
{
    /// <summary>
    /// The model's residuals at <paramref name="states"/> ([n, states]) under <paramref name="policy"/>, with
    /// expectations by <paramref name="quadrature"/>. The tensors live in the caller's dispose scope.
    /// </summary>
    public static Residuals Evaluate(Model model, Tensor states, IPolicyFunction policy, QuadratureTensors quadrature)
    {
        var ledger = new PenaltyLedger();
        var now = new Period(model, states, policy.Values(states), new ExpectationOperator(model, policy, quadrature), ledger);
        var equations = new List<(string, Tensor)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, residual) in model.EquationsAt(now))
        {
            if (!names.Add(name)) throw new InvalidOperationException($"{model.Title}: equation '{name}' is returned twice");
            if (residual.dim() != 1 || residual.shape[0] != now.Count)
                throw new InvalidOperationException($"{model.Title}: equation '{name}' must give one residual per economy ({now.Count}), got shape [{string.Join(", ", residual.shape)}]");
            equations.Add((name, residual));
        }
        if (equations.Count == 0) throw new InvalidOperationException($"{model.Title}: the model returns no equations");
        return new Residuals(now, equations, ledger.ByName);
    }

    /// <summary>Next-period states [n, states] from states [n, states] and drawn innovations [n, shocks] (simulation).</summary>
    public static Tensor Step(Model model, Tensor states, IPolicyFunction policy, Tensor? innovations)
    {
        var now = new Period(model, states, policy.Values(states), null, new PenaltyLedger());
        var shocks = new ShockValues(model, innovations, asRow: false);
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
        foreach (var (policy, value) in _model.ClosedFormAt(now) ?? throw new InvalidOperationException($"{_model.Title}: no closed form"))
        {
            _model.CheckOwns(policy);
            values[policy.Index] = value.expand(states.shape[0]);
        }
        for (int i = 0; i < values.Length; i++)
            if (values[i] is null) throw new InvalidOperationException($"{_model.Title}: the closed form does not give policy {_model.Policies[i].Name}");
        return torch.stack(values!, 1);
    }
}
