"""The open pages and their trainings: one training per page, stopped when the page goes away.

A page is a random id its script makes when it loads. It watches its training through an event
stream; when its last stream ends (the tab closed or reloaded), its training is stopped and
forgotten. A limit on trainings running at once keeps many tabs from exhausting the machine.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

from mlpfit.errors import UsageError
from mlpfit.play.session import FINISHED, Session
from mlpfit.play.settings import parse

PAGE_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
MAX_RUNNING = 4  # trainings at once, over all pages
MAX_PAGES = 32  # pages remembered; the oldest finished ones without a stream are forgotten first


def check_page(page) -> str:
    if not isinstance(page, str) or not PAGE_ID.fullmatch(page):
        raise UsageError("the page has no valid id: reload it")
    return page


class Pages:
    def __init__(self, runs_dir: str):
        self.runs_dir = runs_dir
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.streams: Counter = Counter()
        self.starting: list[str] = []  # pages whose training is being built (a place held under the limit)

    def get(self, page: str) -> Session | None:
        with self.lock:
            return self.sessions.get(page)

    def start(self, page: str, query: dict, step: bool = False) -> Session:
        """Replace the page's training by a new one with these settings (refused input raises)."""
        settings = parse(query, self.runs_dir)
        self._reserve(page)
        try:
            session = Session(settings, self.runs_dir)  # reads the data: a bad formula stops here
        except BaseException:
            with self.lock:
                self.starting.remove(page)
            raise
        with self.lock:  # the reservation becomes the session in one step, so the count never dips
            self.starting.remove(page)
            old = self.sessions.pop(page, None)
            self.sessions[page] = session
            self._forget_old()
        if old is not None:
            old.stop()
        session.step() if step else session.start()
        return session

    def _reserve(self, page: str) -> None:
        """Count the running trainings and take a place among them in one locked step: checking and
        inserting in two would let parallel starts all see room and all start."""
        with self.lock:
            running = (sum(1 for p, s in self.sessions.items() if p != page and s.state not in FINISHED)
                       + sum(1 for p in self.starting if p != page))
            if running >= MAX_RUNNING:
                raise UsageError(f"{running} trainings are running on this server already: "
                                 "wait for one to finish or close its page")
            self.starting.append(page)

    def control(self, page: str, action: str) -> Session | None:
        session = self.get(page)
        if action == "reset":
            with self.lock:
                session = self.sessions.pop(page, None)
            if session is not None:
                session.stop()
            return None
        if session is None:
            raise UsageError("nothing is training on this page: press Start")
        actions = {"pause": session.pause, "resume": session.start, "step": session.step}
        if action not in actions:
            raise UsageError(f"unknown action {action!r}: use pause, resume, step or reset")
        actions[action]()
        return session

    def opened(self, page: str) -> None:
        with self.lock:
            self.streams[page] += 1

    def closed(self, page: str) -> None:
        """A stream ended; the last one of a page takes its training with it."""
        with self.lock:
            self.streams[page] -= 1
            if self.streams[page] > 0:
                return
            del self.streams[page]
            session = self.sessions.pop(page, None)
        if session is not None:
            session.stop()

    def stop_all(self) -> None:
        with self.lock:
            sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            session.stop()

    def _forget_old(self) -> None:
        """Keep at most MAX_PAGES (insertion order is age); only finished pages without a stream go."""
        for page in list(self.sessions):
            if len(self.sessions) <= MAX_PAGES:
                return
            if self.sessions[page].state in FINISHED and not self.streams.get(page):
                del self.sessions[page]
