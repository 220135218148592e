"""Held-out precision and recall of the narrative extractor (issue 13).

Each held-out set was written and labelled by hand before the extractor was run on it; the
second and later sets by another person who never read the extractor, frozen with checksums.
Statements are scored exactly as in ``test_accuracy.py`` (precision and recall on the multiset
of (numerator, denominator, stated rate) over the set), read as the product reads a ``.txt``
report (:func:`conftest.sample_statements`).  The first run on each set is the honest estimate
on unseen text; after it, rules were changed for the classes it missed (each class tested with
other sentences in ``test_issue13_rules.py`` / ``test_issue13_more_rules.py``), and the set
became development data, held at 0.95 like the others.

First runs, 2026-12-01:

* ``heldout_`` (five documents, extractor of 2d4b77e): precision 0.957 (66/69), recall 0.880 (66/75);
* ``heldout2_`` (five documents): precision 0.879 (80/91), recall 0.842 (80/95);
* ``heldout3_`` (six documents, extractor of 679fd3a): precision 0.815 (75/92), recall 0.682
  (75/110) - a service table saved as text was not read at all (7 of the 35 misses);
* ``heldout4_`` (six documents, extractor of 8f1af0c): precision 0.929 (105/113), recall 0.882
  (105/119);
* ``heldout5_`` (six documents, extractor of 02e27cb): precision 0.969 (95/98), recall 0.819
  (95/116) - a table per department and one per field, with no service column, were not read
  (14 of the 21 misses);
* ``heldout6_`` (six documents, extractor of fdbd36e): precision 0.952 (100/105), recall 0.917
  (100/109);
* ``heldout7_`` (six documents, extractor of 51e7e82): precision 0.966 (114/118), recall 0.950
  (114/120);
* ``heldout8_`` (six documents, extractor of 57845a1): precision 0.991 (113/114), recall 0.966
  (113/117);
* ``heldout9_`` (six documents, extractor of 2b16273): precision 0.982 (109/111), recall 0.956
  (109/114).

The first runs of the last three sets, 7, 8 and 9, are above 0.95 for both precision and recall
(pooled: precision 0.980, 336/343; recall 0.957, 336/351): they are the estimate on unseen
reports.  All nine sets are development data now.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ingest.registry import Registry

from .conftest import EXPECTED, SAMPLES
from .test_accuracy import THRESHOLD, _scores  # scored exactly as the other sets


def _set(prefix: str) -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in SAMPLES.glob(f"{prefix}_*.txt")))


DEVELOPMENT = {
    "heldout": 5,
    "heldout2": 5,
    "heldout3": 6,
    "heldout4": 6,
    "heldout5": 6,
    "heldout6": 6,
    "heldout7": 6,
    "heldout8": 6,
}


def test_there_are_heldout_samples() -> None:
    assert {prefix: len(_set(prefix)) for prefix in DEVELOPMENT} == DEVELOPMENT


@pytest.mark.parametrize("prefix", sorted(DEVELOPMENT))
def test_fitted_heldout_sets_stay_at_the_threshold(prefix: str, registry: Registry) -> None:
    precision, recall, n_found, n_truth = _scores(_set(prefix), registry)
    print(f"{prefix}: precision={precision:.3f} recall={recall:.3f} found={n_found} expected={n_truth}")
    assert precision >= THRESHOLD
    assert recall >= THRESHOLD


FROZEN = Path(__file__).resolve().parent / "frozen"


@pytest.mark.parametrize("sums", sorted(FROZEN.glob("heldout*.sha256")), ids=lambda p: p.stem)
def test_heldout_texts_and_labels_are_as_their_writer_froze_them(sums: Path) -> None:
    """The checksums the labeller wrote before the first run: no text or label of a held-out set
    was changed afterwards (to fit the extractor or otherwise)."""
    checked = 0
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split()
        folder = SAMPLES if name.endswith(".txt") else EXPECTED
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        checked += 1
    assert checked == 12  # six reports and their six label files
