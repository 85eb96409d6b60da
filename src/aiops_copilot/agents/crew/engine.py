"""``--engine crewai``: the model-assisted step of an analysis, run as a CrewAI crew.

What runs where, and why:

- The classifier and the six fixers run first, exactly as with the built-in engine (the
  orchestrator calls this engine through the same ``refine`` hook as the built-in assistant),
  so routing, grouping, severity and every deterministic diagnosis are identical; the crew can
  only refine a diagnosis' text, through the same checks.
- The crew has one CrewAI agent per fixer domain (``roster.yaml``). Each incident chosen for the
  model becomes one task, assigned to the agent of the domain the incident was routed to, whose
  description is the incident's evidence pack rendered by the same prompt files the built-in
  assistant uses -- sealed (redacted) *before* CrewAI sees it. Tasks share no context.
- Each task's guardrail is :func:`~aiops_copilot.llm.answer.check_answer`: schema, citations,
  no contradiction of a strong knowledge-base match. A rejected answer is sent back once with
  the reason (CrewAI's guardrail retry); a second rejection keeps the deterministic diagnosis
  and lets the crew go on to the next incident.
- The agents' model is :func:`~aiops_copilot.agents.crew.bridge.gated_llm`: every request goes
  through the run's gated provider (redaction, audit, cache, budget); none through CrewAI's own
  clients. The crew runs its tasks one at a time (``llm.max_in_flight`` does not apply).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger

from aiops_copilot.agents.crew.bridge import CrewHalt, Exchange, ModelLine, gated_llm
from aiops_copilot.agents.crew.offline import CrewApi
from aiops_copilot.agents.crew.roster import Roster, build_agents, load_roster
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.llm.answer import Answer, Rejection, answer_schema, check_answer
from aiops_copilot.llm.assist import AssistLimits, AssistReport, apply_answer, begin_refine
from aiops_copilot.llm.evidence_pack import EvidencePack, build_pack
from aiops_copilot.llm.gate import GatedProvider
from aiops_copilot.llm.prompting import PromptBook, shipped_book
from aiops_copilot.models import Incident

__all__ = ["ENGINE", "CrewEngine"]

ENGINE = "crewai"
#: Context window the agents declare to CrewAI (it only uses it for its own estimates).
CONTEXT_TOKENS = 32768


@dataclass
class _Job:
    """One incident's task: its pack, the sealed prompt CrewAI gets, and the verdict."""

    incident: Incident
    pack: EvidencePack
    description: str
    answer: Answer | None = None
    rejection: str | None = None
    rejections: int = 0


class CrewEngine:
    """Refines diagnoses in place with a crew: ``refine(incidents, kb)`` after the fixers ran."""

    def __init__(
        self,
        api: CrewApi,
        provider: GatedProvider,
        limits: AssistLimits | None = None,
        *,
        prompts: PromptBook | None = None,
        roster: Roster | None = None,
    ) -> None:
        self.api = api
        self.provider = provider
        self.limits = limits or AssistLimits()
        self.prompts = prompts or shipped_book()
        self.roster = roster or load_roster()
        self.schema = answer_schema()
        self.report = AssistReport(provider.name, provider.model)

    def summary(self) -> dict[str, Any]:
        """What the last ``refine`` did (``summary.llm`` in the JSON report), engine named."""
        return {**self.report.to_dict(), "engine": ENGINE, "crewai": self.api.version}

    def refine(self, incidents: Sequence[Incident], kb: KnowledgeBase) -> AssistReport:
        """Run one crew over the incidents worth a model's time (worst first); never raises."""
        started, chosen, report = begin_refine(self, incidents)
        if not chosen:
            return report
        if self.provider.audit is not None:
            self.provider.audit.start(
                provider=self.provider.name, model=self.provider.model, engine=ENGINE
            )
        budget = self.limits.request_budget()
        line = ModelLine(self.provider, self.schema, budget)
        jobs = [self._prepare(incident, kb) for incident in chosen]  # sealed in rank order
        self._kickoff(jobs, line)
        for job in jobs:
            self._settle(job, line.exchanges.get(job.incident.id), report, budget.stopped)
        report.requests = budget.requests
        report.stopped = budget.stopped
        report.seconds = time.monotonic() - started
        logger.info(
            "llm: crewai crew refined {} of {} incident(s) with {} {} ({} request(s), {:.1f} s)",
            report.refined,
            report.incidents,
            report.provider,
            report.model,
            report.requests,
            report.seconds,
        )
        return report

    # -- steps ------------------------------------------------------------------------------

    def _prepare(self, incident: Incident, kb: KnowledgeBase) -> _Job:
        pack = build_pack(
            incident,
            kb,
            budget_chars=self.limits.pack_chars,
            kb_confidence=self.limits.kb_confidence,
        )
        prompt = [{"role": "user", "content": self.prompts.incident(pack)}]
        sealed = self.provider.seal(prompt, self.schema)
        return _Job(incident, pack, str(sealed.messages()[0]["content"]))

    def _kickoff(self, jobs: list[_Job], line: ModelLine) -> None:
        """Build the crew and run it; a stop or a CrewAI failure costs the model's help only."""
        api = self.api
        try:
            llm = gated_llm(api.BaseLLM, line, context_tokens=CONTEXT_TOKENS)
            agents = build_agents(api.Agent, self.roster, llm, self.prompts.system())
            tasks = [
                api.Task(
                    name=job.incident.id,
                    description=job.description,
                    expected_output=self.roster.expected_output,
                    agent=agents.get(job.pack.domain, agents["application"]),
                    context=[],
                    guardrail=self._guard(job),
                    guardrail_max_retries=1,
                )
                for job in jobs
            ]
            crew = api.Crew(
                agents=list(agents.values()),
                tasks=tasks,
                process=api.Process.sequential,
                tracing=False,
                memory=False,
                cache=False,
                planning=False,
                verbose=False,
            )
            crew.kickoff()
        except CrewHalt:
            pass  # the bridge warned once; the remaining incidents keep their diagnoses
        except Exception as exc:  # CrewAI's own failure must not cost the analysis
            text = " ".join(str(exc).split())[:300] or type(exc).__name__
            logger.warning("crewai: {}; deterministic diagnoses kept", text)

    def _guard(self, job: _Job) -> Any:
        """The task's guardrail: the answer checks, or the reason (sent back once)."""

        def guard(output: Any) -> tuple[bool, Any]:
            raw_text = str(getattr(output, "raw", "") or "")
            try:
                raw = json.loads(raw_text)
                if not isinstance(raw, dict):
                    raise ValueError
            except ValueError:
                reason = "the answer is not one JSON object"
            else:
                try:
                    # Checked as the model wrote it (placeholders), so no restored value ever
                    # reaches CrewAI in a retry note; then restored for the diagnosis.
                    check_answer(raw, job.pack)
                    job.answer = check_answer(self.provider.restore(raw), job.pack)
                    job.rejection = None
                    return True, output
                except Rejection as exc:
                    reason = str(exc)
            job.rejection = reason
            job.rejections += 1
            if job.rejections >= 2:
                return True, output  # given up: the deterministic diagnosis stands
            return False, self.prompts.retry(reason, job.pack)

        # CrewAI inspects a guardrail's return annotation and, under postponed annotations,
        # sees a string it refuses; an unannotated lambda passes its check.
        return lambda output: guard(output)

    def _settle(
        self, job: _Job, exchange: Exchange | None, report: AssistReport, stopped: str | None
    ) -> None:
        """Apply an accepted answer and record the verdict, as the built-in assistant does."""
        incident = job.incident
        replies = exchange.replies if exchange else []
        for reply in replies:
            report.cached += reply.cached
            report.shared += reply.shared
        if job.answer is not None and incident.diagnosis is not None and replies:
            accepted = replies[-1]
            self.provider.remember(accepted)
            apply_answer(
                incident.diagnosis,
                job.answer,
                job.pack,
                provider=f"{self.provider.name} via crewai",
                model=self.provider.model,
                cached=accepted.cached or accepted.shared,
            )
            outcome, detail = "accepted", ""
            report.refined += 1
        elif job.rejections >= 2 and job.rejection is not None:
            outcome, detail = "rejected", job.rejection
            report.rejected += 1
            logger.warning(
                "llm: answer for {} rejected twice ({}); deterministic diagnosis kept",
                incident.id,
                job.rejection,
            )
        elif exchange is not None and exchange.attempts:
            # Asked, but the run stopped (or the crew failed) before an answer passed.
            outcome = "failed"
            detail = stopped or job.rejection or exchange.format_error or "no answer"
            report.failed += 1
        else:
            outcome, detail = "skipped", "the crew stopped before this incident"
            report.skipped += 1
        if self.provider.audit is not None:
            self.provider.audit.verdict(incident=incident.id, outcome=outcome, detail=detail)
