using Deqn.Equilibrium.Modeling;
using Deqn.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Solving;

/// <summary>
/// A polish sample's equations linearized in the policy network's parameters for a Gauss–Newton step: the least-squares
/// rows of several blocks of economies (a rank's sample each, split into chunks), each block's rows scaled by √weight so
/// that the sum of all squares is the weighted mean of the blocks' losses. Stored (<see cref="ILinearization.Explicit"/>) when the
/// Jacobian fits <see cref="JacobianBudget"/>, else matrix-free.
/// </summary>
/// <remarks>
/// The matrix-free products recompute each chunk's residuals with their graph: Jᵀu is one backward pass with u as the
/// output gradient; J v, since TorchSharp has no forward-mode autodiff, is the double-backward trick — g(u) = Jᵀu with
/// <c>create_graph</c>, then J v = ∂(g(u)·v)/∂u — so memory is one chunk's graph whatever the sample's size, at the cost
/// of about four passes through a chunk per product. diag(JᵀJ), the conjugate-gradient preconditioner, comes from each
/// chunk's explicit Jacobian once per step.
/// </remarks>
internal static class ResidualLinearization
{
    /// <summary>The largest Jacobian stored (float64 bytes); beyond, the products are matrix-free.</summary>
    public const long JacobianBudget = 2L << 30;

    /// <summary>Economies per chunk: a chunk's explicit Jacobian (rows × weights) stays within this many float64 bytes.</summary>
    public const long ChunkBudget = 256L << 20;

    public sealed record Block(Tensor States, double Weight);

    /// <summary>The linearization at the current parameters; <paramref name="forceMatrixFree"/> is for tests and measurements.</summary>
    public static ILinearization At(Model model, IReadOnlyList<Block> blocks, PolicyNetwork policy, QuadratureTensors quadrature,
        IReadOnlyDictionary<string, double>? weights, int rowsPerEconomy, bool forceMatrixFree = false)
    {
        var parameters = ResidualJacobian.Parameters(policy);
        long columns = parameters.Sum(p => p.numel());
        long rows = blocks.Sum(b => b.States.shape[0]) * rowsPerEconomy;
        int chunk = ChunkEconomies(columns, rowsPerEconomy);
        var chunks = blocks.SelectMany(b => Split(b, chunk)).ToArray();
        if (!forceMatrixFree && rows * columns * 8 <= JacobianBudget)
        {
            using var scope = NewDisposeScope();
            // Each chunk in its own scope: only its rows and Jacobian outlive it, not its graph's intermediates.
            var parts = chunks.Select(c =>
            {
                using var chunkScope = NewDisposeScope();
                var (r, j, _) = ResidualJacobian.At(model, c.States, policy, quadrature, weights);
                using var factor = Math.Sqrt(c.Weight).ToScalar();
                return (R: r.to(ScalarType.Float64).mul_(factor).MoveToOuterDisposeScope(), J: j.to(ScalarType.Float64).mul_(factor).MoveToOuterDisposeScope());
            }).ToArray();
            var residuals = torch.cat(parts.Select(p => p.R).ToArray(), 0);
            var jacobian = torch.cat(parts.Select(p => p.J).ToArray(), 0);
            return new ExplicitLinearization(residuals, jacobian).MoveToOuterDisposeScope();
        }
        return new MatrixFree(model, chunks, policy, quadrature, weights, parameters, columns);
    }

    /// <summary>Economies in a chunk: its explicit Jacobian (rows × columns float64) within <see cref="ChunkBudget"/>.</summary>
    public static int ChunkEconomies(long columns, int rowsPerEconomy) =>
        (int)Math.Clamp(ChunkBudget / 8 / Math.Max(1, columns * rowsPerEconomy), 1, int.MaxValue);

    /// <summary>A block in chunks of at most <paramref name="size"/> economies, each weighted by its share of the block.</summary>
    private static IEnumerable<Block> Split(Block block, int size)
    {
        long n = block.States.shape[0];
        for (long at = 0; at < n; at += size)
        {
            long length = Math.Min(size, n - at);
            yield return new Block(block.States.narrow(0, at, length), block.Weight * length / n);
        }
    }

    private sealed class MatrixFree : ILinearization
    {
        private readonly Model _model;
        private readonly Block[] _chunks;
        private readonly PolicyNetwork _policy;
        private readonly QuadratureTensors _quadrature;
        private readonly IReadOnlyDictionary<string, double>? _weights;
        private readonly IList<Tensor> _parameters;
        private readonly long[] _rows;

        public MatrixFree(Model model, Block[] chunks, PolicyNetwork policy, QuadratureTensors quadrature, IReadOnlyDictionary<string, double>? weights,
            IReadOnlyList<Tensor> parameters, long columns)
        {
            _model = model;
            _chunks = chunks;
            _policy = policy;
            _quadrature = quadrature;
            _weights = weights;
            _parameters = parameters.ToList();
            Columns = columns;
            using var scope = NewDisposeScope();
            using var noGrad = torch.no_grad();
            var parts = chunks.Select(c =>
            {
                using var chunkScope = NewDisposeScope();
                return Rows(c).MoveToOuterDisposeScope();
            }).ToArray();
            _rows = parts.Select(p => p.shape[0]).ToArray();
            Residuals = torch.cat(parts, 0).MoveToOuterDisposeScope();
        }

        public Tensor Residuals { get; }
        public long Columns { get; }
        public Tensor? Explicit => null;

        private Tensor Rows(Block chunk)
        {
            var rows = Evaluation.Evaluate(_model, chunk.States, _policy, _quadrature, _weights).LeastSquaresRows();
            using var factor = Math.Sqrt(chunk.Weight).ToScalar();
            return torch.cat(rows.ToArray(), 0).to(ScalarType.Float64).mul_(factor);
        }

        public Tensor TransposeTimes(Tensor u)
        {
            var total = torch.zeros(Columns, dtype: ScalarType.Float64, device: u.device);
            long at = 0;
            for (int c = 0; c < _chunks.Length; c++)
            {
                using var scope = NewDisposeScope();
                Tensor[] grads;
                using (torch.enable_grad())
                {
                    var rows = Rows(_chunks[c]);
                    grads = torch.autograd.grad([rows], _parameters, [u.narrow(0, at, _rows[c])], allow_unused: true).ToArray();
                }
                total.add_(Flatten(grads));
                at += _rows[c];
            }
            return total;
        }

        public Tensor Times(Tensor v)
        {
            var parts = new Tensor[_chunks.Length];
            var pieces = Pieces(v);
            for (int c = 0; c < _chunks.Length; c++)
            {
                using var scope = NewDisposeScope();
                using (torch.enable_grad())
                {
                    var rows = Rows(_chunks[c]);
                    var u = torch.zeros_like(rows).requires_grad_(true);
                    var g = torch.autograd.grad([rows], _parameters, [u], create_graph: true, allow_unused: true).ToArray();
                    var used = Enumerable.Range(0, g.Length).Where(i => g[i] is { IsInvalid: false } && g[i].requires_grad).ToArray();
                    parts[c] = used.Length == 0
                        ? torch.zeros_like(rows)
                        : torch.autograd.grad(used.Select(i => g[i]).ToList(), [u], used.Select(i => pieces[i]).ToList(), allow_unused: true)[0];
                    parts[c] = (parts[c] is { IsInvalid: false } p ? p.detach() : torch.zeros_like(rows).detach()).MoveToOuterDisposeScope();
                }
            }
            return torch.cat(parts, 0);
        }

        /// <summary>v [P] cut into the parameters' shapes (in their dtype: the graph's).</summary>
        private Tensor[] Pieces(Tensor v)
        {
            var pieces = new Tensor[_parameters.Count];
            long at = 0;
            for (int i = 0; i < _parameters.Count; i++)
            {
                long n = _parameters[i].numel();
                pieces[i] = v.narrow(0, at, n).view(_parameters[i].shape).to(_parameters[i].dtype);
                at += n;
            }
            return pieces;
        }

        private Tensor Flatten(Tensor[] grads) =>
            torch.cat(grads.Select((g, i) => g is { IsInvalid: false } ? g.reshape(-1).to(ScalarType.Float64) : torch.zeros(_parameters[i].numel(), dtype: ScalarType.Float64)).ToArray(), 0);

        public Tensor ColumnSquares()
        {
            var total = torch.zeros(Columns, dtype: ScalarType.Float64);
            foreach (var chunk in _chunks)
            {
                using var scope = NewDisposeScope();
                var (_, j, _) = ResidualJacobian.At(_model, chunk.States, _policy, _quadrature, _weights);
                total.add_(j.to(ScalarType.Float64).square().sum([0L]).mul_(chunk.Weight));
            }
            return total;
        }

        public void Dispose() => Residuals.Dispose();
    }
}
