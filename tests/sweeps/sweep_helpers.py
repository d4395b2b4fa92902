"""A tiny spec shared by the sweep tests: cells of a few milliseconds of compute each."""

from ubo.sweeps import SweepSpec


def tiny_spec(name: str = "tiny", etas=(0.01, 0.02), runs: int = 4, steps: int = 12, probes=()) -> SweepSpec:
    return SweepSpec(name=name, problems=[{"name": "coupled", "params": {"dim_x": 3, "dim_y": 3}}],
                     noises=[{"noise": ["bounded", "student_t"], "sigma_f": 0.1, "sigma_g1": 0.1}],
                     algorithms=[{"name": "slip", "hyper": {"eta": list(etas)}}],
                     runs=runs, steps=steps, record_every=4, probes=list(probes))
