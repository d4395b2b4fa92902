"""Counter-based RNG: SplitMix64 against a NumPy uint64 reference, ranges, batch independence."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ubo.synthetic.rng import GOLDEN, CounterRNG, Draw, mix64, mix64_int, run_keys

M1, M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def np_mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser in NumPy uint64 (wrap-around multiplication, logical shifts)."""
    z = z.astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def np_bits(seed: int, run_ids, call: int, sub: int, n: int) -> np.ndarray:
    """Reference of Draw.bits: mix(mix(key ^ salt) + (j + 1) GOLDEN), key = mix(r GOLDEN + mix(seed GOLDEN + c))."""
    mask = (1 << 64) - 1
    seed_key = np_mix64(np.array([(seed * GOLDEN + 0x1234567) & mask], dtype=np.uint64))[0]
    ids = np.asarray(run_ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        keys = np_mix64(ids * np.uint64(GOLDEN) + seed_key)
        salt = np_mix64(np.array([(call * 0x2545F4914F6CDD1D + sub * 0x632BE59BD9B4E019 + 1) & mask],
                                 dtype=np.uint64))[0]
        base = np_mix64(keys ^ salt)
        offsets = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        return np_mix64(base[:, None] + offsets[None, :])


def as_unsigned(t: torch.Tensor) -> np.ndarray:
    return t.numpy().view(np.uint64)


@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_mix64_equals_numpy_uint64_reference(values):
    tensor = torch.tensor(values, dtype=torch.int64)
    expected = np_mix64(np.array(values, dtype=np.int64).view(np.uint64))
    np.testing.assert_array_equal(as_unsigned(mix64(tensor)), expected)
    assert [mix64_int(v) for v in values] == mix64(tensor).tolist()


@given(st.integers(0, 2**40), st.integers(0, 50), st.integers(0, 59))
def test_draw_bits_equal_reference(seed, call, sub):
    ids = [0, 1, 7, 123456]
    draw = Draw(run_keys(seed, torch.tensor(ids)), call, torch.float64)
    np.testing.assert_array_equal(as_unsigned(draw.bits(5, sub)), np_bits(seed, ids, call, sub, 5))


def test_uniforms_lie_in_open_unit_interval_and_look_uniform():
    u = CounterRNG(3, torch.arange(200)).next().uniform(500)
    assert bool((u > 0).all()) and bool((u < 1).all())
    # mean and variance of 100k uniforms: standard errors 9e-4 and 8e-4
    assert abs(float(u.mean()) - 0.5) < 0.006
    assert abs(float(u.var()) - 1 / 12) < 0.006


def test_integers_cover_range_without_overflow():
    k = CounterRNG(0, torch.arange(50)).next().integers(7, 400)
    assert int(k.min()) == 0 and int(k.max()) == 6
    counts = torch.bincount(k.reshape(-1), minlength=7).double() / k.numel()
    assert float((counts - 1 / 7).abs().max()) < 0.01


def test_seed_must_be_non_negative_int():
    with pytest.raises(ValueError, match="seed"):
        CounterRNG(-1, torch.arange(2))


@pytest.mark.parametrize("method, args", [("uniform", (6,)), ("normal", (7,)), ("integers", (10, 6)),
                                          ("gamma", (0.7, 6)), ("gamma", (2.5, 6))])
def test_batched_equals_alone_bit_for_bit(method, args):
    """Row r of a batch equals run r drawn alone, and any batch composition, call after call."""
    batch = CounterRNG(11, torch.tensor([0, 3, 5, 9]))
    alone = CounterRNG(11, torch.tensor([5]))
    other = CounterRNG(11, torch.tensor([9, 5, 1000]))
    for _ in range(3):
        a, b, c = batch.next(), alone.next(), other.next()
        ra, rb, rc = (getattr(d, method)(*args, sub=2) for d in (a, b, c))
        assert torch.equal(ra[2], rb[0]) and torch.equal(ra[2], rc[1])


def test_streams_differ_across_seed_call_sub_and_run():
    rng = CounterRNG(1, torch.arange(2))
    d0, d1 = rng.next(), rng.next()
    u = d0.uniform(8)
    assert not torch.equal(u[0], u[1])
    assert not torch.equal(u, d1.uniform(8))
    assert not torch.equal(u, d0.uniform(8, sub=1))
    assert not torch.equal(u, CounterRNG(2, torch.arange(2)).next().uniform(8))
    assert torch.equal(u, d0.uniform(8))


def test_gamma_moments():
    """Gamma(k, 1) has mean k and variance k; 60k samples give standard errors below 0.01."""
    for shape in (0.5, 3.0):
        x = CounterRNG(5, torch.arange(300)).next().gamma(shape, 200)
        assert bool((x > 0).all())
        assert abs(float(x.mean()) - shape) < 6 * (shape / x.numel()) ** 0.5
        assert abs(float(x.var()) - shape) / shape < 0.05
