"""The loop bench's p99 is a nearest-rank percentile (the previous index was one rank low)."""

from bench.loop import nearest_rank


def test_nearest_rank_p99_of_150_samples_is_the_149th() -> None:
    values = [float(i) for i in range(1, 151)]
    assert nearest_rank(values, 0.99) == 149.0


def test_nearest_rank_of_100_samples_and_of_one() -> None:
    assert nearest_rank([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert nearest_rank([7.0], 0.99) == 7.0
    assert nearest_rank([], 0.99) is None
