"""The outbox: one keyed row per post the bot owes Slack, written with the fact it follows from.

A row holds the kind of effect and the ids it is about, never rendered text: the sender renders
the message from the database when it sends it, so what goes out is always current. The key is
unique, so the same effect is queued at most once however often the code that queues it runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    delete,
    func,
    text,
    update,
)
from sqlalchemy import (
    select as core_select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import utc_column

KEY_MAX = 200
KIND_MAX = 40
TARGET_MAX = 80
ERROR_MAX = 200
RETIRED = ":retired:"  # in the key of a row given up with what it was for
# On a session that queued rows: the rows (as `Pending`), handed to the sender after the commit.
QUEUED = "outbox_queued"
# On a session that changed rows other than by queuing them (retired them): the sender reads the
# outbox again after the commit.
CHANGED = "outbox_changed"

ArgValue = int | str | None


class OutboxRow(SQLModel, table=True):
    """A post the bot owes Slack: what kind, about which ids, when it may go, what became of it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's query: rows still to send, by when they may go.
        Index(
            "ix_outbox_pending",
            "due_at",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
        # The sender's queue: unsent rows, most urgent first.
        Index(
            "ix_outbox_queue",
            "priority",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
        # A target's unsent rows in order: only the first of each may go.
        Index(
            "ix_outbox_target",
            "target",
            "id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
        # Ids are never reused, so the sender's bookkeeping of a row in flight cannot mistake
        # a new row for a deleted one.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(KEY_MAX), nullable=False, unique=True))
    kind: str = Field(sa_column=Column(String(KIND_MAX), nullable=False))
    # Effects on one message or thread share a target and go out one at a time, in id order.
    target: str = Field(sa_column=Column(String(TARGET_MAX), nullable=False))
    # 0 answers a person, 1 public posts people watch, 2 live tallies, 3 bulk notices.
    priority: int = Field(sa_column=Column(Integer, nullable=False))
    args: str = Field(sa_column=Column(Text, nullable=False, server_default="{}"))
    # Where a private answer goes when the request that caused it had one (issue: response_url).
    response_url: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    due_at: datetime = Field(sa_column=utc_column(nullable=False))
    # A private answer that is not sent by then is dropped: stale news misleads.
    expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # Set when the effect is done, or given up (`failed` then says why).
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    failed: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))
    last_error: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))
    # A multi-step effect's steps already done (e.g. the message edited, the chart not yet).
    progress: str | None = Field(default=None, sa_column=Column(Text))
    # Several replicas: the leader's epoch that took the row to send it, and when (a new
    # leader lets a claim of an earlier epoch run out before it sends the row itself).
    claimed_epoch: int | None = Field(default=None, sa_column=Column(Integer))
    claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


@dataclass(frozen=True)
class Pending:
    """An outbox row as the sender sees it."""

    id: int
    key: str
    kind: str
    target: str
    priority: int
    args: Mapping[str, ArgValue]
    response_url: str | None
    created_at: datetime
    due_at: datetime
    expires_at: datetime | None
    attempts: int
    progress: Mapping[str, Any]

    def int_arg(self, name: str) -> int:
        """An id argument."""
        value = self.args.get(name)
        if not isinstance(value, int):
            raise KeyError(f"outbox row {self.key} has no int {name!r}")
        return value

    def str_arg(self, name: str) -> str | None:
        """A text argument (a channel or user id), if given."""
        value = self.args.get(name)
        return value if isinstance(value, str) else None


# The hot paths (every vote queues a row; the sender reads and marks them many times a second)
# run prebuilt Core statements: building an ORM statement per call costs more than running it.
_TABLE = OutboxRow.__table__  # type: ignore[attr-defined]
_C = _TABLE.c
_PENDING_COLUMNS = (
    _C.id,
    _C.key,
    _C.kind,
    _C.target,
    _C.priority,
    _C.args,
    _C.response_url,
    _C.created_at,
    _C.due_at,
    _C.expires_at,
    _C.attempts,
    _C.progress,
)
_INSERT = {
    "sqlite": sqlite_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"]).returning(_C.id),
    "postgresql": pg_insert(_TABLE).on_conflict_do_nothing(index_elements=["key"]).returning(_C.id),
}
_UNSENT_IDS = core_select(_C.id).where(_C.sent_at.is_(None))
_BY_IDS = core_select(*_PENDING_COLUMNS).where(
    _C.id.in_(bindparam("ids", expanding=True)), _C.sent_at.is_(None)
)
_HAS_UNSENT = (
    core_select(_C.id)
    .where(
        _C.target == bindparam("target"),
        _C.kind == bindparam("kind"),
        _C.sent_at.is_(None),
    )
    .limit(1)
)
_MARK_SENT = (
    update(_TABLE)
    .where(_C.id.in_(bindparam("ids", expanding=True)), _C.sent_at.is_(None))
    .values(sent_at=bindparam("now"))
)


_MARK_FAILED = (
    update(_TABLE)
    .where(_C.id.in_(bindparam("ids", expanding=True)))
    .values(sent_at=bindparam("now"), failed=bindparam("reason"), attempts=_C.attempts + 1)
)


def _pending(row: Any) -> Pending:
    """A row of `_PENDING_COLUMNS` as the sender sees it."""
    (
        id_,
        key,
        kind,
        target,
        priority,
        args,
        response_url,
        created,
        due,
        expires,
        attempts,
        done,
    ) = row
    return Pending(
        id=id_,
        key=key,
        kind=kind,
        target=target,
        priority=priority,
        args=json.loads(args or "{}"),
        response_url=response_url,
        created_at=created,
        due_at=due,
        expires_at=expires,
        attempts=attempts,
        progress=json.loads(done) if done else {},
    )


def enqueue(
    db: Session,
    *,
    key: str,
    kind: str,
    target: str,
    priority: int,
    args: Mapping[str, ArgValue],
    now: datetime,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
    response_url: str | None = None,
) -> bool:
    """Queue an effect unless one with this key was ever queued; True when this call queued it.

    The new row is also listed on the session (`QUEUED`), so the sender learns of it the moment
    the transaction commits, without reading it back.
    """
    args_text = json.dumps(dict(args), separators=(",", ":"), sort_keys=True)
    key, target = key[:KEY_MAX], target[:TARGET_MAX]
    values = {
        "key": key,
        "kind": kind,
        "target": target,
        "priority": priority,
        "args": args_text,
        "response_url": response_url,
        "created_at": now,
        "due_at": due_at or now,
        "expires_at": expires_at,
        "attempts": 0,
    }
    connection = db.connection()
    row_id = connection.execute(_INSERT[connection.dialect.name], values).scalar()
    if row_id is None:
        return False
    if db.in_nested_transaction():
        # A savepoint may yet be rolled back, taking the row with it: the sender reads it back
        # after the commit instead.
        db.info[CHANGED] = True
    else:
        row = Pending(
            id=row_id,
            key=key,
            kind=kind,
            target=target,
            priority=priority,
            args=json.loads(args_text),
            response_url=response_url,
            created_at=now,
            due_at=due_at or now,
            expires_at=expires_at,
            attempts=0,
            progress={},
        )
        db.info.setdefault(QUEUED, []).append(row)
    return True


def has_unsent(db: Session, *, kind: str, target: str) -> bool:
    """Whether an effect of `kind` on `target` is still waiting to be sent."""
    found = db.connection().execute(_HAS_UNSENT, {"target": target, "kind": kind}).first()
    return found is not None


def retire(db: Session, *, key_prefix: str, now: datetime, reason: str) -> int:
    """Mark every row whose key starts with `key_prefix` done, and free its key.

    For what was owed for something undone (a session, poll or round nobody could see): SQLite
    may give a deleted row's id to the next new row, and keys are made from ids, so the next
    poll's posts must not find their keys taken. The rows are kept (renamed, marked done), so
    a send still in flight finds its own row when it finishes.
    """
    result = db.execute(
        update(OutboxRow)
        .where(
            col(OutboxRow.key).startswith(key_prefix, autoescape=True),
            ~col(OutboxRow.key).contains(RETIRED, autoescape=True),
        )
        .values(
            key=col(OutboxRow.key).concat(RETIRED).concat(cast(col(OutboxRow.id), String)),
            sent_at=func.coalesce(col(OutboxRow.sent_at), now),
            failed=func.coalesce(col(OutboxRow.failed), reason[:ERROR_MAX]),
        )
    )
    retired = int(result.rowcount)  # type: ignore[attr-defined]
    if retired:
        db.info[CHANGED] = True
    return retired


def unsent_ids(db: Session) -> set[int]:
    """The ids of every row still to send."""
    return set(db.connection().execute(_UNSENT_IDS).scalars())


def unsent_rows(db: Session, *, ids: Iterable[int]) -> list[Pending]:
    """These rows, those of them still to send."""
    chosen = list(ids)
    if not chosen:
        return []
    return [_pending(row) for row in db.connection().execute(_BY_IDS, {"ids": chosen})]


def next_retry(db: Session, *, after: datetime) -> datetime | None:
    """When the earliest unsent row waiting past `after` (for a retry) may go."""
    return db.exec(
        select(func.min(OutboxRow.due_at)).where(
            col(OutboxRow.sent_at).is_(None), col(OutboxRow.due_at) > after
        )
    ).one()


def mark_sent(db: Session, *, ids: Iterable[int], now: datetime) -> None:
    """Record that these effects are done."""
    chosen = list(ids)
    if chosen:
        db.connection().execute(_MARK_SENT, {"ids": chosen, "now": now})


def mark_failed(db: Session, *, ids: Iterable[int], now: datetime, reason: str) -> None:
    """Give effects up (Slack refused them for good, or they are stale or needless): they are
    never tried again."""
    chosen = list(ids)
    if chosen:
        db.connection().execute(
            _MARK_FAILED, {"ids": chosen, "now": now, "reason": reason[:ERROR_MAX]}
        )


def retry_later(db: Session, *, row_id: int, due_at: datetime, error: str) -> None:
    """Count a failed try and set when the next one may go (it is owed again if it was taken
    as done when it was picked, as coalesced rows are)."""
    db.execute(
        update(OutboxRow)
        .where(col(OutboxRow.id) == row_id)
        .values(
            due_at=due_at,
            last_error=error[:ERROR_MAX],
            attempts=OutboxRow.attempts + 1,
            sent_at=None,
            claimed_epoch=None,  # its try is over: no later leader need wait for it
            claimed_at=None,
        )
    )


def claim(db: Session, *, ids: Iterable[int], epoch: int, now: datetime) -> None:
    """Record that the leader of `epoch` is sending these rows (in the transaction that checked
    the epoch is still current)."""
    chosen = list(ids)
    if chosen:
        db.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(chosen), col(OutboxRow.sent_at).is_(None))
            .values(claimed_epoch=epoch, claimed_at=now)
        )


def wait_out_claims(db: Session, *, epoch: int, now: datetime, grace: timedelta) -> int:
    """A new leader of `epoch`: unsent rows an earlier leader claimed less than `grace` ago
    may still be in flight there; they wait until that claim has run out (`grace` after it).
    Returns how many wait."""
    claimed = db.exec(
        select(OutboxRow.id, OutboxRow.claimed_at).where(
            col(OutboxRow.sent_at).is_(None),
            col(OutboxRow.claimed_epoch) < epoch,
            col(OutboxRow.claimed_at) > now - grace,
        )
    ).all()
    for row_id, claimed_at in claimed:
        assert claimed_at is not None
        db.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id, col(OutboxRow.due_at) < claimed_at + grace)
            .values(due_at=claimed_at + grace)
        )
    return len(claimed)


def save_progress(db: Session, *, row_id: int, progress: Mapping[str, Any]) -> None:
    """Remember the steps of a multi-step effect already done, so a retry skips them."""
    db.execute(
        update(OutboxRow)
        .where(col(OutboxRow.id) == row_id)
        .values(progress=json.dumps(dict(progress), separators=(",", ":"), sort_keys=True))
    )


def progress_of(db: Session, *, key: str) -> dict[str, Any] | None:
    """The steps a row has done so far (what it posted where), by key; None if no such row."""
    row = db.exec(select(OutboxRow).where(col(OutboxRow.key) == key)).first()
    if row is None:
        return None
    loaded = json.loads(row.progress) if row.progress else {}
    return loaded if isinstance(loaded, dict) else {}


def delete_rows(db: Session, *, ids: Sequence[int]) -> None:
    """Delete rows outright (an anonymous vote's confirmation leaves no trace once sent)."""
    if ids:
        db.execute(delete(OutboxRow).where(col(OutboxRow.id).in_(list(ids))))


def unsent_for(db: Session, *, kind: str, target_prefix: str) -> int:
    """How many rows of `kind` whose target starts with `target_prefix` are still unsent."""
    return db.exec(
        select(func.count())
        .select_from(OutboxRow)
        .where(
            col(OutboxRow.kind) == kind,
            col(OutboxRow.target).startswith(target_prefix),
            col(OutboxRow.sent_at).is_(None),
        )
    ).one()


def oldest_unsent(db: Session) -> datetime | None:
    """When the oldest row still waiting was queued."""
    return db.exec(
        select(func.min(OutboxRow.created_at)).where(col(OutboxRow.sent_at).is_(None))
    ).one()


def prune_sent(db: Session, *, before: datetime) -> int:
    """Forget rows done before `before` (their keys cannot come back by then)."""
    result = db.execute(
        delete(OutboxRow).where(
            col(OutboxRow.sent_at).is_not(None), col(OutboxRow.sent_at) < before
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def rows(db: Session) -> list[OutboxRow]:
    """Every row (for tests and diagnostics)."""
    return list(db.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all())
