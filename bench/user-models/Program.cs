// Four textbook models written the way a new user writes them from the README ("Write your own model"): no tuned
// settings (none implements IRecommendsSolver), so `solve <model>` trains them on the solver's defaults.
//   dotnet run --project bench/user-models -c Release -- models
//   dotnet run --project bench/user-models -c Release -- solve ramsey
//   dotnet run --project bench/user-models -c Release -- solve user-irbc --set countries=3
using Deqn.Cli;
using UserModels;
using Deqn.Equilibrium.Models.Irbc;

return Entry.Run(args, models: UserModelCatalog.Catalog());

namespace UserModels
{
    public static class UserModelCatalog
    {
        /// <summary>The shipped models plus the four user models, by the names <c>solve</c> and <c>models</c> use.</summary>
        public static Deqn.Equilibrium.Modeling.ModelCatalog Catalog() => Deqn.Equilibrium.Models.BuiltinModels.Catalog()
            .Add("ramsey", "deterministic Ramsey growth, CRRA γ = 2, δ = 0.1, savings a share of resources (a user model)",
                new RamseyCalibration(), c => new Ramsey(c))
            .Add("growth-crra5", "stochastic growth, CRRA γ = 5, AR(1) log TFP, savings a share of resources (a user model)",
                new CrraGrowth5Calibration(), c => new CrraGrowth5(c))
            .Add("user-irbc", "two-country IRBC with adjustment costs (Brumm–Scheidegger calibration; a user model, N + 1 independent shocks)",
                new IrbcCalibration(), c => new Irbc(c))
            .Add("user-irbc-irreversible", "the IRBC model with irreversible investment, Fischer–Burmeister per country (a user model)",
                new IrbcCalibration(), c => new Irbc(c, irreversible: true));
    }
}
