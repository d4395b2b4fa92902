"""Task benchmark: every algorithm on every task (steps/s, peak memory, accuracy curves), and the batched
oracle against a research-style per-task Python loop (same model, same batch).

    python benchmarks/tasks_gpu.py --device cuda --size paper --steps 20 --out bench_out     # on a GPU
    python benchmarks/tasks_gpu.py --device cpu --size small --steps 20 --out bench_out      # CPU fallback

Part 1 runs ``algorithms.run`` with the suggested hyperparameters (tasks.tuning) and writes
``runs.csv`` (task, algorithm, steps/s, peak memory, first/last upper loss and test accuracy) plus
``curves.csv`` (the recorded series). Part 2 times one hypergradient iteration of the
hyper-representation task two ways, both with the same vanilla tanh RNN, hidden size and batch of
``tasks`` x 2 ``shots`` examples, and the same passes (grad_y g, one fused Hessian/Jacobian-vector
product and grad f):

* batched: the task's oracle: all tasks of the batch in one padded tensor program;
* loop: the way the released research code does it: for each task, a DataLoader for its support
  and one for its query set, an nn.Embedding / nn.RNN / nn.Linear model (cuDNN disabled for the
  double backward, as the BO-REP code does), per-task autograd calls, gradients accumulated.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ubo import algorithms
from ubo import tasks
from ubo.synthetic.rng import CounterRNG
from ubo.tasks.tuning import suggested_hyper


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (monotone)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def all_runs(args, device, out: Path) -> None:
    rows, curves = [], []
    names = args.tasks.split(",") if args.tasks != "all" else list(tasks.list_tasks())
    algos = args.algorithms.split(",") if args.algorithms != "all" else list(algorithms.list_algorithms())
    for name in names:
        task = tasks.make_task(name, size=args.size, device=device)
        for algo_name in algos:
            algo = algorithms.make(algo_name, **suggested_hyper(task, algo_name))
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            trace = algorithms.run(algo, task, runs=args.runs, steps=args.steps, seed=0,
                                   record_every=max(1, args.steps // 10))
            s = trace.series
            acc = "test_auc" if "test_auc" in s else "test_accuracy"
            row = {"task": name, "algorithm": algo_name, "size": args.size, "device": str(device),
                   "runs": args.runs, "steps": args.steps, "wall_s": round(trace.meta["wall_time"], 2),
                   "steps_per_s": round(args.steps / trace.meta["wall_time"], 2),
                   "peak_memory_mb": round(peak_memory_mb(device), 1),
                   "upper_loss_first": round(float(s["upper_loss"][0].median()), 4),
                   "upper_loss_last": round(float(s["upper_loss"][-1].median()), 4),
                   "metric": acc, "metric_first": round(float(s[acc][0].median()), 4),
                   "metric_last": round(float(s[acc][-1].median()), 4),
                   "diverged": int(trace.diverged.sum())}
            rows.append(row)
            print(row, flush=True)
            frame = trace.to_frame()
            frame.insert(0, "algorithm", algo_name)
            frame.insert(0, "task", name)
            curves.append(frame)
    with open(out / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import pandas as pd
    pd.concat(curves).to_csv(out / "curves.csv", index=False)


class ResearchModel(nn.Module):
    """The research code's shape: embedding, one-layer nn.RNN (tanh), max-pool over time, linear head."""

    def __init__(self, vocab: int, embed_dim: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed_dim)
        self.rnn = nn.RNN(embed_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def features(self, tokens, lengths):
        out, _ = self.rnn(self.embedding(tokens))
        pad = torch.arange(tokens.shape[1], device=tokens.device) >= lengths.unsqueeze(1)
        return out.masked_fill(pad.unsqueeze(-1), -torch.inf).max(dim=1).values


def loop_iteration(model, task, batches, mu: float, z) -> None:
    """One hypergradient iteration, task by task, with a DataLoader per task (research style)."""
    enc = [p for n, p in model.named_parameters() if not n.startswith("head")]
    head = list(model.head.parameters())
    lower, upper = task.pools["lower"], task.pools["upper"]
    grad_x = [torch.zeros_like(p) for p in enc]
    for support_idx, query_idx in batches:
        support = DataLoader(TensorDataset(lower.tokens[support_idx], lower.lengths[support_idx],
                                           lower.labels[support_idx]), batch_size=len(support_idx))
        query = DataLoader(TensorDataset(upper.tokens[query_idx], upper.lengths[query_idx],
                                         upper.labels[query_idx]), batch_size=len(query_idx))
        with torch.backends.cudnn.flags(enabled=False):
            for tokens, lengths, labels in support:        # grad_y g: the lower-level step
                steps = int(lengths.max())
                loss = nn.functional.cross_entropy(model.head(model.features(tokens[:, :steps], lengths)), labels)
                loss = loss + 0.5 * mu * sum((p ** 2).sum() for p in head)
                torch.autograd.grad(loss, head)
            for tokens, lengths, labels in support:        # fused Hessian- and Jacobian-vector product
                steps = int(lengths.max())
                loss = nn.functional.cross_entropy(model.head(model.features(tokens[:, :steps], lengths)), labels)
                loss = loss + 0.5 * mu * sum((p ** 2).sum() for p in head)
                gy = torch.autograd.grad(loss, head, create_graph=True)
                dot = sum((g * v).sum() for g, v in zip(gy, z))
                jvp = torch.autograd.grad(dot, enc + head)
            for tokens, lengths, labels in query:          # grad f
                steps = int(lengths.max())
                loss = nn.functional.cross_entropy(model.head(model.features(tokens[:, :steps], lengths)), labels)
                gf = torch.autograd.grad(loss, enc + head)
        for acc, a, b in zip(grad_x, gf, jvp):
            acc.add_(a - b)


def batched_iteration(task, oracle, x, y, z) -> None:
    oracle.grad_g(x, y)
    oracle.hvp_jvp(x, y, z)
    oracle.grad_f(x, y)


def compare_loop(args, device, out: Path) -> dict:
    task = tasks.make_task("hyper_representation", size=args.size, device=device, hidden=args.hidden,
                           ground_truth=False)
    p = task.params
    x, y = task.batch(task.x0, 1), task.batch(task.y0, 1) + 0.01
    z = torch.full_like(y, 0.01)
    oracle = task.oracle(runs=1, seed=0)
    model = ResearchModel(len(task.vocab), p["embed_dim"], p["hidden"]).to(device)
    zs = [torch.full_like(q, 0.01) for q in model.head.parameters()]
    rng = CounterRNG(1, torch.arange(1))

    def task_batches():
        s = task.lower_sampler.sample(rng.next(), 0)[0].view(p["tasks"], -1)
        q = task.upper_sampler.sample(rng.next(), 0)[0].view(p["tasks"], -1)
        return list(zip(s, q))

    timings = {}
    for label, fn in (("batched", lambda: batched_iteration(task, oracle, x, y, z)),
                      ("loop", lambda: loop_iteration(model, task, task_batches(), task.mu, zs))):
        fn()  # warm-up
        sync(device)
        start = time.perf_counter()
        for _ in range(args.iters):
            fn()
        sync(device)
        timings[label] = args.iters / (time.perf_counter() - start)
    result = {"device": str(device), "size": args.size, "hidden": p["hidden"], "embed_dim": p["embed_dim"],
              "tasks_per_batch": p["tasks"], "examples_per_task": 2 * p["shots"], "iters": args.iters,
              "batched_steps_per_s": round(timings["batched"], 3), "loop_steps_per_s": round(timings["loop"], 3),
              "speedup": round(timings["batched"] / timings["loop"], 2)}
    print(result, flush=True)
    with open(out / "loop_vs_batched.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(result))
        writer.writeheader()
        writer.writerow(result)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", default="paper", choices=("small", "paper"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--iters", type=int, default=5, help="timed iterations of the loop comparison")
    ap.add_argument("--hidden", type=int, default=None, help="override the encoder width of the comparison")
    ap.add_argument("--tasks", default="all")
    ap.add_argument("--algorithms", default="all")
    ap.add_argument("--part", default="both", choices=("both", "runs", "loop"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="bench_tasks")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.hidden is None:
        args.hidden = tasks.hyper_representation.PRESETS[args.size]["hidden"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.part in ("both", "loop"):
        compare_loop(args, device, out)
    if args.part in ("both", "runs"):
        all_runs(args, device, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
