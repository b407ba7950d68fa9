"""R3.6: how many cases the district draws, and that a seed repeats the draw."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.domain.sampling import draw, sample_size

THIRTY_PERCENT = Fraction(3, 10)


@pytest.mark.parametrize(
    ("population", "expected"), [(10, 3), (11, 4), (1, 1), (0, 0), (20, 6), (21, 7)]
)
def test_at_least_thirty_percent_is_rounded_up(population: int, expected: int) -> None:
    ids = list(range(100, 100 + population))

    drawn = draw(ids, ratio=THIRTY_PERCENT, seed=7)

    assert sample_size(population, THIRTY_PERCENT) == expected
    assert len(drawn) == expected


def test_the_whole_population_at_ratio_one_and_none_at_zero() -> None:
    ids = [5, 3, 9]

    assert draw(ids, ratio=Fraction(1), seed=1) == [3, 5, 9]
    assert draw(ids, ratio=Fraction(0), seed=1) == []


def test_the_same_seed_gives_the_same_draw_whatever_the_order() -> None:
    ids = list(range(1, 41))

    first = draw(ids, ratio=THIRTY_PERCENT, seed=20260401)
    again = draw(list(reversed(ids)), ratio=THIRTY_PERCENT, seed=20260401)

    assert first == again


def test_different_seeds_can_give_different_draws() -> None:
    ids = list(range(1, 41))

    draws = {tuple(draw(ids, ratio=THIRTY_PERCENT, seed=s)) for s in range(10)}

    assert len(draws) > 1


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
def test_a_draw_is_a_sorted_subset_without_repeats(seed: int) -> None:
    ids = [17, 4, 250, 33, 8, 91, 12]

    drawn = draw(ids, ratio=THIRTY_PERCENT, seed=seed)

    assert set(drawn) <= set(ids)
    assert drawn == sorted(set(drawn))


def test_the_population_and_the_ratio_are_checked() -> None:
    with pytest.raises(ValueError, match="distinct"):
        draw([1, 1, 2], ratio=THIRTY_PERCENT, seed=1)
    with pytest.raises(ValueError, match="ratio"):
        draw([1, 2], ratio=Fraction(3, 2), seed=1)
