namespace Deqn.Equilibrium.Diagnostics;

/// <summary>
/// What the polish's slope guard saw: how many rounds it judged, and whether it undid them. The Gauss–Newton polish has
/// no slope anchor; when it leaves the network's slopes at the steady state further from the first-order solution's
/// than the guard allows, the guard restores the weights from before it and measures the equations on states the
/// polish never saw (fresh draws of the initial distributions), with the weights from before and after.
/// </summary>
public sealed record PolishGuard(int RoundsChecked, PolishHalt? Halt);

/// <summary>
/// The polish the guard undid (its rounds), its slope gap, and the mean squared residual on fresh states before and after
/// it. Lower after: the equations themselves favour slopes other than the first-order solution's, so the anchored
/// solution the run kept is not what the equations want (a spurious root, or a solution that is not its first-order
/// one near the steady state, as with a constraint that binds nearby). Not lower: the polish over-fitted its samples.
/// </summary>
public sealed record PolishHalt(int Round, double Gap, double FreshLossBefore, double FreshLossAfter)
{
    public bool EquationsPull => FreshLossAfter < FreshLossBefore;
}
