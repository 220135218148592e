"""The charts: funnel-plot limits checked against a hand computation, the gate's own verdicts,
valid PNGs of a sensible size, Vietnamese axes, and a unit's funnel plot naming only that unit.

Hand computation (Spiegelhalter 2005, additive overdispersion, 10 % winsorising, 99,8 %):
ten units, each with 100 in the denominator, numerators 30, 35, 40, 45, 50, 50, 55, 60, 65, 70.

    p0 = 500 / 1000 = 0,5;  s^2 = 0,5 x 0,5 / 100 = 0,0025 (s = 0,05)
    z  = (p - 0,5) / 0,05 = -4, -3, -2, -1, 0, 0, 1, 2, 3, 4
    10 % and 90 % percentiles (linear, position 9 x 0,1 = 0,9 and 8,1): -3,1 and 3,1
    winsorised z^2 sum = 9,61 + 9 + 4 + 1 + 0 + 0 + 1 + 4 + 9 + 9,61 = 47,22;  phi = 4,722
    w = 1 / s^2 = 400 each: sum w = 4000, sum w^2 / sum w = 400
    tau^2 = (10 x 4,722 - 9) / (4000 - 400) = 38,22 / 3600
    limits at n: 0,5 ± 3,0902 x sqrt(0,25 / n + tau^2)
"""

from __future__ import annotations

import io
import math
import statistics
import struct
from decimal import Decimal

import pytest
from PIL import Image
from test_check_catalogue import OUTLIER_GROUP

from ingest.registry import load_registry
from ingest.registry.catalog import RateOutlierTolerance
from ingest.reporting.charts import (
    FunnelData,
    funnel_chart,
    funnel_figure,
    funnel_limits,
    history_chart,
    target_chart,
)
from ingest.reporting.mailer import InlineImage, build_message

NUMERATORS = [30, 35, 40, 45, 50, 50, 55, 60, 65, 70]
POINTS = [(n, 100) for n in NUMERATORS]
Z = statistics.NormalDist().inv_cdf(0.999)  # two-sided 99.8 %
TAU2 = (10 * 4.722 - 9) / (4000 - 400)
ADDITIVE = RateOutlierTolerance(Decimal("99.8"), "additive", Decimal(10))


def hand_bounds(n: float) -> tuple[float, float]:
    half = Z * math.sqrt(0.25 / n + TAU2)
    return 0.5 - half, 0.5 + half


def test_funnel_limits_equal_the_hand_computation() -> None:
    limits = funnel_limits(POINTS, ADDITIVE)
    assert limits is not None
    assert limits.pooled == pytest.approx(0.5)
    assert limits.phi == pytest.approx(4.722)
    assert limits.tau2 == pytest.approx(TAU2)
    assert limits.z == pytest.approx(3.0902, abs=1e-4)
    for n in (1, 100, 400, 2500):
        assert limits.bounds(n) == pytest.approx(hand_bounds(n))
    multiplicative = funnel_limits(POINTS, RateOutlierTolerance(Decimal("99.8"), "multiplicative", Decimal(10)))
    assert multiplicative is not None
    assert multiplicative.bounds(100) == pytest.approx(
        (0.5 - Z * 0.05 * math.sqrt(4.722), 0.5 + Z * 0.05 * math.sqrt(4.722))
    )
    plain = funnel_limits(POINTS, RateOutlierTolerance(Decimal("95"), "none", Decimal(10)))
    assert plain is not None and plain.bounds(100) == pytest.approx((0.5 - 1.96 * 0.05, 0.5 + 1.96 * 0.05), abs=1e-4)


def test_no_plot_where_the_gate_draws_none() -> None:
    assert funnel_limits(POINTS[:9], ADDITIVE) is None, "fewer than ten units of a kind"
    assert funnel_limits([(0, 100)] * 12, ADDITIVE) is None, "a pooled rate of 0"


def test_the_points_outside_are_those_the_gate_flags() -> None:
    """OUTLIER_GROUP's outliers, worked out by hand in test_check_catalogue and found by the
    gate's SQL there, are units 1 and 14."""
    limits = funnel_limits(OUTLIER_GROUP, ADDITIVE)
    assert limits is not None
    assert {i for i, (n, d) in enumerate(OUTLIER_GROUP) if limits.outside(n, d)} == {1, 14}


def _plot(points: list[tuple[int, int]]) -> FunnelData:
    return FunnelData(
        "DVC_ONLINE_RECEIVED",
        "Hồ sơ tiếp nhận trực tuyến",
        "NA",
        "commune",
        "2026-03",
        tuple((f"AG.X.U{i:02d}", n, d) for i, (n, d) in enumerate(points)),
    )


def test_the_funnel_plot_draws_the_hand_computed_limits() -> None:
    limits = funnel_limits(POINTS, ADDITIVE)
    assert limits is not None
    ax = funnel_figure(_plot(POINTS), limits).axes[0]
    lower, upper = ax.lines[0], ax.lines[1]
    for line, side in ((lower, 0), (upper, 1)):
        xs, ys = line.get_xdata(), line.get_ydata()
        assert len(xs) > 50
        for x, y in zip(xs, ys, strict=True):
            assert y == pytest.approx(100 * hand_bounds(x)[side])


def test_a_units_funnel_plot_names_only_that_unit() -> None:
    limits = funnel_limits(OUTLIER_GROUP, ADDITIVE)
    assert limits is not None
    plot = _plot(OUTLIER_GROUP)
    own = funnel_figure(plot, limits, highlight="AG.X.U05").axes[0]
    assert [t.get_text() for t in own.texts if t.get_text().startswith("AG.")] == ["AG.X.U05"]
    province = funnel_figure(plot, limits, label_outliers=True).axes[0]
    assert sorted(t.get_text() for t in province.texts if t.get_text().startswith("AG.")) == ["AG.X.U01", "AG.X.U14"]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    Image.open(io.BytesIO(png)).verify()  # the whole file decodes
    return width, height


def test_charts_are_valid_pngs_of_a_sensible_size() -> None:
    limits = funnel_limits(POINTS, ADDITIVE)
    assert limits is not None
    months = {"2026-03": {"error": 7, "warning": 13}, "2025-12": {"warning": 2}}
    rows = [
        {
            "indicator_code": "DVC_ONLINE_RECEIVED",
            "rate_pct": 78.2,
            "expected_rate_pct": 80.0,
            "target_pct": 80.0,
            "progress_status": "at_risk",
        },
        {
            "indicator_code": "HT_SCANNED",
            "rate_pct": 100.0,
            "expected_rate_pct": 100.0,
            "target_pct": 100.0,
            "progress_status": "achieved",
        },
    ]
    charts = [
        history_chart("2026-03", {"2026-03": (96.5, 79.1)}, months, name="a"),
        history_chart("2026-03", None, months, name="b"),
        funnel_chart(_plot(POINTS), limits),
        target_chart(rows, load_registry(), "2026-03"),
    ]
    for chart in charts:
        width, height = _png_size(chart.png)
        assert 500 <= width <= 1600 and 200 <= height <= 1600, (chart.name, width, height)
        assert 5_000 < len(chart.png) < 300_000
        assert chart.data_uri().startswith("data:image/png;base64,iVBORw0KGgo")


def test_axes_read_as_vietnamese_numbers() -> None:
    limits = funnel_limits(POINTS, ADDITIVE)
    assert limits is not None
    ax = funnel_figure(_plot([(n * 30, 3000) for n in NUMERATORS]), limits).axes[0]
    assert ax.yaxis.get_major_formatter()(97.5, 0) == "97,5%"
    assert ax.xaxis.get_major_formatter()(12500, 0) == "12.500"
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "3.000" in labels, labels


def test_an_email_refers_to_each_inline_chart_by_its_content_id() -> None:
    limits = funnel_limits(POINTS, ADDITIVE)
    assert limits is not None
    chart = funnel_chart(_plot(POINTS), limits)
    html = f'<p><img src="cid:{chart.cid}"></p>'
    msg = build_message(
        subject="s",
        html=html,
        text="t",
        sender="a@d06.example",
        to=["b@d06.example"],
        images=[InlineImage(chart.cid, chart.png, "pheu.png")],
    )
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.iter_parts()
    assert plain.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    body, image = related.iter_parts()
    assert body.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    assert str(image["Content-ID"]) == f"<{chart.cid}>" and image.get_content_disposition() == "inline"
    assert image.get_content() == chart.png
