"""Held-out precision and recall of the narrative extractor (issue 13).

The ``samples/heldout_*.txt`` reports (a provincial health department, a commune, a provincial
police quarterly report, a provincial news summary and a science-and-technology department
report) were written and labelled by hand in ``expected/`` before the extractor was run on
them; none of their text was used to tune it.  Statements are scored exactly as in
``test_accuracy.py``: precision and recall on the multiset of (numerator, denominator, stated
rate) over all held-out files.

First run, 2026-12-01, extractor of commit 2d4b77e, before any rule or label was changed:

* overall: precision 0.957 (66/69), recall 0.880 (66/75);
* heldout_syt_phu_tho_2026_08: P 1.000 (14/14), R 1.000 (14/14);
* heldout_xa_hiep_thanh_2026_08: P 1.000 (13/13), R 0.812 (13/16);
* heldout_cat_khanh_hoa_2026_09: P 0.938 (15/16), R 0.789 (15/19);
* heldout_news_thai_nguyen_2026_09: P 1.000 (14/14), R 1.000 (14/14);
* heldout_skhcn_quang_ninh_2026_08: P 0.833 (10/12), R 0.833 (10/12).

That first run is the honest estimate on unseen text.  Rules were then changed for the classes
it missed (tests/narrative/test_issue13_rules.py), so these files are development data now and
are held at 1.000 like the other sets.

The second held-out set, ``samples/heldout2_*.txt`` (a Sở Tư pháp, a city ward, a provincial
BHXH, a nine-month press article and a Sở Nội vụ), was written and labelled by hand by another
person who did not read the extractor, and scored once, with the extractor after those rules
(2026-12-01):

* overall: precision 0.879 (80/91), recall 0.842 (80/95);
* heldout2_bhxh_son_la_2026_10: P 0.941, R 0.889;
* heldout2_news_tuyen_quang_2026_09: P 0.667, R 0.632;
* heldout2_phuong_hai_chau_2026_11: P 0.789, R 0.750;
* heldout2_snv_dien_bien_2026_10: P 1.000, R 1.000;
* heldout2_stp_bac_ninh_2026_10: P 1.000, R 0.947.

That is today's honest estimate; its test is a strict xfail until the extractor reaches 0.95 on a
set it has not seen.
"""

from __future__ import annotations

import pytest

from ingest.registry import Registry

from .conftest import SAMPLES
from .test_accuracy import THRESHOLD, _scores  # scored exactly as the other sets

HELDOUT = tuple(sorted(path.stem for path in SAMPLES.glob("heldout_*.txt")))
HELDOUT_2 = tuple(sorted(path.stem for path in SAMPLES.glob("heldout2_*.txt")))


def test_there_are_heldout_samples() -> None:
    assert len(HELDOUT) == 5
    assert len(HELDOUT_2) == 5


def test_first_heldout_set_now_development_data(registry: Registry) -> None:
    precision, recall, n_found, n_truth = _scores(HELDOUT, registry)
    print(f"precision={precision:.3f} recall={recall:.3f} found={n_found} expected={n_truth}")
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD


@pytest.mark.xfail(strict=True, reason="second held-out set, first run: P=0.879 R=0.842 (issue 13); below 0.95")
def test_heldout_precision_and_recall(registry: Registry) -> None:
    precision, recall, n_found, n_truth = _scores(HELDOUT_2, registry)
    print(f"precision={precision:.3f} recall={recall:.3f} found={n_found} expected={n_truth}")
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD
