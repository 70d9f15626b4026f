"""Step 5: activities — the calls, meetings, notes, emails and tasks reps log on their contacts.

Intuition: each stage a sales-owned contact passes through is a window of time (from entering
the stage to leaving it, or now); the window gets the work that stage involves — call attempts
for a new MQL, a discovery meeting for an SQL, a demo and a proposal for an opportunity, a
kick-off and check-ins for a customer. Contacts still in play get a next-step task, some of
them overdue.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from tandem.crm.models import Activity, Contact, LifecycleChange, TimelineEvent
from tandem.demo.context import DemoContext, insert
from tandem.demo.data import (
    CALL_ATTEMPT_NOTES,
    EMAIL_SUBJECTS,
    MEETING_NOTES,
    MEETING_SUBJECTS,
    NOTE_TEXTS,
    PRODUCTS,
    QUALIFICATION_NOTES,
    TASK_SUBJECTS,
)
from tandem.demo.generators.lifecycle import RECYCLE_REASON
from tandem.demo.sampling import at_business_time, delay

ACTIVE_STAGES = {"lead", "mql", "sql", "opportunity"}
STALE_AFTER_DAYS = 90  # a contact this long in one stage has stalled; reps stop planning calls
STALE_TASK_SHARE = 0.05  # ... but a few forgotten follow-ups stay overdue
NEVER_DONE_SHARE = 0.03  # tasks reps forget
CHECK_IN_SHARE = 0.3  # customers with a check-in planned

SOURCE_PHRASES = {
    "organic_search": "visit to our website",
    "paid_search": "demo request",
    "email": "newsletter click",
    "organic_social": "LinkedIn comment",
    "paid_social": "LinkedIn form",
    "referral": "referral",
    "direct": "sign-up",
    "events": "event visit",
    "outbound": "reply to our email",
}


def run(ctx: DemoContext) -> None:
    """Log activities for every sales-owned contact, each with its timeline event."""
    rng = ctx.rng("activities")
    activities: list[Activity] = []
    for contact in ctx.contact_rows:
        if contact.owner is not None:
            activities.extend(_Log(ctx, rng, contact, ctx.history[contact.pk]).build())
    insert(activities)
    events = []
    for activity in activities:
        events.append(
            TimelineEvent(
                type=f"activity_{activity.kind}",
                idempotency_key=f"activity:{activity.pk}",
                occurred_at=activity.occurred_at,
                contact_id=activity.contact_id,
                company_id=activity.company_id,
                actor_id=activity.owner_id,
                properties={
                    "activity_id": activity.pk,
                    "subject": activity.subject,
                    "outcome": activity.call_outcome,
                    "duration_seconds": activity.duration_seconds,
                    # Only when set, as crm.services.log_activity writes them.
                    **({"direction": activity.direction} if activity.direction else {}),
                    **({"deal_id": activity.deal_id} if activity.deal_id else {}),
                },
            )
        )
        if activity.done_at is not None:
            events.append(
                TimelineEvent(
                    type="task_completed",
                    idempotency_key=f"task_completed:{activity.pk}",
                    occurred_at=activity.done_at,
                    contact_id=activity.contact_id,
                    company_id=activity.company_id,
                    actor_id=activity.owner_id,
                    properties={"activity_id": activity.pk, "subject": activity.subject},
                )
            )
    insert(events)
    ctx.counts.update(activities=len(activities), events=len(events))


class _Log:
    """The activities on one contact, stage window by stage window."""

    def __init__(
        self, ctx: DemoContext, rng: random.Random, contact: Contact, history: list[LifecycleChange]
    ) -> None:
        self.ctx, self.rng, self.contact, self.history = ctx, rng, contact, history
        # Plain ids: setting related objects on thousands of rows is measurably slow.
        self.owner_id = contact.owner_id
        self.team_id = contact.owner.team_id if contact.owner is not None else None
        self.team_key = ctx.people[contact.pk].territory.team
        # The contact's deal (sales step): work logged while it is open is the deal's.
        self.deal = ctx.deal_windows.get(contact.pk)
        self.out: list[Activity] = []
        company = contact.company
        info = ctx.company_info.get(company.pk) if company is not None else None
        employees = (company.employees if company is not None else None) or 10
        self.words: dict[str, Any] = {
            "company": company.name if company is not None else "their company",
            "first_name": contact.first_name,
            "title": contact.title or "contact",
            "industry": info.industry.name.lower() if info else "their industry",
            "product": rng.choice(PRODUCTS),
            "seats": max(3, min(250, employees // rng.randint(8, 30))),
            "months": rng.randint(2, 11),
            "team_size": max(2, min(40, employees // 10)),
            "source_phrase": SOURCE_PHRASES.get(contact.original_source, "interest"),
        }

    def build(self) -> list[Activity]:
        windows = self._windows()
        for stage, start, end, next_stage in windows:
            handler = getattr(self, f"_{stage}", None)
            if handler is not None:
                handler(start, end, next_stage)
        final = self.history[-1]
        if final.to_stage == "disqualified":
            self._add(
                "note",
                final.changed_at,
                subject="Disqualified",
                body=final.reason[:1].upper() + final.reason[1:] + ".",
            )
        elif final.to_stage in ACTIVE_STAGES and windows:
            self._next_step(final)
        elif final.to_stage in ("customer", "evangelist") and self.rng.random() < CHECK_IN_SHARE:
            due = self.ctx.now + timedelta(days=self.rng.uniform(2, 30))
            self._add(
                "task",
                max(final.changed_at, self.ctx.now - timedelta(days=self.rng.uniform(1, 20))),
                subject=self._fmt(TASK_SUBJECTS["customer"][1]),
                due_at=due.replace(hour=17, minute=0, second=0, microsecond=0),
            )
        return self.out

    def _windows(self) -> list[tuple[str, datetime, datetime, str]]:
        """(stage, entered, left-or-now, next stage) for every stage the owner worked."""
        windows = []
        for i, change in enumerate(self.history):
            following = self.history[i + 1] if i + 1 < len(self.history) else None
            end = following.changed_at if following else self.ctx.now
            owned_lead = change.to_stage == "lead" and self.contact.original_source == "outbound"
            if (
                change.to_stage in {"mql", "sql", "opportunity", "customer", "evangelist"}
                or owned_lead
            ):
                windows.append(
                    (
                        change.to_stage,
                        change.changed_at,
                        end,
                        following.to_stage if following else "",
                    )
                )
        return windows

    # --- one method per stage -------------------------------------------------------------

    def _lead(self, start: datetime, end: datetime, next_stage: str) -> None:
        """Outbound prospecting: emails and calls until the lead responds."""
        at: datetime | None = start
        for i in range(self.rng.randint(1, 3)):
            at = self._slot(at, 3, end)
            if at is None:
                return
            if i % 2 == 0:
                self._add("email", at, subject=self._fmt(self.rng.choice(EMAIL_SUBJECTS)))
            else:
                self._call(at, self.rng.choice(["no_answer", "left_voicemail"]))

    def _mql(self, start: datetime, end: datetime, next_stage: str) -> None:
        """Speed to lead: call attempts, and the qualifying conversation if sales accepts."""
        at: datetime | None = start
        for _ in range(self.rng.randint(1, 3)):
            at = self._slot(at, 1, end)
            if at is None:
                break
            self._call(
                at,
                self.rng.choice(["no_answer", "left_voicemail", "left_voicemail", "busy"]),
                body=self._fmt(self.rng.choice(CALL_ATTEMPT_NOTES)),
            )
        if next_stage == "sql":
            call_at = end - timedelta(minutes=self.rng.randint(20, 90))
            if call_at > start:
                self._call(
                    call_at, "connected", body=self._fmt(self.rng.choice(QUALIFICATION_NOTES))
                )

    def _sql(self, start: datetime, end: datetime, next_stage: str) -> None:
        """Discovery: a meeting, its notes and the recap task."""
        meeting = self._slot(start, 3, end)
        if meeting is None:
            return
        minutes = self.rng.choice([30, 30, 45, 60])
        self._add(
            "meeting",
            meeting,
            subject=self._fmt(self.rng.choice(MEETING_SUBJECTS["sql"])),
            body=self._fmt(self.rng.choice(MEETING_NOTES)),
            duration_seconds=minutes * 60,
        )
        after = meeting + timedelta(minutes=minutes + self.rng.randint(5, 60))
        if after < end:
            self._add(
                "note",
                after,
                subject="Discovery notes",
                body=self._fmt(self.rng.choice(NOTE_TEXTS["sql"])),
            )
            self._task(after, "sql")
        if self.rng.random() < 0.5 and (email := self._slot(after, 2, end)) is not None:
            self._add("email", email, subject=self._fmt(self.rng.choice(EMAIL_SUBJECTS)))

    def _opportunity(self, start: datetime, end: datetime, next_stage: str) -> None:
        """The deal: demo, proposal, calls and notes."""
        at: datetime | None = self._slot(start, 4, end)
        if at is None:
            return
        self._add(
            "meeting",
            at,
            subject=self._fmt(MEETING_SUBJECTS["opportunity"][0]),
            body=self._fmt(self.rng.choice(MEETING_NOTES)),
            duration_seconds=3600,
        )
        at = self._slot(at, 4, end)
        if at is None:
            return
        self._task(at, "opportunity", subject=self._fmt(TASK_SUBJECTS["opportunity"][0]))
        self._add("note", at, subject="Proposal", body=self._fmt(NOTE_TEXTS["opportunity"][0]))
        for _ in range(self.rng.randint(1, 4)):
            at = self._slot(at, 6, end)
            if at is None:
                return
            kind = self.rng.choice(["call", "call", "note", "meeting", "email"])
            if kind == "call":
                self._call(at, self.rng.choice(["connected", "connected", "left_voicemail"]))
            elif kind == "note":
                self._add(
                    "note",
                    at,
                    subject="Deal update",
                    body=self._fmt(self.rng.choice(NOTE_TEXTS["opportunity"][1:])),
                )
            elif kind == "meeting":
                self._add(
                    "meeting",
                    at,
                    subject=self._fmt(self.rng.choice(MEETING_SUBJECTS["opportunity"][1:])),
                    body=self._fmt(self.rng.choice(MEETING_NOTES)),
                    duration_seconds=45 * 60,
                )
            else:
                self._add("email", at, subject=self._fmt(self.rng.choice(EMAIL_SUBJECTS)))

    def _customer(self, start: datetime, end: datetime, next_stage: str) -> None:
        """Closed won: the hand-over, a kick-off and regular check-ins."""
        self._add("note", start, subject="Closed won", body=self._fmt(NOTE_TEXTS["customer"][0]))
        at: datetime | None = self._slot(start, 7, end)
        if at is None:
            return
        self._add(
            "meeting",
            at,
            subject=self._fmt(MEETING_SUBJECTS["customer"][0]),
            body=self._fmt(NOTE_TEXTS["customer"][1]),
            duration_seconds=3600,
        )
        while (at := self._slot(at, 75, end)) is not None:
            if self.rng.random() < 0.6:
                self._call(at, "connected", subject=self._fmt("Check-in with {first_name}"))
            else:
                self._add(
                    "meeting",
                    at,
                    subject=self._fmt(MEETING_SUBJECTS["customer"][1]),
                    duration_seconds=3600,
                )

    def _evangelist(self, start: datetime, end: datetime, next_stage: str) -> None:
        """An advocate: the reference note."""
        self._add(
            "note", start, subject="Reference customer", body=self._fmt(NOTE_TEXTS["customer"][2])
        )

    # --- building blocks ------------------------------------------------------------------

    def _next_step(self, final: LifecycleChange) -> None:
        """The open task a rep has on a contact still in play: due soon, or already overdue."""
        now = self.ctx.now
        if final.reason == RECYCLE_REASON:
            return
        if (now - final.changed_at).days > STALE_AFTER_DAYS:
            if self.rng.random() >= STALE_TASK_SHARE:
                return
            due = now - timedelta(days=self.rng.uniform(20, 80))
        else:
            due = now + timedelta(days=self.rng.uniform(-4, 14))
        created = max(
            final.changed_at + timedelta(minutes=10), due - timedelta(days=self.rng.uniform(2, 7))
        )
        if created >= now:
            return
        stage = final.to_stage if final.to_stage in TASK_SUBJECTS else "mql"
        self._add(
            "task",
            created,
            subject=self._fmt(self.rng.choice(TASK_SUBJECTS[stage])),
            due_at=due.replace(hour=17, minute=0, second=0, microsecond=0),
        )

    def _task(self, at: datetime, stage: str, *, subject: str | None = None) -> None:
        """A task created at `at`, due a few days later, usually done (if its time has come)."""
        due = (at + timedelta(days=self.rng.randint(1, 5))).replace(
            hour=17, minute=0, second=0, microsecond=0
        )
        done: datetime | None = None
        if self.rng.random() >= NEVER_DONE_SHARE:
            done = at_business_time(
                self.rng, at + (due - at) * self.rng.uniform(0.2, 1.3), self.team_key
            )
            done = max(done, at + timedelta(minutes=15))
            if done >= self.ctx.now:
                done = None
        self._add(
            "task",
            at,
            subject=subject or self._fmt(self.rng.choice(TASK_SUBJECTS[stage])),
            due_at=due,
            done_at=done,
        )

    def _call(self, at: datetime, outcome: str, *, body: str = "", subject: str = "") -> None:
        seconds = {
            "connected": self.rng.randint(4, 35) * 60,
            "left_voicemail": self.rng.randint(25, 90),
        }
        self._add(
            "call",
            at,
            subject=subject or self._fmt("Call with {first_name}"),
            body=body,
            call_outcome=outcome,
            duration_seconds=seconds.get(outcome),
        )

    def _slot(self, after: datetime | None, mean_days: float, end: datetime) -> datetime | None:
        """A moment some days after `after`, or None when it would leave the window."""
        if after is None:
            return None
        at = delay(self.rng, after, mean_days=mean_days, team=self.team_key, min_hours=0.5)
        return at if at < end and at < self.ctx.now else None

    def _fmt(self, template: str) -> str:
        return template.format_map(self.words)

    def _add(
        self,
        kind: str,
        at: datetime,
        *,
        subject: str = "",
        body: str = "",
        call_outcome: str = "",
        duration_seconds: int | None = None,
        due_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> None:
        self.out.append(
            Activity(
                kind=kind,
                subject=subject[:255],
                body=body,
                contact_id=self.contact.pk,
                company_id=self.contact.company_id,
                owner_id=self.owner_id,
                team_id=self.team_id,
                occurred_at=at,
                call_outcome=call_outcome,
                duration_seconds=duration_seconds,
                due_at=due_at,
                done_at=done_at,
                direction="outbound" if kind == "email" else "",
                deal_id=self._deal_at(at),
            )
        )

    def _deal_at(self, at: datetime) -> int | None:
        """The contact's deal when it was open at `at` (its work carries the deal's id)."""
        if self.deal is None:
            return None
        deal_id, created, closed = self.deal
        return deal_id if created <= at and (closed is None or at <= closed) else None
