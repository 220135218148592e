"""The funnel plot and the quality gate agree: on the same stage, the points the chart draws
outside its limits are exactly the ``rate_outlier`` findings of the gate's SQL, with the same
pooled rate and the same adjusted z-scores; and the chart takes its points as the gate groups
them (one indicator, service, month and kind of unit, ten units at least).

The stage and the gate run come from ``test_check_catalogue`` (its data: twenty communes around
86 %, two of them outside the limits by the hand computation there).
"""

from __future__ import annotations

import pytest
from test_check_catalogue import OUTLIER_GROUP, PERIOD, REGISTRY, TOTAL_FLOW, C, Value, run, stage  # noqa: F401

from ingest.reporting.charts import choose_funnel, funnel_candidates, funnel_limits
from ingest.warehouse.db import connect

pytestmark = pytest.mark.warehouse
DEPARTMENTS = [Value("AG.SNV", TOTAL_FLOW, 10, 1000), Value("DT.SNV", TOTAL_FLOW, 1000, 1000)]


def test_the_points_outside_the_limits_are_the_gates_outliers() -> None:
    found = run([Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(OUTLIER_GROUP)] + DEPARTMENTS)
    gate = {f.unit: f.values for f in found if f.check == "rate_outlier"}
    limits = funnel_limits(OUTLIER_GROUP, REGISTRY.tolerances.for_indicator(TOTAL_FLOW).rate_outlier)
    assert limits is not None
    drawn_outside = {C[i] for i, (n, d) in enumerate(OUTLIER_GROUP) if limits.outside(n, d)}
    assert set(gate) == drawn_outside == {C[1], C[14]}
    for i, (n, d) in enumerate(OUTLIER_GROUP):
        if C[i] in gate:
            assert gate[C[i]]["pooled_rate"] == round(100 * limits.pooled, 2)
            assert gate[C[i]]["z"] == pytest.approx((n / d - limits.pooled) / limits.spread(d), abs=0.006)
            assert gate[C[i]]["limit"] == round(limits.z, 2)


def test_the_chart_groups_points_as_the_gate_does() -> None:
    values = [Value(C[i], TOTAL_FLOW, n, d) for i, (n, d) in enumerate(OUTLIER_GROUP)] + DEPARTMENTS
    with connect() as conn:
        try:
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into intermediate.int_indicator_values__resolved"
                    " values (%s, %s, %s, %s, %s, %s, null, 1, 'template')",
                    [(v.unit, v.indicator, v.service, v.period, v.numerator, v.denominator) for v in values],
                )
            (plot,) = funnel_candidates(conn, REGISTRY, PERIOD, TOTAL_FLOW)  # two departments make no plot
            assert (plot.unit_kind, plot.service_code, plot.period) == ("commune", "NA", PERIOD)
            assert sorted(plot.points) == sorted((C[i], n, d) for i, (n, d) in enumerate(OUTLIER_GROUP))
            chosen = choose_funnel(conn, REGISTRY, PERIOD, unit_code=C[3])
            assert chosen is not None and chosen.indicator_code == TOTAL_FLOW
            assert choose_funnel(conn, REGISTRY, PERIOD, unit_code="AG.SNV") is None, "no plot of its kind"
        finally:
            conn.rollback()
