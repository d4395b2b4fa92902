"""ubo theory: Phi's smoothness lemma, the papers' parameter choices, bounds, probes, plots and ``ubo validate``.

    phi_smoothness  Phi's (L0, L1) from a problem's constants; looseness against a family's certificate
    parameters      the papers' parameter choices (from_theory)
    bounds          every bound as a plain function, tagged with its kind and source
    tails, rates, smoothness   quantile CIs and tail fits; slopes and sweeps; secant smoothness, frontier
    recording, probes          per-step records; probes P1-P10 -> tidy tables
    plots, report, validate, cli   figures, the report folder, the main job and its subcommands
Derivations: docs/theory.md.
"""
