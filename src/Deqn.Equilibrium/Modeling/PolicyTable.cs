using Deqn.Equilibrium.Shocks;
using Deqn.Equilibrium.Solving;
using Deqn.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Deqn.Equilibrium.Modeling;

/// <summary>
/// A policy's values at given states, one column per element and named as in a solve's <c>path.csv</c>: every policy
/// ("s", "k[1]", …) after its output transform, then every definition (output, consumption, multipliers, the
/// features…) computed from the states and those policies the way the solver computes them, clipped into its bounds.
/// </summary>
/// <remarks>
/// A definition is a function of one period; one that takes an expectation over next period cannot be computed from
/// the states alone, and is left out (<see cref="LeftOut"/>).
/// </remarks>
public sealed class PolicyTable
{
    /// <summary>Rows evaluated at once: bounds the memory of the network's activations on a long table.</summary>
    private const int Chunk = 10_000;

    private readonly Dictionary<string, int> _index;

    private PolicyTable(IReadOnlyList<string> policyColumns, IReadOnlyList<string> definitionColumns, IReadOnlyList<string> leftOut, double[,] values)
    {
        PolicyColumns = policyColumns;
        DefinitionColumns = definitionColumns;
        Columns = [.. policyColumns, .. definitionColumns];
        LeftOut = leftOut;
        Values = values;
        _index = Columns.Select((name, j) => (name, j)).ToDictionary(c => c.name, c => c.j, StringComparer.Ordinal);
    }

    /// <summary>Every column's name: the policies' elements, then the definitions'.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The policy elements' names ("s", "k[1]", …), the first columns.</summary>
    public IReadOnlyList<string> PolicyColumns { get; }

    /// <summary>The definition elements' names, after the policies (empty when definitions were not asked for).</summary>
    public IReadOnlyList<string> DefinitionColumns { get; }

    /// <summary>The definitions that read next period (an expectation) and so are not in the table, by name.</summary>
    public IReadOnlyList<string> LeftOut { get; }

    /// <summary>[rows, <see cref="Columns"/>]: row i belongs to the i-th state.</summary>
    public double[,] Values { get; }

    public int Rows => Values.GetLength(0);

    /// <summary>One column's values by name; an unknown name lists the columns.</summary>
    public double[] this[string column]
    {
        get
        {
            if (!_index.TryGetValue(column, out int j)) throw new ArgumentException($"no column '{column}' (columns: {string.Join(", ", Columns)})");
            var values = new double[Rows];
            for (int i = 0; i < values.Length; i++) values[i] = Values[i, j];
            return values;
        }
    }

    /// <summary>
    /// <paramref name="policy"/>'s values at <paramref name="states"/> [rows, StateWidth] (every state element in the
    /// model's order, a Markov chain's state as its index 0 … n−1), and with <paramref name="definitions"/> every
    /// definition's. The states are taken in the precision and on the device of the policy's network
    /// (<see cref="PolicyNetwork"/>), else in float64 on the CPU.
    /// </summary>
    public static PolicyTable At(Model model, IPolicyFunction policy, double[,] states, bool definitions = true)
    {
        var (dtype, device) = policy is PolicyNetwork network ? (network.Network.DType, network.Device) : (ScalarType.Float64, CPU);
        return Compute(model, policy, states, definitions, dtype, device);
    }

    /// <summary>The same at states given as a tensor [rows, StateWidth], computed in its precision and on its device.</summary>
    public static PolicyTable At(Model model, IPolicyFunction policy, Tensor states, bool definitions = true)
    {
        if (states.dim() != 2) throw new ArgumentException($"states must be a matrix [rows, {model.StateWidth}], got shape [{string.Join(", ", states.shape)}]");
        return Compute(model, policy, Tensors.ToArray(states), definitions, states.dtype, states.device);
    }

    private static PolicyTable Compute(Model model, IPolicyFunction policy, double[,] states, bool definitions, ScalarType dtype, Device device)
    {
        Check(model, states);
        int rows = states.GetLength(0), width = -1;
        var computed = definitions ? model.Definitions.ToList() : [];
        var leftOut = new List<string>();
        var table = new double[rows, 0];
        using var noGrad = torch.no_grad();
        // Next period is never built: a definition that asks for it meets a policy that refuses, and is left out.
        using var quadrature = new QuadratureTensors(new Quadrature(new double[1, model.Shocks.Count], [1.0], "none"), model.ChainStates, dtype, device);
        var refusing = new ExpectationOperator(model, new NextPeriodRefused(), quadrature);
        for (int start = 0; start == 0 || start < rows; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            int n = Math.Min(Chunk, rows - start);
            var x = Slice(states, start, n, dtype, device);
            var values = policy.Values(x);
            var now = new Period(model, x, values, refusing, new PenaltyLedger());
            var parts = new List<Tensor> { values };
            foreach (var d in computed.ToArray())
            {
                try { parts.Add(d.IsVector ? now[d].t() : now[d].unsqueeze(1)); }
                catch (NextPeriodRefused.Refusal) when (start == 0)
                {
                    // Whether a definition reads next period is a matter of its formula, not of the states: the
                    // first rows decide for all.
                    leftOut.Add(d.Name);
                    computed.Remove(d);
                }
            }
            var block = Tensors.ToArray(torch.cat(parts.ToArray(), 1));
            if (width < 0) table = new double[rows, width = block.GetLength(1)];
            Buffer.BlockCopy(block, 0, table, start * width * sizeof(double), block.Length * sizeof(double));
        }
        return new PolicyTable(model.PolicyColumns.Select(p => p.Name).ToArray(), computed.SelectMany(d => d.ElementNames).ToArray(), leftOut, table);
    }

    private static Tensor Slice(double[,] states, int start, int n, ScalarType dtype, Device device)
    {
        int d = states.GetLength(1);
        var flat = new double[n * d];
        Buffer.BlockCopy(states, start * d * sizeof(double), flat, 0, flat.Length * sizeof(double));
        return torch.tensor(flat, [n, d], ScalarType.Float64).to(dtype, device);
    }

    /// <summary>One line naming the first state element that cannot be: the wrong width, a non-finite value, a chain's state that is not 0 … n−1.</summary>
    private static void Check(Model model, double[,] states)
    {
        var columns = model.StateColumns;
        if (states.GetLength(1) != columns.Count)
            throw new ArgumentException($"{model.Title} has {columns.Count} state columns ({string.Join(", ", columns.Select(c => c.Name))}), the states have {states.GetLength(1)}");
        for (int j = 0; j < columns.Count; j++)
        {
            int count = columns[j].State.Chain?.Count ?? 0;
            for (int i = 0; i < states.GetLength(0); i++)
            {
                double v = states[i, j];
                if (!double.IsFinite(v)) throw new ArgumentException($"state {columns[j].Name}, row {i + 1}: {v} is not finite");
                if (count > 0 && (v != Math.Floor(v) || v < 0 || v > count - 1))
                    throw new ArgumentException($"state {columns[j].Name}, row {i + 1}: {v} is not a state of its Markov chain (0 … {count - 1})");
            }
        }
    }

    /// <summary>The policy next period would be read through, which refuses: a definition that needs it is left out.</summary>
    private sealed class NextPeriodRefused : IPolicyFunction
    {
        public Tensor Values(Tensor states) => throw new Refusal();

        public sealed class Refusal() : Exception("next period is not evaluated here");
    }
}
