"""How much a statistical signal should count, given what the template itself says.

Novelty, bursts and broken sessions are evidence that *something changed*; whether the change
is a problem depends on the template. A new ERROR template is worth an incident, a new INFO
line is usually a feature nobody announced, a new DEBUG line is noise. The statistical detectors
ask this module once per template, and it asks the severity detector, so "looks like an error"
has one definition in the whole program.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiops_copilot.detect.severity import severity_signal
from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.models import Level, Severity


@dataclass(frozen=True, slots=True)
class Tone:
    """What a template sounds like: ``failure`` (errors), ``warning``, ``chatter`` or ``debug``."""

    name: str
    #: Added to a statistical score: a failure that is also new/bursting is strong evidence.
    boost: float
    #: Multiplies the statistical part: debug chatter changing rate is rarely worth a look.
    weight: float
    #: Highest severity a statistical signal on this template may claim.
    severity: Severity


FAILURE = Tone("failure", boost=0.3, weight=1.0, severity=Severity.MEDIUM)
WARNING = Tone("warning", boost=0.12, weight=1.0, severity=Severity.LOW)
CHATTER = Tone("chatter", boost=0.0, weight=1.0, severity=Severity.INFO)
DEBUG = Tone("debug", boost=0.0, weight=0.5, severity=Severity.INFO)


def tone_of(stats: TemplateStats) -> Tone:
    """The template's tone from its levels, HTTP statuses, exit codes and failure words."""
    found = severity_signal(stats)
    if found is not None:
        return FAILURE if found.severity.rank >= Severity.MEDIUM.rank else WARNING
    level = stats.max_level
    if Level.UNKNOWN < level <= Level.DEBUG:
        return DEBUG
    return CHATTER
