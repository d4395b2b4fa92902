"""ubo theory: Phi's smoothness lemma, the papers' parameter choices, bounds, probes, plots and ``ubo validate``.

    phi_smoothness  Phi's (L0, L1) from a problem's constants; looseness against a family's certificate
    parameters      the papers' parameter choices (from_theory)
    bounds          every bound as a plain function, tagged with its kind and source
    tails, rates, smoothness   quantile CIs and tail fits; slopes and sweeps; secant smoothness, frontier
    recording, probes          whole-horizon per-step records (with each method's h); probes P1-P10 -> tidy tables
    replay                     P11-P15: the algorithm's h and update lines against the closed forms, oracle noise
    mutants                    the planted-bug catalogue and its detection matrix (ubo validate --mutants)
    plots, report, validate, cli   figures, the report folder, the main job and its subcommands
Derivations: docs/theory.md.
"""
