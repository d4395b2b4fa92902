"""The presets of ``ubo claims``: QUICK (CI-sized, < 2 min on a quiet 2-core machine), MEDIUM (about 3.5 min
of one core: the report in benchmarks/claims/medium) and FULL (about 15-20 min of one core).

    eps_ladder   claim 1's targets (4 values);  runs / max_steps: seeds per configuration, horizon cap
    adam_max_steps  claim 4's horizon cap (AdamBO's Neumann series makes its steps the dearest)
    tail_runs    claim 2's seeds (>= 1000 in FULL), tail_eps the eps of claims 2-5
    track_*      claim 3's seeds, horizon, gamma and period sweeps
    grid, budget, select_runs: claim 5's step-factor grid, oracle-call budget, seeds for the selection
"""

QUICK = {
    "eps_ladder": (1.4, 1.2, 1.0, 0.85), "runs": 8, "max_steps": 400, "adam_max_steps": 200,
    "tail_runs": 160, "tail_eps": 1.2,
    "track_runs": 16, "track_steps": 300, "gammas": (0.02, 0.06, 0.2, 0.4), "periods": (1, 8, 32),
    "grid": (0.25, 1.0, 4.0, 16.0), "budget": 500, "select_runs": 8,
}

MEDIUM = {
    "eps_ladder": (1.2, 1.0, 0.85, 0.7), "runs": 16, "max_steps": 1000, "adam_max_steps": 300,
    "tail_runs": 200, "tail_eps": 1.0,
    "track_runs": 16, "track_steps": 300, "gammas": (0.02, 0.06, 0.2, 0.4), "periods": (1, 8, 32),
    "grid": (0.25, 1.0, 4.0, 16.0), "budget": 1000, "select_runs": 8,
}

FULL = {
    "eps_ladder": (0.9, 0.7, 0.55, 0.43), "runs": 32, "max_steps": 20000, "adam_max_steps": 20000,
    "tail_runs": 1000, "tail_eps": 0.8,
    "track_runs": 64, "track_steps": 2000, "gammas": (0.005, 0.01, 0.03, 0.1, 0.2, 0.4),
    "periods": (1, 4, 16, 32, 64),
    "grid": (1 / 16, 0.25, 1.0, 4.0, 16.0), "budget": 4000, "select_runs": 16,
}

PRESETS = {"quick": QUICK, "medium": MEDIUM, "full": FULL}
