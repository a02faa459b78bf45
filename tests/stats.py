"""Tolerances for statistical tests, derived from the sample size.

`Z` standard errors make a false alarm about 1 in 10^6 for a normal statistic.
"""

import math

Z = 5.0


def mean_tolerance(std: float, n: int) -> float:
    """Tolerance for a sample mean of `n` draws with standard deviation `std`."""
    return Z * std / math.sqrt(n)


def std_tolerance(std: float, n: int) -> float:
    """Tolerance for a sample standard deviation of `n` normal draws."""
    return Z * std / math.sqrt(2 * n)


def frequency_tolerance(p: float, n: int) -> float:
    """Tolerance for an observed frequency of an event with probability `p`."""
    return Z * math.sqrt(p * (1 - p) / n)
