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
/// <para>The matrix-free products recompute each chunk's residuals, one chunk's graph at a time, so memory is bounded
/// whatever the sample's size. Jᵀu is one backward pass with u as the output gradient. J v is a central difference of
/// the residuals along v, (r(θ + hv) − r(θ − hv))/2h with h = ε^⅓·max(1, ‖θ‖∞)/‖v‖∞ (ε the dtype's machine epsilon: no
/// weight moves by more than about 6e-6 of its scale in float64, and the truncation and rounding errors, O(h²) and
/// O(ε/h), balance near 1e-10 relative): two passes without a graph. TorchSharp 0.107 has no forward-mode autodiff;
/// the exact alternative, the double-backward trick (Jᵀu with <c>create_graph</c>, then J v = ∂(Jᵀu·v)/∂u), measured
/// 5.4 s against 1.1 s for Jᵀu on 10,000 economies of a 224 × 224 network, and the difference's error is far below
/// what an inexact conjugate-gradient direction tolerates (1e-6).</para>
/// <para>diag(JᵀJ), the conjugate-gradient solver's Jacobi preconditioner and the damping's scale, is exact when the
/// sample's explicit Jacobian fits one chunk, else estimated from the explicit Jacobian of an evenly strided subsample
/// of each block of one chunk's size in all: the exact diagonal cost 46 s a step for those 10,000 economies, and a
/// preconditioner needs each column's scale, not its fourth digit.</para>
/// </remarks>
internal static class ResidualLinearization
{
    /// <summary>The largest Jacobian stored (float64 bytes); beyond, the products are matrix-free.</summary>
    public const long JacobianBudget = 2L << 30;

    /// <summary>Economies per chunk: a chunk's explicit Jacobian (rows × weights) stays within this many float64 bytes.</summary>
    public const long ChunkBudget = 256L << 20;

    /// <summary>Economies per chunk of a matrix-free product: the estimated bytes of one chunk's graph.</summary>
    public const long ProductBudget = 512L << 20;

    public sealed record Block(Tensor States, double Weight);

    /// <summary>
    /// The linearization at the current parameters. <paramref name="forceMatrixFree"/> and <paramref name="diagonalEconomies"/>
    /// (the subsample estimating diag(JᵀJ); one chunk's economies by default) are for tests and measurements.
    /// </summary>
    public static ILinearization At(Model model, IReadOnlyList<Block> blocks, PolicyNetwork policy, QuadratureTensors quadrature,
        IReadOnlyDictionary<string, double>? weights, int rowsPerEconomy, bool forceMatrixFree = false, int? diagonalEconomies = null)
    {
        var parameters = ResidualJacobian.Parameters(policy);
        long columns = parameters.Sum(p => p.numel());
        long rows = blocks.Sum(b => b.States.shape[0]) * rowsPerEconomy;
        int chunk = ChunkEconomies(columns, rowsPerEconomy);
        if (!forceMatrixFree && rows * columns * 8 <= JacobianBudget)
        {
            var chunks = blocks.SelectMany(b => Split(b, chunk)).ToArray();
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
        int productChunk = ProductEconomies(policy, quadrature, model);
        var subsample = Subsample(blocks, diagonalEconomies ?? chunk).SelectMany(b => Split(b, chunk)).ToArray();
        return new MatrixFree(model, blocks.SelectMany(b => Split(b, productChunk)).ToArray(), subsample, policy, quadrature, weights, parameters, columns);
    }

    /// <summary>Economies in a chunk: its explicit Jacobian (rows × columns float64) within <see cref="ChunkBudget"/>.</summary>
    public static int ChunkEconomies(long columns, int rowsPerEconomy) =>
        (int)Math.Clamp(ChunkBudget / 8 / Math.Max(1, columns * rowsPerEconomy), 1, int.MaxValue);

    /// <summary>
    /// Economies in a matrix-free product's chunk: each economy is evaluated at today's state and every node's, and its
    /// graph holds about four float64 tensors of each layer's inputs and outputs at each (pre-activations, activations,
    /// their gradients) beside the model's own intermediates, counted as four state widths.
    /// </summary>
    private static int ProductEconomies(PolicyNetwork policy, QuadratureTensors quadrature, Model model)
    {
        long width = policy.Network.DenseLayers().Sum(l => l.Weight.shape[0] + l.Weight.shape[1]) + 4L * model.StateWidth;
        long perEconomy = (1L + quadrature.Count) * width * 8 * 4;
        return (int)Math.Clamp(ProductBudget / Math.Max(1, perEconomy), 1, int.MaxValue);
    }

    /// <summary>
    /// Each block cut to an evenly strided subsample (every ⌊n/keep⌋-th economy from the first), <paramref name="size"/>
    /// economies in all shared in proportion to the blocks' sizes, each keeping its block's weight (a block's rows are
    /// scaled to its mean, so a subsample's squares estimate it).
    /// </summary>
    private static IEnumerable<Block> Subsample(IReadOnlyList<Block> blocks, int size)
    {
        long total = blocks.Sum(b => b.States.shape[0]);
        foreach (var block in blocks)
        {
            long n = block.States.shape[0];
            long keep = total <= size ? n : Math.Max(1, size * n / total);
            if (keep >= n) { yield return block; continue; }
            var index = torch.arange(keep, dtype: ScalarType.Int64).mul_(n / keep);
            yield return new Block(block.States.index_select(0, index), block.Weight);
        }
    }

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
        private readonly Block[] _chunks, _subsample;
        private readonly PolicyNetwork _policy;
        private readonly QuadratureTensors _quadrature;
        private readonly IReadOnlyDictionary<string, double>? _weights;
        private readonly IList<Tensor> _parameters;
        private long[] _rows = [];

        public MatrixFree(Model model, Block[] chunks, Block[] subsample, PolicyNetwork policy, QuadratureTensors quadrature,
            IReadOnlyDictionary<string, double>? weights, IReadOnlyList<Tensor> parameters, long columns)
        {
            _model = model;
            _chunks = chunks;
            _subsample = subsample;
            _policy = policy;
            _quadrature = quadrature;
            _weights = weights;
            _parameters = parameters.ToList();
            Columns = columns;
            using var scope = NewDisposeScope();
            Residuals = AllRows().MoveToOuterDisposeScope();
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

        /// <summary>Every chunk's rows at the current parameters, without a graph, each chunk's intermediates freed with it.</summary>
        private Tensor AllRows()
        {
            using var noGrad = torch.no_grad();
            var parts = _chunks.Select(c =>
            {
                using var chunkScope = NewDisposeScope();
                return Rows(c).MoveToOuterDisposeScope();
            }).ToArray();
            _rows = parts.Select(p => p.shape[0]).ToArray();
            return torch.cat(parts, 0);
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
            using var scope = NewDisposeScope();
            using var noGrad = torch.no_grad();
            var saved = _parameters.Select(p => p.detach().clone()).ToArray();
            double theta = saved.Max(p => p.abs().max().ToDouble());
            double vMax = v.abs().max().ToDouble();
            if (!(vMax > 0)) return torch.zeros_like(Residuals).MoveToOuterDisposeScope();
            double eps = _parameters[0].dtype == ScalarType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);
            double h = Math.Cbrt(eps) * Math.Max(1, theta) / vMax;
            var pieces = Pieces(v);
            try
            {
                Shift(saved, pieces, h);
                var plus = AllRows();
                Shift(saved, pieces, -h);
                var minus = AllRows();
                return plus.sub_(minus).div_(2 * h).MoveToOuterDisposeScope();
            }
            finally
            {
                for (int i = 0; i < _parameters.Count; i++) _parameters[i].copy_(saved[i]);
            }
        }

        /// <summary>Sets the parameters to θ + h·v from their saved values θ.</summary>
        private void Shift(Tensor[] saved, Tensor[] pieces, double h)
        {
            using var step = h.ToScalar();
            for (int i = 0; i < _parameters.Count; i++) _parameters[i].copy_(saved[i].add(pieces[i], alpha: step));
        }

        /// <summary>v [P] cut into the parameters' shapes (in their dtype).</summary>
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
            foreach (var chunk in _subsample)
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
