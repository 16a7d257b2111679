"""The rehearsal's live transcript: what each kind of person sees, as the stand-in Slack gets it.

Every call the bot makes to the stand-in is sorted by who would see it — the channel, the
summary channel, one followed participant's private messages and forms, the facilitator's
control message — and printed as text rendered from its Block Kit. Private messages to
everyone else are only counted (forty confirmations would drown the story).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from bot.rehearsal.render import render_message, render_view
from bot.standin import Call

INDENT = "    "
CONTROLS = " — controls"


class Transcript:
    """Prints what the stand-in Slack is asked to show, as it happens."""

    def __init__(
        self,
        out: TextIO,
        *,
        channel: str,
        summary_channel: str,
        facilitator: str,
        followed: str,
        names: Callable[[str], str],
        recipient: Callable[[Call], str | None],
    ) -> None:
        self.out = out
        self.channel = channel
        self.summary_channel = summary_channel
        self.facilitator = facilitator
        self.followed = followed
        self.names = names
        self.recipient = recipient
        self.private_counts: Counter[str] = Counter()
        self.posts: list[tuple[str, list[str]]] = []  # (where, lines), everything printed
        self._lock = threading.Lock()

    def heading(self, text: str) -> None:
        """A line of the rehearsal's own (a step starting, the progress)."""
        with self._lock:
            print(f"\n━━ {text}", file=self.out, flush=True)

    def line(self, text: str) -> None:
        """A plain line of the rehearsal's own."""
        with self._lock:
            print(text, file=self.out, flush=True)

    def answer(self, who: str, command: str, text: str) -> None:
        """A command's private answer (the ack), as its sender sees it."""
        lines = text.splitlines()
        self.posts.append((f"answer:{who}", lines))
        with self._lock:
            print(f"\nOnly {self.names(who)} sees (the answer to {command})", file=self.out)
            for line in lines:
                print(f"{INDENT}{line}".rstrip(), file=self.out)
            self.out.flush()

    def see(self, call: Call) -> None:
        """Print (or count) one call the bot made."""
        if call.failed or call.status != 200:
            return
        where = self._where(call)
        if where is None:
            return
        lines = self._lines(call)
        if not lines:
            return
        self.posts.append((where, lines))
        if where.endswith(CONTROLS) and call.method == "chat.update":
            lines = _changed_controls(lines)  # the whole agenda was shown when it was posted
        with self._lock:
            print(f"\n{where}", file=self.out)
            for line in lines:
                print(f"{INDENT}{line}".rstrip(), file=self.out)
            self.out.flush()

    def _where(self, call: Call) -> str | None:
        method, args = call.method, call.args
        channel = str(args.get("channel") or "")
        dm_of_facilitator = channel in (self.facilitator, "D" + self.facilitator[1:])
        if method in ("chat.postMessage", "chat.update"):
            edited = " (edited)" if method == "chat.update" else ""
            threaded = " ↳ in a thread" if args.get("thread_ts") else ""
            if channel == self.channel:
                return f"#listening-rehearsal{threaded}{edited} — everyone sees"
            if channel == self.summary_channel:
                return f"#tour-summaries{threaded}{edited} — organisers see"
            if dm_of_facilitator:
                return f"Direct message to {self.names(self.facilitator)}{edited}{CONTROLS}"
            return None
        if method in ("chat.postEphemeral", "response_url"):
            to = self.recipient(call)
            if to is None or (
                method == "response_url" and args.get("response_type") != ("ephemeral")
            ):
                return None
            if to in (self.followed, self.facilitator):
                return f"Only {self.names(to)} sees"
            self.private_counts[method] += 1
            return None
        if method == "views.open":
            return None  # forms are shown by the rehearsal when the followed person opens one
        if method == "files.completeUploadExternal":
            return f"#listening-rehearsal — a chart is uploaded ({_file_titles(args)})"
        return None

    def _lines(self, call: Call) -> list[str]:
        if call.method == "files.completeUploadExternal":
            return [str(args.get("initial_comment") or "") for args in [call.args]] or ["(chart)"]
        return render_message(call.args, names=self.names)

    def show_form(self, who: str, view: dict[str, Any]) -> None:
        """A form (modal) the followed person opened."""
        lines = render_view(view, names=self.names)
        self.posts.append((f"form:{who}", lines))
        with self._lock:
            print(f"\nA form opens for {self.names(who)}", file=self.out)
            for line in lines:
                print(f"{INDENT}{line}".rstrip(), file=self.out)
            self.out.flush()

    def texts(self, where_prefix: str) -> list[str]:
        """Everything printed under headings starting with `where_prefix`, one text per post."""
        return ["\n".join(lines) for where, lines in self.posts if where.startswith(where_prefix)]


def _changed_controls(lines: list[str]) -> list[str]:
    """An edited control message without the agenda printed before: where the session is, what
    comes next, and the buttons."""
    marks = ("✅", "⏭️", "▶️", "▫️")  # the agenda's lines (see bot.views.runsheets)
    kept: list[str] = []
    in_agenda = after_rule = False
    for line in lines[2:]:
        in_agenda = in_agenda or line.startswith(marks)
        after_rule = after_rule or line.startswith("─")
        if not in_agenda or (after_rule and not line.startswith("─")):
            kept.append(line)
    return kept


def _file_titles(args: dict[str, Any]) -> str:
    files = args.get("files")
    if isinstance(files, list):
        titles = [str(f.get("title") or "") for f in files if isinstance(f, dict)]
        return ", ".join(t for t in titles if t) or "image"
    return "image"
