"""The presets of ``ubo claims``: QUICK (CI-sized, < 2 min on a quiet 2-core machine), MEDIUM (about 3.5 min
of one core) and FULL (9.2 min wall, 17 min of CPU, with jobs = 2 on a quiet 2-core machine).

    eps_ladder   claim 1's targets, on claims.instances.complexity_instance (FULL: six values over a decade;
                 QUICK: four over a factor 2.5, the most two minutes allow; MEDIUM: a factor 5)
    hit_runs, hit_max_steps  claim 1's seeds per eps and step cap per method (a batch stops as soon as
                 every seed has reached eps; seeds still short at the cap are censored and reported)
    runs / max_steps: seeds per configuration and horizon cap of claims 2, 4, 5
    adam_max_steps  claim 4's horizon cap (AdamBO's Neumann series makes its steps the dearest)
    tail_runs    claim 2's seeds (FULL: 5000, so delta reaches 0.001 with 5 runs beyond), tail_eps the eps of claims 2-5
    track_*      claim 3's seeds and horizon; gammas (SLIP), periods I (BO-REP at N = log 8/(mu gamma)) and
                 lower_steps N (BO-REP at I = n_period)
    grid, budget, select_runs: claim 5's step-factor grid, oracle-call budget, seeds for the selection
"""

QUICK = {
    "eps_ladder": (0.2, 0.15, 0.11, 0.08), "hit_runs": 8, "hit_max_steps": {"default": 4000},
    "runs": 8, "max_steps": 400, "adam_max_steps": 200,
    "tail_runs": 160, "tail_eps": 1.2,
    "track_runs": 16, "track_steps": 300, "gammas": (0.05, 0.1, 0.2, 0.4), "periods": (1, 8, 32),
    "lower_steps": (1, 4, 16), "n_period": 8,
    "grid": (0.25, 1.0, 4.0, 16.0), "budget": 500, "select_runs": 8,
}

MEDIUM = {
    "eps_ladder": (0.2, 0.126, 0.08, 0.05, 0.04), "hit_runs": 16, "hit_max_steps": {"default": 30000},
    "runs": 16, "max_steps": 1000, "adam_max_steps": 300,
    "tail_runs": 200, "tail_eps": 1.0,
    "track_runs": 16, "track_steps": 300, "gammas": (0.05, 0.1, 0.2, 0.4), "periods": (1, 8, 32),
    "lower_steps": (1, 4, 16), "n_period": 8,
    "grid": (0.25, 1.0, 4.0, 16.0), "budget": 1000, "select_runs": 8,
}

FULL = {
    "eps_ladder": (0.2, 0.126, 0.08, 0.05, 0.032, 0.02), "hit_runs": 32,
    "hit_max_steps": {"default": 400000},
    "runs": 32, "max_steps": 20000, "adam_max_steps": 20000,
    "tail_runs": 5000, "tail_eps": 0.8,
    "track_runs": 64, "track_steps": 2000, "gammas": (0.01, 0.025, 0.04, 0.07, 0.1, 0.2, 0.4),
    "periods": (1, 4, 16, 32, 64), "lower_steps": (1, 2, 4, 8, 16), "n_period": 16,
    "grid": (1 / 16, 0.25, 1.0, 4.0, 16.0), "budget": 4000, "select_runs": 16,
}

PRESETS = {"quick": QUICK, "medium": MEDIUM, "full": FULL}
