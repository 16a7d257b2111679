"""Zoom polls' rules, with no I/O: what Zoom can carry, the poll as Zoom takes it, and how
Zoom's answers are read and merged into a poll's results.

Facts from docs/zoom-api-notes.md §3: a poll's `title` holds at most 64 characters, a
question's `name` 1,024, and a single or multiple choice question takes 2 to 10 answers (no
limit on an answer's length is documented). Past polls come as one row per respondent,
`{name, email, question_details: [{question, answer, polling_id}]}`; how a multiple-choice
answer is written is not confirmed, so it is read tolerantly.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.polls.requests import PollRequest
from storage.zoom.people import normalize_email, zoom_user_id
from storage.zoom.polls import AnswerRow

ZOOM_TITLE_MAX = 64
ZOOM_QUESTION_MAX = 1024
ZOOM_ANSWERS_MIN, ZOOM_ANSWERS_MAX = 2, 10
# Meeting types whose polls stay for the next occurrence (docs/zoom-api-notes.md §3: 3 is
# recurring with no fixed time, 8 recurring with a fixed time).
RECURRING_TYPES = frozenset({3, 8})
INSTANT = 1  # Zoom adds polls to scheduled meetings only
_SEPARATORS = re.compile(r"([;,])")


def zoom_limit_problem(request: PollRequest) -> str | None:
    """Which of Zoom's limits the poll is past, in a sentence; None when Zoom can carry it."""
    length = len(request.question)
    if length > ZOOM_TITLE_MAX:
        return (
            f"a Zoom poll's title holds at most {ZOOM_TITLE_MAX} characters, and the question "
            f"(which becomes the title) has {length:,}"
        )
    count = len(request.options)
    if not ZOOM_ANSWERS_MIN <= count <= ZOOM_ANSWERS_MAX:
        return (
            f"a Zoom poll takes {ZOOM_ANSWERS_MIN} to {ZOOM_ANSWERS_MAX} answers, and this "
            f"poll has {count}"
        )
    return None


def poll_body(
    *, question: str, options: Sequence[str], multi: bool, anonymous: bool
) -> dict[str, Any]:
    """The body of `POST /meetings/{meetingId}/polls`: the question is both title and question."""
    return {
        "title": question[:ZOOM_TITLE_MAX],
        "anonymous": anonymous,
        "questions": [
            {
                "name": question[:ZOOM_QUESTION_MAX],
                "type": "multiple" if multi else "single",
                "answers": list(options),
            }
        ],
    }


def same_poll(listed: Mapping[str, Any], body: Mapping[str, Any], *, taken: set[str]) -> str | None:
    """The id of a poll in a `GET /meetings/{meetingId}/polls` answer that is `body` (the same
    title, question and answers) and no other poll of the bot holds; None when there is none.

    A create whose answer was lost (a timeout after Zoom stored the poll) left it there.
    """
    wanted = _shape(body)
    polls = listed.get("polls")
    for poll in polls if isinstance(polls, list) else []:
        if not isinstance(poll, dict):
            continue
        zoom_poll_id = str(poll.get("id") or "")
        if zoom_poll_id and zoom_poll_id not in taken and _shape(poll) == wanted:
            return zoom_poll_id
    return None


def _shape(poll: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """A poll's title with each question's name and answers, as compared."""
    questions = poll.get("questions")
    return (
        normalise(str(poll.get("title") or "")),
        tuple(
            (
                normalise(str(q.get("name") or "")),
                tuple(normalise(str(a)) for a in q.get("answers") or []),
            )
            for q in (questions if isinstance(questions, list) else [])
            if isinstance(q, dict)
        ),
    )


def normalise(text: str) -> str:
    """Text as answers are compared: whitespace collapsed, case folded."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Matched:
    """What one Zoom answer chose: option indexes (in order), and the parts matching none."""

    indexes: tuple[int, ...]
    unmatched: tuple[str, ...]


def match_answer(answer: str, options: Sequence[str], *, multi: bool) -> Matched:
    """The options a Zoom answer names.

    The whole answer is tried first (an option may itself hold a comma). A multiple-choice
    answer that is no option is then read as options joined by ";" or ",": from each place,
    the longest run of pieces that is an option is taken, and what matches nothing is kept
    (pieces that follow each other together) as unmatched.
    """
    lookup: dict[str, int] = {}
    for index, option in enumerate(options):
        lookup.setdefault(normalise(option), index)
    whole = normalise(answer)
    if not whole:
        return Matched((), ())
    if whole in lookup:
        return Matched((lookup[whole],), ())
    if not multi:
        return Matched((), (" ".join(answer.split()),))
    parts = _SEPARATORS.split(answer)
    pieces, separators = parts[0::2], parts[1::2]
    chosen: list[int] = []
    unmatched: list[str] = []
    pending = ""  # unmatched pieces in a row, with the separators between them
    start = 0
    while start < len(pieces):
        for end in range(len(pieces), start, -1):
            candidate = pieces[start] + "".join(
                separators[k] + pieces[k + 1] for k in range(start, end - 1)
            )
            found = lookup.get(normalise(candidate))
            if found is not None:
                if normalise(pending):
                    unmatched.append(_tidy(pending))
                pending = ""
                if found not in chosen:
                    chosen.append(found)
                start = end
                break
        else:
            pending = pending + (separators[start - 1] if pending else "") + pieces[start]
            start += 1
    if normalise(pending):
        unmatched.append(_tidy(pending))
    return Matched(tuple(chosen), tuple(unmatched))


def _tidy(text: str) -> str:
    """Unmatched text as shown: whitespace collapsed, stray separators at the ends dropped."""
    return " ".join(text.split()).strip(";, ")


@dataclass(frozen=True)
class Response:
    """One Zoom respondent's answers to one poll (the email as `normalize_email` gives it)."""

    email: str | None
    answers: tuple[str, ...]


def responses_for(
    payload: Mapping[str, Any], *, zoom_poll_id: str | None, question: str
) -> list[Response]:
    """The respondents of one poll in a `GET /past_meetings/{uuid}/polls` answer.

    A detail belongs to the poll by its `polling_id`; a detail without one, by its question's
    text. Every detail of a respondent for the poll counts (in case Zoom lists each choice of a
    multiple-choice question apart).
    """
    wanted = normalise(question)
    found: list[Response] = []
    rows = payload.get("questions")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        details = row.get("question_details")
        answers: list[str] = []
        for detail in details if isinstance(details, list) else []:
            if not isinstance(detail, dict):
                continue
            polling_id = detail.get("polling_id")
            mine = (
                str(polling_id) == zoom_poll_id
                if polling_id and zoom_poll_id
                else normalise(str(detail.get("question") or "")) == wanted
            )
            if mine and isinstance(detail.get("answer"), str):
                answers.append(detail["answer"])
        if answers:
            email = row.get("email")
            found.append(
                Response(
                    email=normalize_email(email) if isinstance(email, str) else None,
                    answers=tuple(answers),
                )
            )
    return found


@dataclass(frozen=True)
class Merge:
    """Zoom's answers to one poll as stored: the rows, respondents counted, and those who also
    voted in Slack (not counted: their Slack vote stands)."""

    rows: tuple[AnswerRow, ...]
    added: int
    duplicates: int


def merge_answers(
    responses: Sequence[Response],
    *,
    poll_id: int,
    options: Sequence[str],
    multi: bool,
    anonymous: bool,
    slack_voters: set[str],
    voter_emails: set[str],
    people: Mapping[str, str],
) -> Merge:
    """Zoom's respondents merged into a poll: each counted once, Slack voters not at all.

    Args:
        responses: the poll's Zoom respondents, in Zoom's order.
        poll_id: the poll (names respondents who gave no email).
        options: the poll's options, in order.
        multi: whether several options may be chosen.
        anonymous: store counts only, with no respondent.
        slack_voters: who voted in the poll in Slack.
        voter_emails: the emails of those Slack voters (`normalize_email`'s form), where known.
        people: normalized email → the session's participant id of that person.
    """
    named: list[AnswerRow] = []
    counts: Counter[int] = Counter()
    unmatched: Counter[str] = Counter()
    seen: set[str] = set()
    added = duplicates = 0
    for number, response in enumerate(responses):
        email = response.email
        user_id = people.get(email) if email else None
        if (email and email in voter_emails) or (user_id is not None and user_id in slack_voters):
            duplicates += 1
            continue
        who = user_id or zoom_user_id(email=email, identity=f"zoom-poll:{poll_id}:{number}")
        if who in seen:
            continue  # the same person twice in Zoom's list: the first answer stands
        seen.add(who)
        indexes: list[int] = []
        missed: list[str] = []
        for answer in response.answers:
            matched = match_answer(answer, options, multi=multi)
            indexes += [i for i in matched.indexes if i not in indexes]
            missed += [text for text in matched.unmatched if text not in missed]
        if not multi:
            indexes = indexes[:1]
        if indexes:
            added += 1
        if anonymous:
            counts.update(indexes)
            unmatched.update(missed)
            continue
        named += [AnswerRow(user_id=who, option_index=i) for i in indexes]
        named += [AnswerRow(user_id=who, option_index=None, answer=text) for text in missed]
    if anonymous:
        rows = [AnswerRow(None, index, None, count) for index, count in sorted(counts.items())]
        rows += [AnswerRow(None, None, text, count) for text, count in sorted(unmatched.items())]
        return Merge(tuple(rows), added, duplicates)
    return Merge(tuple(named), added, duplicates)
