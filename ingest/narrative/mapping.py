"""Map a narrative statement to an indicator of the registry, and to an essential service.

Nothing here lists indicators: every phrase comes from ``indicators.yml`` (``keywords``,
``name_vi``, ``numerator``, ``count_unit``, ``reporters``) and ``services.csv`` (service names).

Scoring (documented so that the confidence means something):

* each indicator phrase is looked for in four texts of decreasing weight: the statement's own
  label (what is counted, weight 1.0), its own clause (0.7), the heading of its section (0.5,
  consulted only when label and clause give no assignable indicator: ``2. Chi trả an sinh xã
  hội không dùng tiền mặt`` / ``... qua tài khoản cá nhân 71.450 người``; enough only with an
  agreeing count unit) and its surroundings - the paragraph and the headings above (0.3, never
  enough on its own);
* a phrase found verbatim (after folding case, tone placement and abbreviations such as
  ``TTHC``, and dropping the passive ``được`` after ``đã`` / ``đang`` / ``chưa`` / ``sẽ``: ``đã
  được kích hoạt`` reads ``đã kích hoạt``) scores 1.0 for a keyword of three or more words, 0.85
  for one of two words, 0.45 for a single word (``VNeID``: not enough without an agreeing count
  unit), 0.8 for the indicator's name and 0.7 for its numerator definition; a phrase of three or
  four words scores 0.6 when its words appear in order with modifiers between them (within 3 x
  its length + 3 words: ``tra cứu [thông tin thẻ BHYT] thành công``); the indicator's name or
  numerator definition of three or more words scores 0.6 x the share present when at least 80 %
  of its words stand close together (within 1.5 x its length + 2 words) - a keyword never does;
* a keyword written both in the indicator's own name and in another indicator's name is
  *generic*: it names what the indicators count, not what was done to it (``dữ liệu hộ tịch``
  is in the names of the scanned, entered and synced indicators alike), and weighs 0.3 whatever
  its length - less than a specific single word such as ``scan`` - whenever the statement's
  label or clause holds a keyword of any indicator that is not generic (else it keeps its weight:
  ``tài khoản định danh điện tử đã cấp`` is the registered accounts);
* each further keyword found verbatim in the same text adds 0.1 (at most 0.2);
* the count unit must agree: a different unit (``người`` against ``hồ sơ``) multiplies the
  score by 0.4; a unit that agrees (or counts people under another name: ``đối tượng``,
  ``học sinh``) multiplies it by 1.2;
* for a known department role that is not among the indicator's reporters the score is
  multiplied by 0.9;
* the confidence is the best score, capped at 1, times 0.8 when the runner-up is within 0.1;
  an indicator is assigned when the confidence is at least 0.5.

The service is chosen only for indicators with a service dimension: the words of each service
name are compared (F1 of the word sets, common words removed) with the statement's label, the
``Label:`` phrases before it in its paragraph, the paragraph's lead and the last heading, in
that order; the first text whose best service reaches 0.5 decides.  An indicator without a
service dimension gets ``NA`` (``ingest.registry.NO_SERVICE``).

>>> m = map_statement(label="hồ sơ trực tuyến", sentence="", surroundings="", count_unit="hồ sơ",
...                   service_texts=["Đăng ký khai sinh"], registry=load_registry())
>>> (m.indicator_code, m.service_code)
('DVC_ONLINE_RECEIVED', 'DV12')
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.narrative.vocabulary import UNIT_FAMILY, match_key, normalise_unit, tokens
from ingest.registry import NO_SERVICE, Indicator, Registry, load_registry

__all__ = ["ASSIGN_THRESHOLD", "MappingResult", "map_statement", "match_service"]

ASSIGN_THRESHOLD = 0.5
SERVICE_THRESHOLD = 0.5
_TIER_WEIGHTS = (1.0, 0.7, 0.5, 0.3)
_FUZZY_WEIGHT = 0.6
_FUZZY_SHARE = 0.8
_STOPWORDS = frozenset(
    [
        "của",
        "và",
        "các",
        "cho",
        "với",
        "về",
        "được",
        "đã",
        "trong",
        "theo",
        "những",
        "tại",
        "để",
        "là",
        "có",
        "một",
        "số",
        "lượng",
        "việc",
        "nhóm",
        "thủ",
        "tục",
    ]
)
# Department roles: a unit of another kind (commune, province) may report on anything.
_DEPARTMENT_ROLE = re.compile(r"^[A-Z]+$")


@dataclass(frozen=True)
class MappingResult:
    """The chosen indicator and service, with a confidence in [0, 1]."""

    indicator_code: str | None
    service_code: str | None
    confidence: float
    runner_up: str | None = None
    by_heading: bool = False
    """The indicator was found only with the section heading's words."""


def _content_tokens(text: str) -> list[str]:
    return [t for t in tokens(text) if t not in _STOPWORDS]


def _phrase_score(phrase: str, text: _Text, *, partial: bool = True) -> float:
    """1.0 when the phrase is in the text; for a long phrase, a partial score when nearly all
    of its words stand close together in the text (only with ``partial``: a keyword missing a
    word may be missing the very word that tells it apart, as ``số hóa dữ liệu hộ tịch`` read
    in ``scan dữ liệu hộ tịch``); else 0."""
    key = _active(match_key(phrase))
    if not key or not text.key:
        return 0.0
    if re.search(r"(?<!\w)" + re.escape(key) + r"(?!\w)", text.key):
        return 1.0
    ordered = _content_tokens(phrase)
    words = set(ordered)
    if len(words) < 3:
        return 0.0
    toks = text.toks
    # A short phrase in order, with modifiers in between: "tra cứu [thông tin thẻ BHYT] thành công".
    if len(ordered) <= 4 and _in_order(ordered, toks, 3 * len(ordered) + 3):
        return _FUZZY_WEIGHT
    if not partial:
        return 0.0
    span = int(1.5 * len(words)) + 2
    best = 0
    for i in range(len(toks)):
        window = toks[i : i + span]
        best = max(best, len(words.intersection(window)))
    share = best / len(words)
    return _FUZZY_WEIGHT * share if share >= _FUZZY_SHARE else 0.0


def _in_order(words: Sequence[str], toks: Sequence[str], span: int) -> bool:
    """True when ``words`` occur in this order within ``span`` consecutive tokens."""
    for start, tok in enumerate(toks):
        if tok != words[0]:
            continue
        i, j = 1, start + 1
        while i < len(words) and j < min(len(toks), start + span):
            if toks[j] == words[i]:
                i += 1
            j += 1
        if i == len(words):
            return True
    return False


# The passive marker after an aspect word says nothing about what was done: "tài khoản ... đã được
# kích hoạt" is "đã kích hoạt" (a keyword), "đã được xác thực" is "đã xác thực".
_PASSIVE = re.compile(r"(?<!\w)(đã|đang|chưa|sẽ) được(?!\w)")


def _active(key: str) -> str:
    """A folded text with the passive marker after an aspect word dropped."""
    return _PASSIVE.sub(r"\1", key)


@dataclass(frozen=True)
class _Text:
    key: str
    toks: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Text:
        return cls(_active(match_key(text)), tuple(tokens(text)))


def _keyword_weight(keyword: str) -> float:
    """A one-word keyword (``VNeID``, ``scan``) is weaker evidence than a phrase: alone it does
    not reach the threshold unless the count unit agrees too."""
    n = len(tokens(keyword))
    return 0.45 if n <= 1 else (0.85 if n == 2 else 1.0)


_GENERIC_WEIGHT = 0.3


_GENERIC_CACHE: dict[int, tuple[Registry, dict[str, frozenset[str]]]] = {}


def _generic_keywords(reg: Registry) -> dict[str, frozenset[str]]:
    """For each indicator, its keywords that are the head its name shares with another
    indicator's name (``dữ liệu hộ tịch``, ``tài khoản định danh điện tử``)."""
    cached = _GENERIC_CACHE.get(id(reg))
    if cached is not None and cached[0] is reg:
        return cached[1]
    names = {code: match_key(ind.name_vi) for code, ind in reg.indicators.items()}

    def named_in(kw: str, code: str) -> bool:
        return re.search(r"(?<!\w)" + re.escape(match_key(kw)) + r"(?!\w)", names[code]) is not None

    out: dict[str, frozenset[str]] = {}
    for code, ind in reg.indicators.items():
        out[code] = frozenset(
            kw
            for kw in ind.keywords
            if named_in(kw, code) and any(named_in(kw, other) for other in names if other != code)
        )
    _GENERIC_CACHE[id(reg)] = (reg, out)
    return out


def _indicator_score(
    ind: Indicator,
    tiers: Sequence[_Text],
    weights: Sequence[float] = _TIER_WEIGHTS,
    generic: frozenset[str] = frozenset(),
) -> float:
    numerator_phrase = re.sub(r"^(?:số|tổng số)\s+", "", ind.numerator, flags=re.IGNORECASE)
    phrases = [(kw, _GENERIC_WEIGHT if kw in generic else _keyword_weight(kw)) for kw in ind.keywords] + [
        (ind.name_vi, 0.8),
        (numerator_phrase, 0.7),
    ]
    best = 0.0
    for weight, text in zip(weights, tiers, strict=True):
        if not text.key:
            continue
        tier_best = 0.0
        exact_keywords = 0
        for phrase, phrase_weight in phrases:
            s = _phrase_score(phrase, text, partial=phrase not in ind.keywords)
            tier_best = max(tier_best, phrase_weight * s)
            if s == 1.0 and phrase in ind.keywords:
                exact_keywords += 1
        if tier_best > 0 and exact_keywords > 1:
            tier_best += 0.1 * min(2, exact_keywords - 1)
        best = max(best, weight * tier_best)
    return best


def _service_f1(service_name: str, text: str) -> float:
    a = set(_content_tokens(service_name))
    b = set(_content_tokens(text))
    common = len(a & b)
    if not common:
        return 0.0
    return 2 * common / (len(a) + len(b))


def match_service(
    texts: Sequence[str], registry: Registry, allowed: Sequence[str] | None = None
) -> tuple[str | None, float]:
    """The service whose name best matches the first text that names one clearly.

    >>> match_service(["Kết hôn"], load_registry())
    ('DV14', 0.67)
    """
    candidates = [s for s in registry.services.values() if allowed is None or s.code in allowed]
    for text in texts:
        if not text or not text.strip():
            continue
        scored = sorted(((_service_f1(s.name_vi, text), s.code) for s in candidates), reverse=True)
        if scored and scored[0][0] >= SERVICE_THRESHOLD:
            return scored[0][1], round(scored[0][0], 2)
    return None, 0.0


def _scores(
    reg: Registry, tiers: Sequence[_Text], weights: Sequence[float], unit: str | None, role: str | None
) -> list[tuple[float, str]]:
    """(score, indicator code) of every indicator with any evidence, best first."""
    scored: list[tuple[float, str]] = []
    generic = _generic_keywords(reg)
    # A generic phrase counts fully only when the statement says nothing more specific.
    specific = any(
        _phrase_score(kw, text, partial=False) == 1.0
        for ind in reg.indicators.values()
        for kw in ind.keywords
        if kw not in generic[ind.code]
        for text in tiers[:2]
    )
    for ind in reg.indicators.values():
        score = _indicator_score(ind, tiers, weights, generic[ind.code] if specific else frozenset())
        if score == 0.0:
            continue
        ind_unit = normalise_unit(ind.count_unit)
        if unit is not None and ind_unit is not None:
            same = UNIT_FAMILY.get(unit, unit) == UNIT_FAMILY.get(ind_unit, ind_unit)
            score = score * 1.2 if same else score * 0.4
        if role and _DEPARTMENT_ROLE.match(role) and role not in ind.reporters:
            score *= 0.9
        scored.append((score, ind.code))
    scored.sort(reverse=True)
    return scored


def map_statement(
    *,
    label: str,
    sentence: str,
    surroundings: str,
    count_unit: str | None,
    heading: str = "",
    service_texts: Sequence[str] = (),
    role: str | None = None,
    registry: Registry | None = None,
) -> MappingResult:
    """Choose the indicator (and service) that a statement reports, with a confidence.

    >>> map_statement(label="đã làm sạch dữ liệu và số hóa", sentence="", surroundings="",
    ...               count_unit=None, registry=load_registry()).indicator_code
    'HN_CLEANED'
    """
    reg = registry if registry is not None else load_registry()
    tiers = (_Text.of(label), _Text.of(sentence), _Text.of(heading), _Text.of(surroundings))
    unit = normalise_unit(count_unit)
    # The heading speaks only when the statement's own label and clause give no indicator.
    scored = _scores(reg, tiers, (*_TIER_WEIGHTS[:2], 0.0, _TIER_WEIGHTS[3]), unit, role)
    by_heading = False
    if not scored or scored[0][0] < ASSIGN_THRESHOLD:
        scored = _scores(reg, tiers, _TIER_WEIGHTS, unit, role)
        by_heading = bool(heading)
    if not scored:
        return MappingResult(None, None, 0.0)
    best, code = scored[0]
    runner_up = scored[1][1] if len(scored) > 1 else None
    confidence = min(best, 1.0)
    if len(scored) > 1 and scored[1][0] >= best - 0.1:
        confidence *= 0.8
    confidence = round(confidence, 2)
    if confidence < ASSIGN_THRESHOLD:
        return MappingResult(None, None, confidence, runner_up=code)
    indicator = reg.indicators[code]
    if not indicator.has_service:
        return MappingResult(code, NO_SERVICE, confidence, runner_up, by_heading)
    allowed = indicator.services_for(role) if role else ()
    service, service_conf = match_service(service_texts, reg)
    if service is None:
        # The indicator is clear but the service is not named: keep the indicator.
        return MappingResult(code, None, round(max(confidence * 0.8, ASSIGN_THRESHOLD), 2), runner_up, by_heading)
    if allowed and service not in allowed:
        confidence *= 0.9
    return MappingResult(code, service, round(min(confidence, 0.5 + service_conf / 2), 2), runner_up, by_heading)
