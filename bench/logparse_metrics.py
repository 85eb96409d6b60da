"""Log-parsing accuracy metrics: GA, PA, FGA and FTA.

Definitions (as used by the Loghub-2k literature, see ../shared/data/loghub-2k/README.md):

* GA (grouping accuracy, Zhu et al. ICSE'19): a line is right when the set of lines in its
  predicted group equals the set of lines in its true group; GA is the share of such lines.
* PA (parsing accuracy, Dai et al.): the share of lines whose predicted template text equals
  the true template (compared after folding whitespace).
* FGA (F1 of grouping accuracy, Jiang et al. ISSTA'24): precision = correctly grouped predicted
  groups / predicted groups, recall = correctly grouped groups / true groups.
* FTA (F1 of template accuracy, Khan et al. ICSE'22): like FGA, but a group also needs its
  template text to equal the true one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ParseScores:
    ga: float
    pa: float
    fga: float
    fta: float
    predicted_groups: int
    true_groups: int


def _norm(template: str) -> str:
    return " ".join(template.split())


def _f1(correct: int, predicted: int, truth: int) -> float:
    if predicted == 0 or truth == 0 or correct == 0:
        return 0.0
    precision = correct / predicted
    recall = correct / truth
    return 2 * precision * recall / (precision + recall)


def score(
    truth_templates: Sequence[str],
    predicted_groups: Sequence[Hashable],
    predicted_templates: Sequence[str],
) -> ParseScores:
    """Score one dataset: per-line true templates, predicted group keys and predicted templates."""
    if not (len(truth_templates) == len(predicted_groups) == len(predicted_templates)):
        raise ValueError("all three sequences must have one entry per line")
    true_members: dict[str, set[int]] = defaultdict(set)
    pred_members: dict[Hashable, set[int]] = defaultdict(set)
    for i, (t, p) in enumerate(zip(truth_templates, predicted_groups, strict=True)):
        true_members[_norm(t)].add(i)
        pred_members[p].add(i)
    correct_lines = 0
    correct_groups = 0
    correct_templates = 0
    for members in pred_members.values():
        first = next(iter(members))
        true_set = true_members[_norm(truth_templates[first])]
        if true_set == members:
            correct_lines += len(members)
            correct_groups += 1
            if _norm(predicted_templates[first]) == _norm(truth_templates[first]):
                correct_templates += 1
    n = len(truth_templates)
    pa_hits = sum(
        1 for t, p in zip(truth_templates, predicted_templates, strict=True) if _norm(t) == _norm(p)
    )
    return ParseScores(
        ga=correct_lines / n if n else 0.0,
        pa=pa_hits / n if n else 0.0,
        fga=_f1(correct_groups, len(pred_members), len(true_members)),
        fta=_f1(correct_templates, len(pred_members), len(true_members)),
        predicted_groups=len(pred_members),
        true_groups=len(true_members),
    )
