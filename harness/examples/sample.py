def median_of(xs):
    """Median of a list of numbers (used by `make demo`)."""
    ys = sorted(xs)
    n = len(ys)
    mid = n // 2
    return ys[mid] if n % 2 else (ys[mid - 1] + ys[mid]) / 2
