// A program of your own with the whole deqn command line (solve, models, evaluate, fit, approx …) and one more model:
//   dotnet run --project examples/CustomModel -c Release -- solve crra-growth --episodes 500
//   dotnet run --project examples/CustomModel -c Release -- solve multi-country --set countries=4
using CustomModel;
using Deqn.Cli;
using Deqn.Equilibrium.Models;

return Entry.Run(args, models: CustomModels.Catalog());

namespace CustomModel
{
    public static class CustomModels
    {
        /// <summary>The shipped models plus ours, registered by name (no reflection, nothing global).</summary>
        public static Deqn.Equilibrium.Modeling.ModelCatalog Catalog() => BuiltinModels.Catalog()
            .Add("crra-growth", "stochastic growth with CRRA utility (an example of a model of your own)",
                new CrraGrowthCalibration(), c => new CrraGrowth(c))
            .Add("multi-country", "N countries, a boom-or-bust Markov chain, irreversible investment (vector states, KKT; an example)",
                new MultiCountryCalibration(), c => new MultiCountry(c));
    }
}
