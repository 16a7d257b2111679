"""Export everything recorded about one session as JSON, CSV files or Markdown."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.report.aggregate import attribution, poll_aggregates
from bot.report.collect import collect
from bot.report.model import quote_label
from bot.report.render import md_escape
from storage import report as queries
from storage.db import Database
from storage.report import SessionFilter


class UnknownSession(Exception):
    """No session has the id asked for."""


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


Document = dict[str, Any]


def session_document(db: Database, session_id: int) -> Document:
    """Everything about a session as plain data; anonymous polls as totals only. Its tables
    are whole: bot.report.small_groups.suppress_document hides their small groups.

    The lists of people (participants, votes, room members, who submitted) are the
    organisers' own record, person by person, and stay as they are.

    Raises:
        UnknownSession: there is no such session.
    """
    data = collect(db, SessionFilter(session_ids=(session_id,)))
    if not data.sessions:
        raise UnknownSession(session_id)
    with db.read() as s:
        [session] = queries.find_sessions(s, where=SessionFilter(session_ids=(session_id,)))
        everyone = queries.all_participants(s, session_id=session_id)
        rooms = queries.rooms_with_reports(s, session_ids=[session_id])
        version_ids = [v.id for room in rooms for v in room.versions if v.id is not None]
        quotes = queries.quotes_of(s, report_ids=version_ids)
        themes = queries.themes_of(s, report_ids=version_ids)
    aggregates = poll_aggregates(data)
    options = {poll.id: poll.options for poll in data.polls}
    votes_by_poll: dict[int, list[dict[str, Any]]] = {}
    zoom_votes_by_poll: dict[int, list[dict[str, Any]]] = {}
    for rows, by_poll in ((data.votes, votes_by_poll), (data.zoom_votes, zoom_votes_by_poll)):
        for vote in rows:
            option = options[vote.poll_id][vote.option_index]
            by_poll.setdefault(vote.poll_id, []).append({"user_id": vote.user_id, "option": option})
    polls = []
    for poll in data.polls:
        aggregate = aggregates[poll.id]
        single = aggregate.overall
        polls.append(
            {
                "id": poll.id,
                "key": poll.key,
                "question": poll.question,
                "multi": poll.multi,
                "anonymous": poll.anonymous,
                "n": single.n,
                "options": [
                    {"text": share.label, "count": share.count, "percent": share.percent}
                    for share in single.shares
                ],
                # Anonymous polls have no votes to list: who voted and what was chosen are apart.
                "votes": [] if poll.anonymous else votes_by_poll.get(poll.id, []),
                # With answers from the Zoom meeting: each source apart (n and options above
                # are both together), and Zoom's named answers by participant id.
                # A small group's row has no figures: "hidden" says so, n is null.
                "by_source": [
                    {
                        "source": result.name.lower(),
                        "n": result.n,
                        "hidden": None,
                        "options": [
                            {"text": share.label, "count": share.count, "percent": share.percent}
                            for share in result.shares
                        ],
                    }
                    for result in aggregate.by_source
                ],
                "zoom_votes": [] if poll.anonymous else zoom_votes_by_poll.get(poll.id, []),
            }
        )
    withheld = 0
    withdrawn = 0
    rounds: dict[int, dict[str, Any]] = {}
    for room in rooms:
        entry = rounds.setdefault(
            room.round.number,
            {
                "number": room.round.number,
                "mode": room.round.mode,
                "prompt": room.round.prompt,
                "started_at": _iso(room.round.started_at),
                "ended_at": _iso(room.round.ended_at),
                "rooms": [],
            },
        )
        versions = []
        for version in room.versions:
            held = quotes.get(version.id or 0, [])
            # Withdrawn quotes are gone (their text was blanked); only their number is told.
            kept = [q for q in held if q.shown]
            withdrawn += sum(1 for q in held if q.withdrawn_at is not None)
            withheld += sum(1 for q in held if not q.consent and q.withdrawn_at is None)
            versions.append(
                {
                    "version": version.version,
                    "submitted_by": version.submitted_by,
                    "submitted_at": _iso(version.submitted_at),
                    "summary": version.summary,
                    "key_points": [p for p in version.key_points.splitlines() if p.strip()],
                    "themes": themes.get(version.id or 0, []),
                    "quotes": [
                        {
                            "id": quote_label(q.id or 0),
                            "text": q.text,
                            "attribution": attribution(q.speaker_role, q.speaker_place),
                        }
                        for q in kept
                    ],
                }
            )
        entry["rooms"].append(
            {
                "number": room.room.number,
                "members": [m.user_id for m in room.members],
                "report_backs": versions,
            }
        )
    return {
        "session": {
            "id": session.id,
            "title": session.title,
            "channel_id": session.channel_id,
            "area": session.area,
            "group": session.group_type,
            "zoom_meeting_id": session.zoom_meeting_id,
            "started_by": session.started_by,
            "started_at": _iso(session.started_at),
            "ended_at": _iso(session.ended_at),
        },
        "participants": [
            {
                "user_id": p.user_id,
                "role": p.role,
                "place": p.place,
                "group": p.group_name,
                "consent_to_quote": p.consent_to_quote,
                "checked_in_at": _iso(p.checked_in_at),
            }
            for p in everyone
        ],
        "polls": polls,
        "poll_keys": sorted({poll.key for poll in data.polls}),
        "rounds": list(rounds.values()),
        "quotes_withheld_without_consent": withheld,
        "quotes_withdrawn": withdrawn,
        # Filled in by bot.report.small_groups.suppress_document.
        "small_groups": {"min_group": 1, "note": None},
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=HYPERLINK(…)) gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)


def write_csv(document: dict[str, Any], folder: Path) -> list[Path]:
    """One CSV file per kind of record, in `folder` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    session = document["session"]
    files = {
        "session.csv": (list(session), [list(session.values())]),
        "participants.csv": (
            ["user_id", "role", "place", "group", "consent_to_quote", "checked_in_at"],
            [list(p.values()) for p in document["participants"]],
        ),
        "poll_results.csv": (
            ["poll_id", "key", "question", "anonymous", "multi", "n", "option", "count", "percent"],
            [
                [
                    p["id"],
                    p["key"],
                    p["question"],
                    p["anonymous"],
                    p["multi"],
                    p["n"],
                    o["text"],
                    o["count"],
                    o["percent"],
                ]
                for p in document["polls"]
                for o in p["options"]
            ],
        ),
        "poll_sources.csv": (
            ["poll_id", "key", "source", "n", "option", "count", "percent"],
            [
                [p["id"], p["key"], src["source"], src["hidden"], "", "", ""]
                if src["hidden"]
                else [
                    p["id"],
                    p["key"],
                    src["source"],
                    src["n"],
                    o["text"],
                    o["count"],
                    o["percent"],
                ]
                for p in document["polls"]
                for src in p["by_source"]
                for o in (src["options"] or [None])
            ],
        ),
        "votes.csv": (
            ["poll_id", "user_id", "option", "source"],
            [
                [p["id"], v["user_id"], v["option"], source]
                for p in document["polls"]
                for source, key in (("slack", "votes"), ("zoom", "zoom_votes"))
                for v in p[key]
            ],
        ),
        "rooms.csv": (
            ["round", "room", "user_id"],
            [
                [r["number"], room["number"], member]
                for r in document["rounds"]
                for room in r["rooms"]
                for member in room["members"]
            ],
        ),
        "report_backs.csv": (
            [
                "round",
                "room",
                "version",
                "submitted_by",
                "submitted_at",
                "summary",
                "key_points",
                "themes",
            ],
            [
                [
                    r["number"],
                    room["number"],
                    v["version"],
                    v["submitted_by"],
                    v["submitted_at"],
                    v["summary"],
                    "\n".join(v["key_points"]),
                    "; ".join(v["themes"]),
                ]
                for r in document["rounds"]
                for room in r["rooms"]
                for v in room["report_backs"]
            ],
        ),
        "quotes.csv": (
            ["round", "room", "version", "id", "text", "attribution"],
            [
                [r["number"], room["number"], v["version"], q["id"], q["text"], q["attribution"]]
                for r in document["rounds"]
                for room in r["rooms"]
                for v in room["report_backs"]
                for q in v["quotes"]
            ],
        ),
    }
    written = []
    for name, (header, rows) in files.items():
        _write_csv(folder / name, header, rows)
        written.append(folder / name)
    return written


def render_session_markdown(document: dict[str, Any]) -> str:
    """A readable Markdown record of the session."""
    session = document["session"]
    lines = [f"# {md_escape(session['title'])}", ""]
    details = [f"Started {session['started_at']}"]
    if session["area"]:
        details.append(f"area {md_escape(session['area'])}")
    if session["group"]:
        details.append(f"group {md_escape(session['group'])}")
    lines += [", ".join(details) + "."]
    if document["small_groups"]["note"]:
        lines += ["", f"{document['small_groups']['note']} Their people count in every total."]
    lines += ["", "## Participants", ""]
    # One line per person: the organisers' record, not a table to publish.
    lines += ["Each participant on their own line (personal data: not for publication).", ""]
    lines += ["| Role | Place | Group | Checked in |", "|---|---|---|---|"]
    for p in document["participants"]:
        lines.append(
            f"| {md_escape(p['role'] or '')} | {md_escape(p['place'] or '')} | "
            f"{md_escape(p['group'] or '')} | {'yes' if p['checked_in_at'] else 'voted only'} |"
        )
    lines += ["", "## Polls"]
    for poll in document["polls"]:
        kind = " (anonymous: totals only)" if poll["anonymous"] else ""
        lines += ["", f"### {md_escape(poll['question'])}{kind}", "", f"n = {poll['n']:,}", ""]
        for option in poll["options"]:
            lines.append(
                f"- {md_escape(option['text'])}: {option['percent']}% ({option['count']:,})"
            )
        if poll["by_source"]:
            lines += ["", "By source (someone who answered in both counts once, in Slack):", ""]
            for source in poll["by_source"]:
                if source["hidden"]:
                    lines.append(f"- {source['source'].capitalize()}: {source['hidden']}")
                    continue
                shares = ", ".join(
                    f"{md_escape(o['text'])} {o['percent']}% ({o['count']:,})"
                    for o in source["options"]
                )
                lines.append(f"- {source['source'].capitalize()}, n = {source['n']:,}: {shares}")
    lines += ["", "## Breakout rooms"]
    for round_ in document["rounds"]:
        lines += ["", f"### Round {round_['number']}"]
        for room in round_["rooms"]:
            lines += ["", f"#### Room {room['number']} ({len(room['members'])} people)"]
            for version in room["report_backs"]:
                lines += ["", f"Version {version['version']} ({version['submitted_at']}):", ""]
                lines.append(md_escape(version["summary"]))
                lines += [f"- {md_escape(point)}" for point in version["key_points"]]
                for quote in version["quotes"]:
                    lines += [
                        "",
                        f"> “{md_escape(quote['text'])}” — {md_escape(quote['attribution'])}"
                        f" ({quote['id']})",
                    ]
    return "\n".join(lines) + "\n"


def export_session(
    db: Database, session_id: int, fmt: str, out: Path, *, shown: Callable[[Document], Document]
) -> list[Path]:
    """Write the session export as `shown` lets it be shown (bot.report.small_groups.
    suppress_document: small groups hidden); returns the files written.

    Raises:
        UnknownSession: there is no such session.
        OSError: `out` cannot be written.
    """
    document = shown(session_document(db, session_id))
    if fmt == "csv":
        return write_csv(document, out)
    text = (
        json.dumps(document, indent=2, ensure_ascii=False)
        if fmt == "json"
        else render_session_markdown(document)
    )
    out.write_text(text, encoding="utf-8")
    return [out]
