using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NCalc;
using NCalc.Visitors;

namespace Deqn.Approximation.Functions;

/// <summary>
/// A target function typed as text, e.g. "sin(pi*x)*exp(y)" or "x1^2 + x2^2 + x3^2".
/// <para>
/// NCalc parses the text into its expression tree; we then compile that tree into a tree of closures over
/// doubles. Evaluating NCalc's own way would box every number, do integer arithmetic on integer literals
/// (1/2, 2**40) and keep per-instance state; the closure tree is all-double, allocation-free and immutable,
/// so one instance can be evaluated from any number of threads.
/// </para>
/// <para>
/// Syntax: + − * / and ** or ^ for powers (both right-associative and binding tighter than unary minus,
/// so -x^2 = −(x²)); numbers such as 2, 0.5, 1e-3. Variables x, y, z (the dimension is the highest used:
/// x → 1, y → 2, z → 3) or x1 … xd (the dimension is the highest index); not both. Constants pi (or π)
/// and e. Functions sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, exp, log (natural; log(a, b) is base b),
/// ln, log10, sqrt, abs, pow(a, b), min and max (two or more arguments). Names are case-insensitive.
/// </para>
/// </summary>
public static partial class ExpressionFunction
{
    /// <summary>Parses and compiles <paramref name="text"/>.</summary>
    /// <param name="text">The expression; its trimmed text becomes the function's name and formula.</param>
    /// <param name="dimension">The domain's dimension, when known: the expression may use fewer variables but not more,
    /// and the function takes this many coordinates.</param>
    /// <exception cref="ArgumentException">One line: a syntax error with its position, an unknown variable or function,
    /// a wrong argument count, an unsupported operator, mixed variable styles, or more variables than <paramref name="dimension"/>.</exception>
    public static ITargetFunction Parse(string text, int? dimension = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (dimension is < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "expression: the dimension must be at least 1");
        string trimmed = text.Trim();
        if (trimmed.Length == 0) throw new ArgumentException("expression is empty (write e.g. \"sin(pi*x)*exp(y)\")");

        var tree = ParseTree(trimmed);
        var compiler = new Compiler(trimmed);
        var root = tree.Accept(compiler);

        int used = compiler.HighestIndex + 1; // 0 when the expression is constant
        if (dimension is int d && used > d)
            throw new ArgumentException($"the expression uses {compiler.HighestName} ({used} dimension{(used == 1 ? "" : "s")}) but the domain has {d}");
        var function = new CompiledExpression(trimmed, dimension ?? Math.Max(used, 1), root.Evaluate);

        // Runs every node once, so a fault in the compiled tree shows here rather than mid-study;
        // non-finite values are left for the caller, who knows the sample points.
        function.Evaluate(function.DefaultDomain.Centre());
        return function;
    }

    /// <summary>The NCalc tree of the text after mapping ^ to ** (NCalc's ^ is XOR) and a few Unicode signs to ASCII.</summary>
    private static LogicalExpression ParseTree(string text)
    {
        // origin[i] is the position in the user's text of character i of the rewritten text, for error positions.
        var rewritten = new StringBuilder(text.Length + 8);
        var origin = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            string replacement = text[i] switch
            {
                '^' => "**",
                'π' => "pi",
                '·' or '×' => "*",
                '−' => "-",
                '\t' or '\r' or '\n' => " ",
                _ => text[i].ToString(),
            };
            rewritten.Append(replacement);
            for (int k = 0; k < replacement.Length; k++) origin.Add(i);
        }

        try
        {
            var context = new LogicalExpressionParseContext(rewritten.ToString(), new LogicalExpressionParserOptions(), CancellationToken.None);
            return LogicalExpressionParser.Parse(context, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string message = e.Message.Trim();
            var at = PositionSuffix().Match(message);
            if (!at.Success) throw new ArgumentException($"expression '{text}': {Sentence(message)}", e);
            int column = int.Parse(at.Groups["column"].Value, CultureInfo.InvariantCulture); // 1-based
            int position = column - 1 < origin.Count ? origin[Math.Max(column - 1, 0)] + 1 : text.Length + 1;
            throw new ArgumentException($"expression '{text}': {Sentence(message[..at.Index])} at position {position}", e);
        }

        // NCalc writes "Parenthesis not closed." — ours reads "parenthesis not closed".
        static string Sentence(string s)
        {
            s = s.Trim().TrimEnd('.');
            return s.Length > 0 ? char.ToLowerInvariant(s[0]) + s[1..] : "cannot be parsed";
        }
    }

    [GeneratedRegex(@"\s*at position \((?<line>\d+):(?<column>\d+)\)\s*$")]
    private static partial Regex PositionSuffix();

    [GeneratedRegex(@"^x([1-9][0-9]{0,5})$")]
    private static partial Regex IndexedVariable();

    private sealed class CompiledExpression(string text, int dimension, PointFunction f) : TargetFunctionBase
    {
        public override string Name => text;
        public override string Formula => text;
        public override int Dimension => dimension;
        public override Box DefaultDomain => Box.Unit(dimension);
        protected override double EvaluateUnchecked(ReadOnlySpan<double> x) => f(x);
    }

    /// <summary>A compiled subtree; constant subtrees are folded to their value.</summary>
    private sealed class Node
    {
        private Node(PointFunction evaluate, double? constant) => (Evaluate, Constant) = (evaluate, constant);

        public PointFunction Evaluate { get; }
        public double? Constant { get; }

        public static Node Const(double v) => new(_ => v, v);

        public static Node Variable(int index) => new(x => x[index], null);

        public static Node Map(Node a, Func<double, double> f)
        {
            if (a.Constant is double c) return Const(f(c));
            var fa = a.Evaluate;
            return new(x => f(fa(x)), null);
        }

        public static Node Map(Node a, Node b, Func<double, double, double> f)
        {
            if (a.Constant is double ca && b.Constant is double cb) return Const(f(ca, cb));
            var (fa, fb) = (a.Evaluate, b.Evaluate);
            return new(x => f(fa(x), fb(x)), null);
        }
    }

    private enum VariableStyle { None, Xyz, Indexed }

    private sealed record FunctionSpec(int MinArgs, int MaxArgs, Func<Node[], Node> Build)
    {
        public static FunctionSpec Unary(Func<double, double> f) => new(1, 1, a => Node.Map(a[0], f));
        public static FunctionSpec Binary(Func<double, double, double> f) => new(2, 2, a => Node.Map(a[0], a[1], f));
        public static FunctionSpec Fold(Func<double, double, double> f) =>
            new(2, int.MaxValue, a => a.Skip(1).Aggregate(a[0], (acc, next) => Node.Map(acc, next, f)));
    }

    private static readonly Dictionary<string, FunctionSpec> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sin"] = FunctionSpec.Unary(Math.Sin),
        ["cos"] = FunctionSpec.Unary(Math.Cos),
        ["tan"] = FunctionSpec.Unary(Math.Tan),
        ["asin"] = FunctionSpec.Unary(Math.Asin),
        ["acos"] = FunctionSpec.Unary(Math.Acos),
        ["atan"] = FunctionSpec.Unary(Math.Atan),
        ["sinh"] = FunctionSpec.Unary(Math.Sinh),
        ["cosh"] = FunctionSpec.Unary(Math.Cosh),
        ["tanh"] = FunctionSpec.Unary(Math.Tanh),
        ["exp"] = FunctionSpec.Unary(Math.Exp),
        ["log"] = new(1, 2, a => a.Length == 1 ? Node.Map(a[0], Math.Log) : Node.Map(a[0], a[1], Math.Log)),
        ["ln"] = FunctionSpec.Unary(Math.Log),
        ["log10"] = FunctionSpec.Unary(Math.Log10),
        ["sqrt"] = FunctionSpec.Unary(Math.Sqrt),
        ["abs"] = FunctionSpec.Unary(Math.Abs),
        ["pow"] = FunctionSpec.Binary(Math.Pow),
        ["min"] = FunctionSpec.Fold(Math.Min),
        ["max"] = FunctionSpec.Fold(Math.Max),
    };

    /// <summary>Compiles NCalc's tree; records which variables are used so the dimension can be checked.</summary>
    private sealed class Compiler(string text) : ILogicalExpressionVisitor<Node>
    {
        private VariableStyle _style;
        private string? _firstOfStyle;

        /// <summary>Zero-based index of the highest coordinate used, −1 if none.</summary>
        public int HighestIndex { get; private set; } = -1;

        /// <summary>How the user wrote the highest coordinate, for messages ("z", "x5").</summary>
        public string HighestName { get; private set; } = "";

        public Node Visit(ValueExpression expression) => expression.Value switch
        {
            int or long or double or float or decimal => Node.Const(Convert.ToDouble(expression.Value, CultureInfo.InvariantCulture)),
            _ => throw new ArgumentException($"expression '{text}': only numbers are allowed, not '{expression.Value}'"),
        };

        public Node Visit(Identifier identifier)
        {
            string name = identifier.Name.ToLowerInvariant();
            switch (name)
            {
                case "pi": return Node.Const(Math.PI);
                case "e": return Node.Const(Math.E);
                case "x" or "y" or "z": return Use(VariableStyle.Xyz, name[0] - 'x', name);
            }
            var indexed = IndexedVariable().Match(name);
            if (indexed.Success)
                return Use(VariableStyle.Indexed, int.Parse(indexed.Groups[1].Value, CultureInfo.InvariantCulture) - 1, name);
            throw new ArgumentException($"unknown variable '{identifier.Name}' in '{text}' (use x, y, z or x1..xd)");
        }

        private Node Use(VariableStyle style, int index, string name)
        {
            if (_style != VariableStyle.None && _style != style)
                throw new ArgumentException($"the expression '{text}' mixes {_firstOfStyle} and {name}: use x, y, z or x1..xd, not both");
            if (_style == VariableStyle.None) (_style, _firstOfStyle) = (style, name);
            if (index > HighestIndex) (HighestIndex, HighestName) = (index, name);
            return Node.Variable(index);
        }

        public Node Visit(UnaryExpression expression)
        {
            var operand = expression.Expression.Accept(this);
            return expression.Type switch
            {
                UnaryExpressionType.Negate => Node.Map(operand, v => -v),
                UnaryExpressionType.Positive => operand,
                _ => throw Unsupported(expression.Type switch
                {
                    UnaryExpressionType.Not => "operator '!'",
                    UnaryExpressionType.BitwiseNot => "operator '~'",
                    UnaryExpressionType.Factorial => "the factorial '!'",
                    var other => $"operator {other}",
                }),
            };
        }

        public Node Visit(BinaryExpression expression)
        {
            Func<double, double, double> op = expression.Type switch
            {
                BinaryExpressionType.Plus => static (a, b) => a + b,
                BinaryExpressionType.Minus => static (a, b) => a - b,
                BinaryExpressionType.Times => static (a, b) => a * b,
                BinaryExpressionType.Div => static (a, b) => a / b,
                BinaryExpressionType.Exponentiation => Math.Pow,
                var other => throw Unsupported($"operator '{Symbol(other)}'"),
            };
            return Node.Map(expression.LeftExpression.Accept(this), expression.RightExpression.Accept(this), op);
        }

        public Node Visit(Function function)
        {
            string name = function.Identifier.Name;
            if (!Functions.TryGetValue(name, out var spec))
                throw new ArgumentException($"unknown function '{name}' in '{text}' (available: {string.Join(", ", Functions.Keys)})");
            var args = function.Parameters.Select(p => p.Accept(this)).ToArray();
            if (args.Length < spec.MinArgs || args.Length > spec.MaxArgs)
            {
                string expected = spec.MinArgs == spec.MaxArgs ? $"{spec.MinArgs}"
                    : spec.MaxArgs == int.MaxValue ? $"{spec.MinArgs} or more" : $"{spec.MinArgs} or {spec.MaxArgs}";
                throw new ArgumentException($"function '{name}' takes {expected} argument{(expected == "1" ? "" : "s")}, got {args.Length} in '{text}'");
            }
            return spec.Build(args);
        }

        public Node Visit(TernaryExpression expression) => throw Unsupported("the conditional '? :'");

        public Node Visit(LogicalExpressionList list) => throw Unsupported("a list '(a, b)'");

        private ArgumentException Unsupported(string what) =>
            new($"expression '{text}': {what} is not supported (use + - * / ^ and functions such as sin, exp, log)");

        private static string Symbol(BinaryExpressionType type) => type switch
        {
            BinaryExpressionType.Modulo => "%",
            BinaryExpressionType.BitwiseXOr => "xor",
            BinaryExpressionType.BitwiseAnd => "&",
            BinaryExpressionType.BitwiseOr => "|",
            BinaryExpressionType.And => "&&",
            BinaryExpressionType.Or => "||",
            BinaryExpressionType.Equal => "==",
            BinaryExpressionType.NotEqual => "!=",
            BinaryExpressionType.Greater => ">",
            BinaryExpressionType.GreaterOrEqual => ">=",
            BinaryExpressionType.Lesser => "<",
            BinaryExpressionType.LesserOrEqual => "<=",
            BinaryExpressionType.LeftShift => "<<",
            BinaryExpressionType.RightShift => ">>",
            var other => other.ToString(),
        };
    }
}
