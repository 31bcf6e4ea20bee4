"""The app's side of the session log: read it, save to it, and never lose a session.

A finished session is kept in memory until the log has it: on a full or read-only card
it stays on screen and in the streaks, is kept in the checkpoint where there is room,
and is tried again every minute and at each screen change. The log is read again now
and then, so a session added over SSH shows without a touch. Every file operation runs
on the background worker; the main thread hears the results.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import Callable, List, Optional, Protocol, Sequence, Tuple

from kiosk.core.clockcheck import ClockReading
from kiosk.core.model import SessionRecord, utc_text
from kiosk.sessionlog.checkpoint import CheckpointWriter
from kiosk.ui.background import BackgroundWorker

log = logging.getLogger("kiosk")

SAVE_RETRY_S = 60.0
"""A session the SD card could not take is tried again this often (and at each screen change)."""
LOG_POLL_S = 30.0
"""How often the idle app looks at the log for sessions added over SSH."""

NOT_SAVED = {
    errno.ENOSPC: "Not saved yet: the SD card is full. It is saved as soon as there is room.",
    errno.EDQUOT: "Not saved yet: the SD card is full. It is saved as soon as there is room.",
    errno.EIO: "Not saved yet: the SD card is failing. It is saved as soon as it answers again.",
}
NOT_SAVED_OTHER = "Not saved yet: the SD card cannot be written. It is saved as soon as it can be."


class SessionLogLike(Protocol):
    """What the app needs of `store.SessionLog` (tests may open a stand-in)."""

    notices: List[str]
    screen_notices: List[str]
    writable: bool

    def records(self) -> List[SessionRecord]: ...
    def get(self, record_id: str) -> Optional[SessionRecord]: ...
    def append(self, record: SessionRecord) -> SessionRecord: ...
    def update_pain(self, record_id: str, pain: Optional[int], noted_utc: str = "") -> SessionRecord: ...
    def merge_records(self, records: Sequence[SessionRecord]) -> List[SessionRecord]: ...
    def repair_clock(self, reading: ClockReading, zone: Optional[dt.tzinfo] = None) -> List[SessionRecord]: ...
    def close(self) -> None: ...


Opener = Callable[[Path], SessionLogLike]


def open_session_log(data_dir: Path) -> SessionLogLike:
    from kiosk.sessionlog.store import SessionLog  # TinyDB is loaded on the worker, not at import

    return SessionLog.open_for_reading(data_dir)


class LogKeeper:
    """The log, the sessions not saved yet, and the checkpoint of the one running."""

    def __init__(self, data_dir: Path, worker: BackgroundWorker, *, clock: Callable[[], float],
                 read_clock: Callable[[], ClockReading], opener: Opener = open_session_log,
                 show_notice: Callable[[str], None], drop_notice: Callable[[str], None],
                 not_saved: Callable[[str], None],
                 records_changed: Callable[[], None], session_running: Callable[[], bool]) -> None:
        self._worker = worker
        self._clock = clock
        self._read_clock = read_clock
        self._opener = opener
        self._data_dir = data_dir
        self._show_notice = show_notice
        self._drop_notice = drop_notice
        self._not_saved = not_saved
        self._records_changed = records_changed
        self._session_running = session_running
        self._log: Optional[SessionLogLike] = None
        self._checkpoints = CheckpointWriter(data_dir)
        self._saving = False
        self._last_save_try = -math.inf
        self._last_read = clock()
        self.records: List[SessionRecord] = []
        """Every session the screen counts: the log's and those not saved yet."""
        self.unsaved: List[SessionRecord] = []
        """Finished sessions (or new ratings) the log has not taken yet, oldest first."""
        self.screen_name = ""
        """This screen's name in a household of several (set when MQTT is on); saved with each session."""
        self.on_saved: Callable[[Sequence[SessionRecord]], None] = lambda records: None
        """Hears each batch of sessions (or ratings) once the log has them: the household publishes them."""

    @property
    def is_open(self) -> bool:
        return self._log is not None

    def open(self) -> None:
        """Open and read the log in the background; its notices go to the screen."""
        def opened(records: List[SessionRecord]) -> None:
            assert self._log is not None
            for notice in self._log.notices:
                log.warning("%s", notice)
            for notice in self._log.screen_notices:
                self._show_notice(notice)
            self._read(records)

        self._worker.run(self._read_log, opened)

    def read_again(self) -> None:
        """The log may have changed under us (`kiosk log add` over SSH): read it in the background."""
        if self._log is not None:
            self._last_read = self._clock()
            self._worker.run(self._read_log, self._read)

    def every_second(self) -> None:
        """Retry what is unsaved each minute; when idle, look at the log twice a minute."""
        now = self._clock()
        if self.unsaved and now - self._last_save_try >= SAVE_RETRY_S:
            self.flush()
        if not self._session_running() and now - self._last_read >= LOG_POLL_S:
            self.read_again()

    def save(self, record: SessionRecord) -> None:
        """Keep a finished session and save it in the background; kept in memory until saved."""
        if self.screen_name and not record.screen:
            record = replace(record, screen=self.screen_name)
        self.records.append(record)
        self.unsaved.append(record)
        self._records_changed()
        self.flush()

    def rate(self, record: SessionRecord, pain: int, noted: dt.datetime) -> SessionRecord:
        """A 0-10 rating for a session, given at `noted`: saved the way a session is, retried if
        the card refuses."""
        updated = replace(record, pain=pain, pain_noted_utc=utc_text(noted))
        self.records = [updated if r.id == record.id else r for r in self.records]
        self.unsaved = [r for r in self.unsaved if r.id != record.id] + [updated]
        self._records_changed()
        self.flush()
        return updated

    def merge(self, records: Sequence[SessionRecord], then: Optional[Callable[[], None]] = None) -> None:
        """Sessions from the household's other screens: merged into the log in the background
        (one not saved here yet keeps this screen's copy until it is), then read again."""
        unsaved = {record.id for record in self.unsaved}
        wanted = [record for record in records if record.id not in unsaved]

        def merge() -> Optional[List[SessionRecord]]:
            try:
                session_log = self._ensure_log()
                changed = session_log.merge_records(wanted)
            except OSError as error:  # a full card: they are still on the broker for next time
                log.warning("could not merge %d session(s) from other screens: %s", len(wanted), error)
                return None
            if changed:
                log.info("household: %d session(s) from other screens merged", len(changed))
            return list(session_log.records())

        def merged(records: Optional[List[SessionRecord]]) -> None:
            if records is None:
                return  # a failed merge: nothing is read again, nothing published after it
            self._read(records)
            if then is not None:
                then()

        self._worker.run(merge, merged)

    def checkpoint(self, running: SessionRecord) -> None:
        """Write the running session (and any unsaved ones) to the checkpoint file."""
        records = tuple(self.unsaved) + (running,)
        checkpoints = self._checkpoints

        def save() -> None:
            try:
                checkpoints.save(records)
            except OSError as error:
                log.warning("could not write the session checkpoint: %s", error)

        self._worker.run(save)

    def flush(self) -> None:
        """Try to put every unsaved session in the log; on a failing card keep them in the checkpoint."""
        if not self.unsaved or self._saving or self._worker.closed:
            return
        self._saving = True
        self._last_save_try = self._clock()
        pending = tuple(self.unsaved)
        self._worker.run(lambda: self._save_all(pending), lambda outcome: self._saved(pending, *outcome))

    def close(self) -> None:
        """After the worker has finished: let go of the checkpoint lock and the log."""
        self._checkpoints.release()
        if self._log is not None:
            self._log.close()

    # ------------------------------------------------------------------ on the worker

    def _ensure_log(self) -> SessionLogLike:
        """The open log; opened here if the start-up read failed, and opened again if it was
        read-only (the card may have been freed or remounted)."""
        if self._log is not None and not self._log.writable:
            self._log.close()
            self._log = None
        if self._log is None:
            self._log = self._opener(self._data_dir)
        return self._log

    def _read_log(self) -> List[SessionRecord]:
        """The log's sessions, after dating again any saved under a wrong clock, if the clock now looks right."""
        session_log = self._ensure_log()
        session_log.repair_clock(self._read_clock())
        return list(session_log.records())

    def _save_all(self, pending: Sequence[SessionRecord]) -> Tuple[Optional[int], List[SessionRecord]]:
        """(None, the records as the log now holds them), or (the errno, []) when the card refused."""
        saved: List[SessionRecord] = []
        try:
            session_log = self._ensure_log()
            for record in pending:
                stored = session_log.get(record.id)
                if stored is None:
                    saved.append(session_log.append(record))  # as stored: maybe flagged for its clock
                    continue
                if (stored.pain, stored.pain_noted_utc) != (record.pain, record.pain_noted_utc):
                    stored = session_log.update_pain(record.id, record.pain, record.pain_noted_utc)  # rated later
                saved.append(stored)
        except OSError as error:
            log.warning("could not save %d session(s): %s", len(pending), error)
            try:
                self._checkpoints.save(pending)  # survives a restart if there is room for this much
            except OSError:
                pass
            return error.errno or errno.EIO, []
        if not self._session_running():  # else the running session's next checkpoint replaces it
            try:
                self._checkpoints.finish()
            except OSError as error:
                log.warning("could not remove the checkpoint: %s", error)
        return None, saved

    # ------------------------------------------------------------------ back on the main thread

    def _saved(self, pending: Tuple[SessionRecord, ...], failure: Optional[int], stored: List[SessionRecord]) -> None:
        self._saving = False
        if failure is not None:
            self._not_saved(NOT_SAVED.get(failure, NOT_SAVED_OTHER))
            return
        self.unsaved = [record for record in self.unsaved if record not in pending]
        for text in set(NOT_SAVED.values()) | {NOT_SAVED_OTHER}:
            self._drop_notice(text)
        self.on_saved(stored)
        self.flush()

    def _read(self, records: List[SessionRecord]) -> None:
        stored = {record.id for record in records}
        self.records = records + [record for record in self.unsaved if record.id not in stored]
        self._records_changed()
