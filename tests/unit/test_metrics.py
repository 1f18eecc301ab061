from __future__ import annotations

from storeops.engine.metrics import percentile
from storeops.engine.queue import retry_delay


def test_percentile_by_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0


def test_retry_delay_doubles_and_caps() -> None:
    assert [retry_delay(n, 2, 60).total_seconds() for n in (1, 2, 3, 4, 5, 6, 7)] == [2, 4, 8, 16, 32, 60, 60]
