"""The assistant: asks a model to refine each deterministic diagnosis, within strict limits.

Why it is built this way:

- **Deterministic first.** It runs after every fixer has diagnosed, and only replaces text of a
  diagnosis with an answer that passed :func:`~aiops_copilot.llm.answer.check_answer`. Severity,
  grouping, routing and the domain are never touched, so a dead, slow or wrong model leaves
  exactly the analysis ``--llm none`` gives.
- **One gate.** The only provider object it holds is a :class:`GatedProvider`; the one redactor
  of the run lives inside it. Requests are sealed in the main thread in rank order, so the
  placeholder numbering (and with it the cache key) is the same on every run of the same logs.
- **Bounded.** A per-request timeout, a budget per analysis in seconds and in requests, at most
  ``max_in_flight`` requests at once (daemon threads: a hung server can never keep the process
  alive), one retry for an answer that fails a check, and after the first transport failure no
  more requests at all for the run -- a provider that is down stays down for a few seconds.
- **Quiet.** Each problem is one warning line through loguru; the analysis always completes.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from loguru import logger

from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.llm.answer import Answer, Rejection, answer_schema, check_answer
from aiops_copilot.llm.audit import AuditLog, default_audit_path
from aiops_copilot.llm.budget import RequestBudget
from aiops_copilot.llm.cache import AnswerCache, default_cache_dir
from aiops_copilot.llm.evidence_pack import EvidencePack, build_pack
from aiops_copilot.llm.gate import (
    BudgetExhausted,
    GatedProvider,
    Reply,
    open_provider,
    redaction_policy,
)
from aiops_copilot.llm.prompting import PromptBook, shipped_book
from aiops_copilot.llm.providers import AnswerFormatError, ProviderError
from aiops_copilot.llm.redact import Redactor
from aiops_copilot.llm.sealed import SealedRequest
from aiops_copilot.models import (
    Diagnosis,
    Hypothesis,
    HypothesisStatus,
    Incident,
    ModelProvenance,
    Severity,
)

if TYPE_CHECKING:
    from aiops_copilot.config import LlmSettings

__all__ = [
    "AssistLimits",
    "AssistReport",
    "Assistant",
    "Refiner",
    "apply_answer",
    "begin_refine",
    "build_assistant",
]

#: Remediation steps and commands a refined diagnosis lists at most (model's first).
MAX_STEPS = 10
MAX_COMMANDS = 8
#: Commands a model may propose that an on-call engineer must never paste blindly: dropped.
_DESTRUCTIVE = re.compile(
    r"\brm\s+-[a-z]*r[a-z]*f|\brm\s+-[a-z]*f[a-z]*r|\bmkfs\b|\bdd\s+[^|;]*of=/dev/"
    r"|\bdrop\s+(?:database|table|schema)\b|\btruncate\s+table\b|:\(\)\s*\{"
    r"|\bchmod\s+-R\s+777\s+/(?:\s|$)|>\s*/dev/sd[a-z]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AssistLimits:
    """Everything that bounds the assistant's cost, from ``[llm]`` in the configuration."""

    timeout: float = 60.0
    budget_seconds: float = 300.0
    max_requests: int = 40
    max_in_flight: int = 2
    pack_chars: int = 8000
    kb_confidence: float = 0.8
    min_severity: Severity = Severity.LOW

    @classmethod
    def from_settings(cls, settings: LlmSettings) -> AssistLimits:
        return cls(
            timeout=settings.timeout,
            budget_seconds=settings.budget_seconds,
            max_requests=settings.max_requests,
            max_in_flight=settings.max_in_flight,
            pack_chars=int(settings.pack_tokens * settings.chars_per_token),
            kb_confidence=settings.kb_confidence,
            min_severity=Severity(settings.min_severity),
        )

    def request_budget(self) -> RequestBudget:
        """A fresh budget for one analysis; its clock starts now."""
        return RequestBudget(
            timeout=self.timeout, seconds=self.budget_seconds, requests=self.max_requests
        )


@dataclass
class AssistReport:
    """What the assistant did in one analysis (``summary.llm`` in the JSON report)."""

    provider: str
    model: str
    incidents: int = 0
    refined: int = 0
    rejected: int = 0
    failed: int = 0
    skipped: int = 0
    requests: int = 0
    cached: int = 0
    shared: int = 0
    seconds: float = 0.0
    stopped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "incidents": self.incidents,
            "refined": self.refined,
            "rejected": self.rejected,
            "failed": self.failed,
            "skipped": self.skipped,
            "requests": self.requests,
            "cached": self.cached,
            "shared": self.shared,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }


class Refiner(Protocol):
    """What :func:`begin_refine` needs of an engine (the assistant, the CrewAI crew)."""

    provider: GatedProvider
    limits: AssistLimits
    report: AssistReport


def begin_refine(
    owner: Refiner, incidents: Sequence[Incident]
) -> tuple[float, list[Incident], AssistReport]:
    """Start one ``refine``: when it began, the incidents worth a model's time in the order
    given (worst first), and a fresh report counting them, already installed as
    ``owner.report`` so that ``summary()`` speaks of this run even when it stops at once.

    Why shared: both engines (this assistant and ``--engine crewai``) must ask about the same
    incidents -- diagnosed, at or above ``min_severity`` -- and report them alike, so the engine
    changes who asks the model, never what is asked about."""
    started = time.monotonic()
    floor = owner.limits.min_severity.rank
    chosen = [i for i in incidents if i.diagnosis is not None and i.severity.rank >= floor]
    report = owner.report = AssistReport(owner.provider.name, owner.provider.model)
    report.incidents = len(chosen)
    return started, chosen, report


@dataclass
class _Job:
    incident: Incident
    pack: EvidencePack
    messages: list[dict[str, str]]
    sealed: SealedRequest


@dataclass
class _Outcome:
    status: str  # accepted, rejected, failed, skipped
    detail: str = ""
    answer: Answer | None = None
    reply: Reply | None = None
    attempts: int = 0
    replies: list[Reply] = field(default_factory=list)


class Assistant:
    """Refines diagnoses in place: ``refine(incidents, kb)`` after the fixers ran."""

    def __init__(
        self,
        provider: GatedProvider,
        limits: AssistLimits | None = None,
        *,
        prompts: PromptBook | None = None,
    ) -> None:
        self.provider = provider
        self.limits = limits or AssistLimits()
        self.prompts = prompts or shipped_book()
        self.schema = answer_schema()
        self.report = AssistReport(provider.name, provider.model)

    def summary(self) -> dict[str, Any]:
        """What the last ``refine`` did (``summary.llm`` in the JSON report)."""
        return self.report.to_dict()

    def refine(self, incidents: Sequence[Incident], kb: KnowledgeBase) -> AssistReport:
        """Ask the model about each diagnosed incident (worst first) and apply valid answers."""
        started, chosen, report = begin_refine(self, incidents)
        if not chosen:
            return report
        budget = self.limits.request_budget()
        audit = self.provider.audit
        if audit is not None:
            audit.start(provider=self.provider.name, model=self.provider.model)
        jobs = [job for job in (self._prepare(i, kb) for i in chosen) if job is not None]
        report.skipped = len(chosen) - len(jobs)
        outcomes = _run_pool(
            [partial(self._consult, job, budget) for job in jobs],
            workers=self.limits.max_in_flight,
            wait=lambda: max(0.0, budget.remaining()) + 0.5,
        )
        for index, job in enumerate(jobs):
            outcome = outcomes.get(index) or _Outcome("skipped", "the time budget ran out")
            self._settle(job, outcome, report)
        report.requests = budget.requests
        report.stopped = budget.stopped
        report.seconds = time.monotonic() - started
        self._summarise(report)
        return report

    # -- steps ------------------------------------------------------------------------------

    def _prepare(self, incident: Incident, kb: KnowledgeBase) -> _Job | None:
        """Pack, prompt and seal one incident (in the main thread, in rank order, so that the
        placeholder numbering is the same on every run); None when that fails."""
        try:
            pack = build_pack(
                incident,
                kb,
                budget_chars=self.limits.pack_chars,
                kb_confidence=self.limits.kb_confidence,
            )
            messages = self.prompts.messages(pack)
            return _Job(incident, pack, messages, self.provider.seal(messages, self.schema))
        except Exception as exc:  # a bug here must cost the model's help, not the analysis
            logger.warning("llm: cannot prepare {}: {}: {}", incident.id, type(exc).__name__, exc)
            return None

    def _consult(self, job: _Job, budget: RequestBudget) -> _Outcome:
        """Ask, check, and on a failed check ask once more with the reason; never raises."""
        outcome = _Outcome("failed")
        request: SealedRequest | None = job.sealed
        messages = list(job.messages)
        for attempt in (1, 2):
            outcome.attempts = attempt
            try:
                if request is not None:
                    reply = self.provider.send(
                        request, permit=budget.permit, incident=job.incident.id
                    )
                else:
                    reply = self.provider.ask(
                        messages,
                        self.schema,
                        permit=budget.permit,
                        incident=job.incident.id,
                        purpose="retry",
                    )
            except BudgetExhausted:
                return _Outcome("skipped", budget.stopped or "budget exhausted", attempts=attempt)
            except AnswerFormatError as exc:
                reason, raw = str(exc), None
            except ProviderError as exc:
                if budget.trip(str(exc)):
                    logger.warning(
                        "llm: {}; continuing without the model (deterministic diagnoses kept)",
                        exc,
                    )
                return _Outcome("failed", str(exc), attempts=attempt)
            else:
                outcome.replies.append(reply)
                try:
                    answer = check_answer(reply.answer, job.pack)
                except Rejection as exc:
                    reason, raw = str(exc), reply.raw
                else:
                    self.provider.remember(reply)
                    return _Outcome("accepted", "", answer, reply, attempt, outcome.replies)
            outcome.detail = reason
            if attempt == 1:
                request = None
                if raw is not None:
                    messages.append({"role": "assistant", "content": json.dumps(raw)})
                messages.append({"role": "user", "content": self.prompts.retry(reason, job.pack)})
        outcome.status = "rejected"
        return outcome

    def _settle(self, job: _Job, outcome: _Outcome, report: AssistReport) -> None:
        """Apply an accepted answer (main thread only) and record the verdict."""
        for reply in outcome.replies:
            report.cached += reply.cached
            report.shared += reply.shared
        incident = job.incident
        if outcome.status == "accepted" and outcome.answer and incident.diagnosis:
            accepted = outcome.reply
            apply_answer(
                incident.diagnosis,
                outcome.answer,
                job.pack,
                provider=self.provider.name,
                model=self.provider.model,
                cached=bool(accepted and (accepted.cached or accepted.shared)),
            )
            report.refined += 1
        elif outcome.status == "rejected":
            report.rejected += 1
            logger.warning(
                "llm: answer for {} rejected twice ({}); deterministic diagnosis kept",
                incident.id,
                outcome.detail,
            )
        elif outcome.status == "failed":
            report.failed += 1
        else:
            report.skipped += 1
        audit = self.provider.audit
        if audit is not None:
            audit.verdict(incident=incident.id, outcome=outcome.status, detail=outcome.detail)

    def _summarise(self, report: AssistReport) -> None:
        kept = report.incidents - report.refined
        if report.stopped and report.stopped.startswith("budget") and report.skipped:
            logger.warning(
                "llm: {}; {} incident(s) keep the deterministic diagnosis",
                report.stopped,
                report.skipped,
            )
        logger.info(
            "llm: {} of {} incident(s) refined by {} {} ({} request(s), {} cached, {:.1f} s); "
            "{} kept the deterministic diagnosis",
            report.refined,
            report.incidents,
            report.provider,
            report.model,
            report.requests,
            report.cached,
            report.seconds,
            kept,
        )


def apply_answer(
    diagnosis: Diagnosis,
    answer: Answer,
    pack: EvidencePack,
    *,
    provider: str,
    model: str,
    cached: bool = False,
) -> None:
    """Write a checked answer into the diagnosis and record which parts came from the model.

    The model's title and root cause replace the fixer's (kept in ``llm.deterministic``); its
    hypotheses, steps and commands come first, followed by the fixer's own ones it did not
    repeat, so nothing the knowledge base said is lost.
    """
    replaced = {"title": diagnosis.title, "root_cause": diagnosis.root_cause}
    fields = ["title", "root_cause", "hypotheses"]
    hypotheses = [
        Hypothesis(
            cause=h.cause,
            status=HypothesisStatus(h.status),
            because=_cited(h.because, h.evidence, pack),
            score=_score(rank, h.status, answer.confidence),
        )
        for rank, h in enumerate(answer.hypotheses)
    ]
    known = {h.cause.casefold() for h in hypotheses}
    diagnosis.hypotheses = hypotheses + [
        h for h in diagnosis.hypotheses if h.cause.casefold() not in known
    ]
    steps = list(dict.fromkeys(answer.remediation))
    commands = [c for c in dict.fromkeys(answer.commands) if not _DESTRUCTIVE.search(c)]
    if steps:
        fields.append("remediation")
        diagnosis.remediation = (steps + [s for s in diagnosis.remediation if s not in steps])[
            : max(MAX_STEPS, len(steps))
        ]
    if commands:
        fields.append("commands")
        diagnosis.commands = (commands + [c for c in diagnosis.commands if c not in commands])[
            : max(MAX_COMMANDS, len(commands))
        ]
    diagnosis.title = answer.title
    diagnosis.root_cause = answer.root_cause
    cited = answer.all_citations()
    diagnosis.llm = ModelProvenance(
        provider=provider,
        model=model,
        fields=fields,
        confidence=answer.confidence,
        domain=answer.domain,
        cited=cited,
        citations={i: pack.label(i) for i in cited},
        model_items={
            "hypotheses": len(hypotheses),
            "remediation": len(steps) if steps else 0,
            "commands": len(commands),
        },
        deterministic=replaced,
        cached=cached,
    )


def _cited(because: str, ids: Sequence[str], pack: EvidencePack) -> str:
    if not ids:
        return because
    where = "; ".join(f"{i}: {_clip(pack.label(i), 60)}" for i in ids[:4])
    return f"{because} [{where}]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _score(rank: int, status: str, confidence: float) -> float:
    if status == "ruled_out":
        return 0.05
    base = confidence * (1.0 - 0.12 * rank)
    if status == "possible":
        base *= 0.6
    return round(max(0.05, min(1.0, base)), 3)


def _run_pool(
    jobs: Sequence[Callable[[], _Outcome]], *, workers: int, wait: Callable[[], float]
) -> dict[int, _Outcome]:
    """Run jobs on at most ``workers`` daemon threads; return what finished in time.

    Daemon threads, not an executor: at exit Python joins an executor's threads, so one
    request stuck in a dead server would hold the finished analysis hostage.
    """
    pending: queue.Queue[tuple[int, Callable[[], _Outcome]]] = queue.Queue()
    for index, job in enumerate(jobs):
        pending.put((index, job))
    results: dict[int, _Outcome] = {}
    lock = threading.Lock()
    finished = threading.Event()

    def work() -> None:
        while True:
            try:
                index, job = pending.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = job()
            except Exception as exc:  # a bug here must cost the model's help, not the analysis
                outcome = _Outcome("failed", f"assistant error: {type(exc).__name__}: {exc}")
                logger.warning("llm: {}", outcome.detail)
            with lock:
                results[index] = outcome
                if len(results) == len(jobs):
                    finished.set()

    for number in range(max(1, min(workers, len(jobs)))):
        threading.Thread(target=work, name=f"aiops-llm-{number}", daemon=True).start()
    while not finished.wait(timeout=min(max(wait(), 0.0), 0.5)):
        if wait() <= 0:
            break
    with lock:
        return dict(results)


def build_assistant(settings: LlmSettings) -> Assistant:
    """The assistant for one analysis: one redactor, the audit, the cache, the gated provider.

    Raises :class:`~aiops_copilot.llm.providers.LlmSetupError` (one line) when the model
    cannot be used as configured."""
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}"
    audit = AuditLog(default_audit_path(), run_id) if settings.audit else None
    cache = AnswerCache(default_cache_dir()) if settings.cache else None
    redactor = Redactor(redaction_policy(settings))
    provider = open_provider(settings, redactor, audit=audit, cache=cache)
    return Assistant(provider, AssistLimits.from_settings(settings))
