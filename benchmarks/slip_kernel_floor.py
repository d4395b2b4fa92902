"""The floor under issue 15's SLIP target: the part of a step that is kernels any implementation must run.

    python3 benchmarks/slip_kernel_floor.py [--runs 1000] [--dim 10] [--steps 300] [--reps 3]

The target's run (coupled family, bounded noise sigma = 0.1 on every oracle call, SLIP, one torch thread).
Three figures per iteration, each the fastest of ``--reps`` repetitions (this machine's speed drifts by up to
1.7x within minutes; the fastest is the least disturbed, so the floor errs low):

    step       ms of one iteration of ``algorithms.run`` (record every 100)
    generator  ms inside the counter-based generator's draws during that run (the noise every call needs)
    kernels    the matrix products and transcendental functions one ``SLIP.step`` makes (read from the torch
               profiler with their input shapes), each timed alone on operands of those shapes

floor = generator + kernels: what one iteration would still cost if the element-wise algebra, the update, the
runner and Python cost nothing. floor x 10,000 is the least time 1000 x 10,000 iterations can take with these
kernels on one core, to set against the target's 5 s (milestone 10 s). Timed alone, a kernel finds its
operands in cache, so the floor errs low.
"""

from __future__ import annotations

import argparse
import timeit
from collections import Counter

import torch
from torch.profiler import ProfilerActivity, profile

from ubo import algorithms

from algorithms_speed import HYPER, GeneratorClock, noisy_coupled, seconds  # this folder (a script's sys.path[0])

KERNELS = {  # aten name -> the operation on random operands of the recorded shapes
    "aten::mm": lambda a, b: a @ b, "aten::addmm": lambda c, a, b: torch.addmm(c, a, b),
    "aten::tanh": torch.tanh, "aten::sinh": torch.sinh, "aten::cosh": torch.cosh, "aten::sin": torch.sin,
    "aten::cos": torch.cos, "aten::exp": torch.exp, "aten::log1p": torch.log1p,
}
SLIP = algorithms.make("slip", **HYPER["slip"])  # the target's settings (benchmarks/algorithms_speed.py)


def step_and_generator_ms(problem, runs: int, steps: int) -> tuple[float, float]:
    """(ms per iteration of algorithms.run, ms of it inside the generator's draws)."""
    with GeneratorClock() as clock:
        total = seconds(SLIP, problem, runs, steps)
    return total / steps * 1e3, clock.total / steps * 1e3


def kernel_calls(problem, runs: int, steps: int = 20) -> Counter:
    """{(aten name, input shapes): calls per iteration} of the products and transcendentals of SLIP.step."""
    oracle = problem.oracle(runs=runs, seed=0)
    state = SLIP.init(oracle, problem.x0.expand(runs, -1).clone(), problem.y0.expand(runs, -1).clone())
    state = SLIP.step(oracle, state)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            state = SLIP.step(oracle, state)
    calls = Counter()
    for event in prof.key_averages(group_by_input_shape=True):
        if event.key in KERNELS:
            shapes = tuple(tuple(s) for s in event.input_shapes if s)
            calls[(event.key, shapes)] += event.count / steps
    return calls


def alone_us(name: str, shapes: tuple, number: int = 2000) -> float:
    """The fastest of 5 repetitions of one call's microseconds on random float64 operands of these shapes."""
    operands = [torch.randn(shape, dtype=torch.float64) for shape in shapes]
    fn = KERNELS[name]
    fn(*operands)
    return min(timeit.timeit(lambda: fn(*operands), number=number) / number * 1e6 for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    problem = noisy_coupled(args.dim)
    step_and_generator_ms(problem, args.runs, 10)  # warm-up (numba, allocations)
    timed = [step_and_generator_ms(problem, args.runs, args.steps) for _ in range(args.reps)]
    step = min(t[0] for t in timed)
    generator = min(t[1] for t in timed)

    print(f"SLIP, coupled family, bounded noise, R = {args.runs}, d = {args.dim}, one thread\n")
    print("| kernel | operand shapes | calls / it | us each (alone) | us / it |\n|---|---|---|---|---|")
    kernels = 0.0
    for (name, shapes), count in sorted(kernel_calls(problem, args.runs).items()):
        each = alone_us(name, shapes)
        kernels += count * each / 1e3
        print(f"| {name} | {' x '.join(str(list(s)) for s in shapes)} | {count:g} | {each:.1f} | {count * each:.1f} |")
    floor = generator + kernels
    print(f"\n| per iteration | ms | x 10,000 it (s) | share of the step |\n|---|---|---|---|")
    for label, ms in (("step (algorithms.run)", step), ("generator (in the run)", generator),
                      ("products and transcendentals (alone)", kernels), ("floor = generator + kernels", floor),
                      ("everything else (element-wise, update, runner, Python)", step - floor)):
        print(f"| {label} | {ms:.3f} | {ms * 10:.1f} | {100 * ms / step:.0f}% |")
    print(f"\nsteps per repetition: {args.steps}; repetitions: {', '.join(f'{t[0]:.3f}' for t in timed)} ms step, "
          f"{', '.join(f'{t[1]:.3f}' for t in timed)} ms generator")


if __name__ == "__main__":
    main()
