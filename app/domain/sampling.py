"""R3.6: the district's random draw of street-approved cases.

Pure: the caller supplies the population, the ratio and the seed, and
records all three, so that anyone can repeat the draw and get the same cases.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction


def sample_size(population: int, ratio: Fraction) -> int:
    """How many of ``population`` cases to check: *at least* ``ratio`` of them.

    Rounded up, exactly (no float): 30 % of 10 is 3, of 11 is 4, of 1 is 1;
    an empty population needs no check.
    """
    if population < 0:
        raise ValueError("the population cannot be negative")
    if not 0 <= ratio <= 1:
        raise ValueError("the ratio must lie between 0 and 1")
    return math.ceil(ratio * population)


def draw(population_ids: Sequence[int], *, ratio: Fraction, seed: int) -> list[int]:
    """The ids to check, sorted; the same population, ratio and seed give the
    same ids.

    The ids are sorted before sampling, so the order in which a database
    returned them does not matter. ``random.Random(seed).sample`` is
    reproducible for the same Python version; the stored population, ratio
    and seed are what an auditor reruns.
    """
    ids = sorted(population_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("the population ids must be distinct")
    size = sample_size(len(ids), ratio)

    # Not for secrets: a seeded generator is the point, so the draw repeats.
    generator = random.Random(seed)  # noqa: S311
    return sorted(generator.sample(ids, size))
