using Deqn.Equilibrium.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// A batch's equations as least-squares rows (<see cref="Residuals.LeastSquaresRows"/>: one row per economy and
/// equation element, the sum of their squares the loss without penalties) and their Jacobian with respect to the policy
/// network's parameters, in the order of <see cref="Parameters"/>: what a Levenberg–Marquardt step needs.
/// </summary>
/// <remarks>
/// An economy's residuals read the network only at its own states: today's row and its next-period rows at every node
/// (owner-major, [economies, nodes] flattened). One backward pass per equation element gives the adjoint δ at every
/// dense layer's output in every call, through all paths (next period's inputs depend on today's policies too); the
/// economy's gradient of a layer's weight is then Σ over its rows of δ ⊗ input, its bias gradient Σ δ.
/// </remarks>
internal static class ResidualJacobian
{
    /// <summary>The network's parameters in the Jacobian's column order: each dense layer's weight [out, in] row-major, then its bias.</summary>
    public static IReadOnlyList<Tensor> Parameters(PolicyNetwork policy) =>
        policy.Network.DenseLayers().SelectMany(l => new Tensor[] { l.Weight, l.Bias }).ToArray();

    /// <summary>Rows [R] and Jacobian [R, P] at <paramref name="states"/> [economies, StateWidth], in the caller's dispose scope.</summary>
    public static (Tensor Rows, Tensor Jacobian, Residuals Residuals) At(Model model, Tensor states, PolicyNetwork policy, QuadratureTensors quadrature,
        IReadOnlyDictionary<string, double>? weights)
    {
        if (!policy.Network.IsRowwiseDense) throw new SolverException("the Levenberg–Marquardt polish needs a network without batch norm or dropout");
        long n = states.shape[0];
        var calls = new List<List<(Tensor Input, Tensor Output)>>();
        Residuals residuals;
        // Autograd on for the backward passes too: a Gauss–Newton step asks for diag(JᵀJ) with it off.
        using var grad = torch.enable_grad();
        policy.Trace = calls;
        try { residuals = Evaluation.Evaluate(model, states, policy, quadrature, weights); }
        finally { policy.Trace = null; }
        var rows = residuals.LeastSquaresRows();
        var outputs = calls.SelectMany(c => c.Select(l => l.Output)).ToArray();
        int layers = calls[0].Count;
        var blocks = new List<Tensor>(rows.Count);
        for (int e = 0; e < rows.Count; e++)
        {
            var adjoints = torch.autograd.grad([rows[e].sum()], outputs, retain_graph: e < rows.Count - 1, allow_unused: true);
            var weightGrads = new Tensor?[layers];
            var biasGrads = new Tensor?[layers];
            int at = 0;
            foreach (var call in calls)
            {
                long perEconomy = call[0].Input.shape[0] / n;
                if (perEconomy * n != call[0].Input.shape[0])
                    throw new InvalidOperationException($"{model.Title}: a policy call of {call[0].Input.shape[0]} rows is not a whole number of rows per economy ({n})");
                for (int l = 0; l < layers; l++, at++)
                {
                    var delta = adjoints[at];
                    if (delta is null || delta.IsInvalid) continue;
                    var d = delta.reshape(n, perEconomy, -1);
                    var h = call[l].Input.reshape(n, perEconomy, -1);
                    var w = torch.bmm(d.transpose(1, 2), h).reshape(n, -1);
                    var b = d.sum(1);
                    weightGrads[l] = weightGrads[l] is { } sw ? sw.add_(w) : w;
                    biasGrads[l] = biasGrads[l] is { } sb ? sb.add_(b) : b;
                }
            }
            var parts = new List<Tensor>(2 * layers);
            var parameters = policy.Network.DenseLayers();
            for (int l = 0; l < layers; l++)
            {
                parts.Add(weightGrads[l] ?? torch.zeros(n, parameters[l].Weight.numel(), dtype: states.dtype, device: states.device));
                parts.Add(biasGrads[l] ?? torch.zeros(n, parameters[l].Bias.numel(), dtype: states.dtype, device: states.device));
            }
            blocks.Add(torch.cat(parts, 1));
        }
        return (torch.cat(rows.Select(r => r.detach()).ToArray(), 0), torch.cat(blocks, 0), residuals);
    }
}
