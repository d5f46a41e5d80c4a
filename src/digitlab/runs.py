"""Run history: every digitlab run kept in one SQLite file, so nothing is lost.

The lesson asks the learner to "write down the best score". digitlab does it for
them: each ``train``, ``sweep``, ``mistakes``, ``predict`` and ``compare`` run is
stored as one :class:`Run` (time, command line, full configuration, data
fingerprint, library versions, seeds, results, duration, saved files) in a SQLite
database, and :meth:`RunStore.best` finds the best score with the exact command
line that reproduces it.

Where the file lives
--------------------
``$DIGITLAB_HOME/runs.sqlite`` when ``DIGITLAB_HOME`` is set, else
``~/.digitlab/runs.sqlite`` (:func:`default_db_path`). Every recording command
takes ``--runs-db PATH`` (another file) and ``--no-record`` (keep nothing).

Reliability
-----------
* The file has a schema version (table ``digitlab_schema``) and is brought
  forward by the numbered :data:`MIGRATIONS`; a file from a newer digitlab is
  refused, never rewritten.
* WAL mode and a busy timeout let several digitlab processes record at once.
* Each run is written in one transaction: a process that dies midway leaves no
  half row.
* A file that is not a SQLite database, or a damaged one, is refused with the
  command to move it aside; digitlab never modifies or overwrites it.
* A damaged history does not get stuck: rows that are not what digitlab writes,
  or that lie on damaged pages, are left out of every read and named (in
  :attr:`RunStore.damaged` and a :class:`~digitlab.errors.DigitlabNotice`); a
  damaged row can be deleted; nothing is written into a file with damaged pages
  or a damaged schema version. A 0-byte file reads as an empty history and
  stays 0 bytes.

Recording
---------
The CLI records every run; from Python recording is opt-in::

    import digitlab
    result = digitlab.train(k=1)
    digitlab.runs.record(result)  # the same run `digitlab train --k 1` records
    digitlab.runs.best()  # prints like `digitlab runs best`, a table in Jupyter
    digitlab.runs.list(limit=5)

:mod:`digitlab.recording` knows what a run keeps of each kind of result.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shlex
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from digitlab.errors import DigitlabError

__all__ = [
    "Run",
    "RunStore",
    "SCHEMA_VERSION",
    "MIGRATIONS",
    "default_db_path",
    "digitlab_home",
    "library_versions",
    "new_run",
    "record",
    "run_from_result",
    "best",
    "list_runs",
    "RunList",
    "BestRuns",
]

DB_FILENAME = "runs.sqlite"
BUSY_TIMEOUT_S = 30.0
SQLITE_HEADER = b"SQLite format 3\x00"

#: Forward migrations: version N is reached by running ``MIGRATIONS[N]`` on a
#: file at version N - 1, all in one transaction. Never edit a released step;
#: add the next number instead.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,        -- ISO 8601, UTC
            command TEXT NOT NULL,           -- 'train', 'sweep', ...
            argv TEXT NOT NULL,              -- JSON list: the run after 'digitlab'
            reproduce TEXT NOT NULL,         -- JSON list: reproduces the score
            config TEXT NOT NULL,            -- JSON object
            data_name TEXT NOT NULL,
            data_fingerprint TEXT NOT NULL,
            versions TEXT NOT NULL,          -- JSON object
            seeds TEXT NOT NULL,             -- JSON list
            score REAL,                      -- headline accuracy, higher is better
            score_std REAL,
            summary TEXT NOT NULL,           -- short config text for `runs`
            results TEXT NOT NULL,           -- JSON object (whole tables included)
            result_type TEXT,                -- 'module:Class' with from_dict()
            duration_s REAL NOT NULL,
            files TEXT NOT NULL              -- JSON list of saved files
        )
        """,
        "CREATE INDEX runs_by_command_data ON runs (command, data_name, score)",
    ),
}

#: The schema version this digitlab writes (the highest migration).
SCHEMA_VERSION = max(MIGRATIONS)

_JSON_COLUMNS = ("argv", "reproduce", "config", "versions", "seeds", "results")
_COLUMNS = (
    "created_at",
    "command",
    "argv",
    "reproduce",
    "config",
    "data_name",
    "data_fingerprint",
    "versions",
    "seeds",
    "score",
    "score_std",
    "summary",
    "results",
    "result_type",
    "duration_s",
    "files",
)


def digitlab_home() -> Path:
    """digitlab's folder for the user: ``$DIGITLAB_HOME`` or ``~/.digitlab``."""
    env = os.environ.get("DIGITLAB_HOME")
    return Path(env).expanduser() if env else Path.home() / ".digitlab"


def default_db_path() -> Path:
    """The run history used when no ``--runs-db`` is given."""
    return digitlab_home() / DB_FILENAME


def library_versions() -> dict[str, str]:
    """The versions that decide a result: digitlab, scikit-learn, numpy, Python."""
    import platform
    import sys

    import numpy

    from digitlab._version import __version__

    sklearn = sys.modules.get("sklearn")
    if sklearn is None:
        # Importing scikit-learn only to read its version costs a command that
        # never used it (a sweep of an IDX file) about a second.
        from importlib.metadata import version

        sklearn_version = version("scikit-learn")
    else:
        sklearn_version = sklearn.__version__
    return {
        "digitlab": __version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "scikit-learn": sklearn_version,
    }


def _to_json(value) -> str:
    """JSON text with sorted keys: equal results give equal text."""
    try:
        return json.dumps(value, sort_keys=True, allow_nan=True)
    except TypeError as exc:  # a bug in a command, not a user mistake
        raise TypeError(f"run data must be JSON-serializable: {exc}") from None


def _normalized(value):
    """``value`` as it reads back from the database (tuples become lists...)."""
    return json.loads(_to_json(value))


def format_score(value: float | None, std: float | None = None) -> str:
    """``0.975`` or ``0.9876 ± 0.003``; ``-`` when there is no score."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    if std is not None and not math.isnan(std):
        text += " ± " + (f"{std:.3f}".rstrip("0").rstrip(".") or "0")
    return text


@dataclass
class Run:
    """One recorded run of a digitlab command.

    Attributes
    ----------
    command : str
        The command, e.g. ``"train"`` or ``"sweep"``.
    argv : list of str
        The full command line after ``digitlab``, every option explicit:
        ``digitlab runs rerun`` runs exactly this.
    reproduce : list of str
        The command line (after ``digitlab``) that reproduces :attr:`score`: the
        same as ``argv`` for ``train``, the best cell alone for a sweep.
    config : dict
        The full configuration.
    data_name, data_fingerprint : str
        The data's name (``"digits"`` or a path) and the hash of its features and
        labels (:meth:`digitlab.data.Dataset.fingerprint`).
    versions : dict
        digitlab, scikit-learn, numpy and Python versions.
    seeds : list of int
        Every seed the run used.
    score, score_std : float or None
        The headline accuracy (higher is better) and its spread over repeats.
    summary : str
        A short configuration text for ``digitlab runs``.
    results : dict
        Everything the command computed, whole tables included, so ``digitlab
        runs show`` can redraw them without recomputing.
    result_type : str or None
        ``"module:Class"`` whose ``from_dict(results)`` rebuilds the result object.
    duration_s : float
        Seconds the computation took.
    files : list of str
        Files the run saved.
    created_at : str
        When it ran (ISO 8601, UTC).
    id : int or None
        The row number in the run history (``None`` before it is stored).
    """

    command: str
    argv: list
    config: dict
    data_name: str
    data_fingerprint: str
    results: dict
    reproduce: list = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    seeds: list = field(default_factory=list)
    score: float | None = None
    score_std: float | None = None
    summary: str = ""
    result_type: str | None = None
    duration_s: float = 0.0
    files: list = field(default_factory=list)
    created_at: str = ""
    id: int | None = None

    @property
    def command_line(self) -> str:
        """``digitlab train --data digits ...``: the whole run, ready to paste."""
        return shlex.join(["digitlab", *self.argv])

    @property
    def reproduce_line(self) -> str:
        """The command line that reproduces :attr:`score`."""
        return shlex.join(["digitlab", *(self.reproduce or self.argv)])

    @property
    def when(self) -> str:
        """Local time of the run, ``2026-11-25 14:02``."""
        try:
            moment = datetime.fromisoformat(self.created_at)
        except ValueError:
            return self.created_at
        return moment.astimezone().strftime("%Y-%m-%d %H:%M")

    def to_dict(self) -> dict:
        """All fields as plain JSON-ready values (what ``--json`` prints)."""
        out = asdict(self)
        out["command_line"] = self.command_line
        out["reproduce_line"] = self.reproduce_line
        return out

    def headline(self) -> str:
        """One line: ``train #11 on digits: 0.975 (ts=0.2 k=5 seed 0)``."""
        return (
            f"{self.command} #{self.id} on {self.data_name}: "
            f"{format_score(self.score, self.score_std)}"
            + (f" ({self.summary})" if self.summary else "")
        )

    def __repr__(self) -> str:
        return f"<Run {self.headline()}>"

    def _repr_html_(self) -> str:
        rows = [
            ("command line", self.command_line),
            ("when", self.when),
            ("data", f"{self.data_name} ({self.data_fingerprint})"),
            ("score", format_score(self.score, self.score_std)),
            ("reproduce", self.reproduce_line),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th>"
            f"<td><code>{escape(str(v))}</code></td></tr>"
            for k, v in rows
        )
        return f"<table><caption>Run #{self.id}</caption>{body}</table>"


def new_run(
    command: str,
    *,
    argv,
    config: dict,
    results: dict,
    data=None,
    data_name: str | None = None,
    data_fingerprint: str | None = None,
    reproduce=None,
    seeds=(),
    score: float | None = None,
    score_std: float | None = None,
    summary: str = "",
    result_type: str | None = None,
    duration_s: float = 0.0,
    files=(),
) -> Run:
    """Build a :class:`Run` stamped with the current time and library versions.

    ``data`` is a :class:`~digitlab.data.Dataset`; its ``source`` and
    ``fingerprint()`` fill ``data_name`` and ``data_fingerprint`` unless those
    are given. Everything is normalized through JSON, so the run compares equal to
    the one read back from the database.
    """
    if data is not None:
        data_name = data.source if data_name is None else data_name
        if data_fingerprint is None:
            data_fingerprint = data.fingerprint()
    return Run(
        command=command,
        argv=[str(a) for a in argv],
        reproduce=[str(a) for a in (reproduce if reproduce is not None else argv)],
        config=_normalized(config),
        data_name=str(data_name if data_name is not None else "-"),
        data_fingerprint=str(data_fingerprint or "-"),
        versions=library_versions(),
        seeds=_normalized(list(seeds)),
        score=None if score is None else float(score),
        score_std=None if score_std is None else float(score_std),
        summary=summary,
        results=_normalized(results),
        result_type=result_type,
        duration_s=float(duration_s),
        files=[str(f) for f in files],
        created_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
    )


class _DamagedRow(Exception):
    """A stored row that is not what digitlab writes (the reason is its text)."""


def _row_to_run(row: sqlite3.Row) -> Run:
    values = dict(row)
    for name in (*_JSON_COLUMNS, "files"):
        try:
            values[name] = json.loads(values[name])
        except (TypeError, ValueError, RecursionError):
            raise _DamagedRow(f"its {name} column is not valid JSON") from None
    for name in ("command", "data_name", "summary", "created_at"):
        if not isinstance(values[name], str):
            raise _DamagedRow(f"its {name} column is not text")
    for name in ("score", "score_std", "duration_s"):
        if values[name] is not None and not isinstance(values[name], (int, float)):
            raise _DamagedRow(f"its {name} column is not a number")
    if not isinstance(values["argv"], list) or not isinstance(values["config"], dict):
        raise _DamagedRow("its argv or config column has the wrong shape")
    return Run(**values)


#: How many row ids a damaged file is searched for, one by one, at most.
_MAX_SALVAGE_IDS = 1_000_000


def _notice(message: str) -> None:
    from digitlab.errors import notice

    notice(message)


def _check_run_id(run_id) -> int:
    """A run id as an int that SQLite can hold, or one sentence."""
    try:
        value = int(run_id)
    except (TypeError, ValueError, OverflowError):
        value = None
    if isinstance(run_id, bool) or value is None or not 1 <= value < 2**63:
        raise DigitlabError(
            f"{run_id!r} is not a run id; ids are whole numbers from 1 up, as "
            "`digitlab runs` lists them."
        )
    return value


class RunStore:
    """The run history in one SQLite file.

    Parameters
    ----------
    path : str or Path, optional
        The database file; :func:`default_db_path` when omitted.
    create : bool
        Create the file (and, for the default location, its folder) when it does
        not exist. With ``create=False`` a missing file reads as an empty history
        and nothing is written to disk.

    Raises
    ------
    DigitlabError
        The file is not a SQLite database or is damaged (it is left untouched),
        comes from a newer digitlab, or cannot be opened or written.

    Examples
    --------
    >>> with RunStore("/tmp/example-runs.sqlite") as store:  # doctest: +SKIP
    ...     best = store.best(command="train")
    """

    def __init__(self, path=None, *, create: bool = True):
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self._conn: sqlite3.Connection | None = None
        #: Rows that could not be read, by id, with the reason (filled by reads).
        self.damaged: dict[int, str] = {}
        # Why this file must not be written (a damaged schema row), or None.
        self._unwritable: str | None = None
        self._open(create)

    # -- opening and migrating -------------------------------------------------

    def _damaged(self, detail: str = "") -> DigitlabError:
        p = str(self.path)
        why = f" ({detail})" if detail else ""
        return DigitlabError(
            f"{p} is not a readable digitlab run history: it is not a SQLite "
            f"database or it is damaged{why}; digitlab left it untouched, so move "
            f"it aside (mv {shlex.quote(p)} {shlex.quote(p + '.broken')}) to start "
            "a new history there, or choose another file with --runs-db or "
            "DIGITLAB_HOME."
        )

    def _cannot_write(self, exc: BaseException) -> DigitlabError:
        message = str(exc)
        if "locked" in message or "busy" in message:
            return DigitlabError(
                f"The run history {self.path} stayed locked by another digitlab "
                f"process for {BUSY_TIMEOUT_S:g} s; try again, or use --no-record."
            )
        return DigitlabError(
            f"Cannot write the run history {self.path} ({message}); make its folder "
            "writable, choose another file with --runs-db or DIGITLAB_HOME, or add "
            "--no-record."
        )

    def _open(self, create: bool) -> None:
        path = self.path
        if path.is_dir():
            raise DigitlabError(
                f"The run history {path} is a folder; give a file path like "
                f"{path / DB_FILENAME} to --runs-db."
            )
        if path.exists():
            try:
                with open(path, "rb") as fh:
                    header = fh.read(len(SQLITE_HEADER))
            except OSError as exc:
                raise DigitlabError(
                    f"Cannot read the run history {path} ({exc.strerror}); make it "
                    "readable or choose another file with --runs-db."
                ) from None
            if header and header != SQLITE_HEADER:
                raise self._damaged("no SQLite header")
            if not header and not create:
                return  # an empty file reads as an empty history; it stays 0 bytes
        elif not create:
            return  # an empty history; nothing is written
        elif not path.parent.is_dir():
            if path.parent == digitlab_home():
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise self._cannot_write(exc) from None
            else:
                raise DigitlabError(
                    f"Cannot create the run history {path}: the folder "
                    f"{path.parent} does not exist; create it first or choose "
                    "another file with --runs-db."
                )
        try:
            conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise self._cannot_write(exc) from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            version = self._read_version(conn, create)
            if version is not None and version < SCHEMA_VERSION:
                self._migrate(conn, version)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _read_version(self, conn: sqlite3.Connection, create: bool = True):
        """The file's schema version (0 for an empty file); never writes.

        A version that is not a whole number is damage: for reading (``create``
        false) it is None, with a notice, and the file may not be written;
        for writing it is refused.
        """
        try:
            tables = {
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                )
            }
            if not tables:
                return 0
            if "digitlab_schema" not in tables:
                raise DigitlabError(
                    f"{self.path} is a SQLite database but not a digitlab run "
                    "history (it has no digitlab_schema table); digitlab left it "
                    "untouched: choose another file with --runs-db or DIGITLAB_HOME."
                )
            row = conn.execute(
                "SELECT version, written_by FROM digitlab_schema"
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "unable to open" in str(exc):
                raise self._cannot_write(exc) from None
            raise self._damaged(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from None
        if row is None:
            raise self._damaged("its schema version is missing")
        version, written_by = row[0], row[1]
        if isinstance(version, float) and version.is_integer():
            version = int(version)
        if isinstance(version, bool) or not isinstance(version, int):
            reason = f"its schema version {str(version)[:40]!r} is not a whole number"
            if create:
                raise self._damaged(reason)
            self._unwritable = reason
            _notice(
                f"The run history {self.path} is damaged ({reason}); its runs are "
                "shown, but nothing can be recorded in it or deleted from it: move "
                "it aside to start a new history."
            )
            return None
        if version > SCHEMA_VERSION:
            from digitlab._version import __version__

            raise DigitlabError(
                f"The run history {self.path} was written by a newer digitlab "
                f"({written_by}, history schema {version}); this digitlab "
                f"{__version__} reads schema {SCHEMA_VERSION} at most, so it leaves "
                "the file alone: upgrade digitlab, or choose another file with "
                "--runs-db or DIGITLAB_HOME."
            )
        return version

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        """Bring the file forward to :data:`SCHEMA_VERSION`, in one transaction."""
        from digitlab._version import __version__

        try:
            if version == 0:
                # WAL lets readers and one writer work at once; the mode is stored
                # in the file, so it is set once, when the file is made.
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                version = self._read_version(conn)
                if version == 0:
                    conn.execute(
                        "CREATE TABLE digitlab_schema "
                        "(version INTEGER NOT NULL, written_by TEXT NOT NULL)"
                    )
                    conn.execute("INSERT INTO digitlab_schema VALUES (0, '')")
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[step]:
                        conn.execute(statement)
                conn.execute(
                    "UPDATE digitlab_schema SET version = ?, written_by = ?",
                    (SCHEMA_VERSION, f"digitlab {__version__}"),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise self._cannot_write(exc) from None

    # -- context manager -------------------------------------------------------

    def close(self) -> None:
        """Close the database connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # -- writing ---------------------------------------------------------------

    def _transaction(self):
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""
        store = self

        class _Transaction:
            def __enter__(self):
                store._conn.execute("BEGIN IMMEDIATE")
                return store._conn

            def __exit__(self, exc_type, exc, tb):
                conn = store._conn
                if exc_type is None:
                    conn.execute("COMMIT")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
                return False

        return _Transaction()

    def _insert(self, conn: sqlite3.Connection, run: Run) -> int:
        values = []
        for name in _COLUMNS:
            value = getattr(run, name)
            if name in _JSON_COLUMNS or name == "files":
                value = _to_json(value)
            values.append(value)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        cursor = conn.execute(
            f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
            values,
        )
        return int(cursor.lastrowid)

    def _require_open(self) -> sqlite3.Connection:
        if self._conn is None:
            # create=False on a missing file: reading works, writing needs a file.
            self._open(create=True)
        return self._conn

    def _check_writable(self) -> None:
        """Refuse to write into a damaged file, before anything is written.

        SQLite would write into the pages it can still read and could spread
        the damage; the file is left exactly as it is instead.
        """
        if self._unwritable is not None:
            raise self._damaged(self._unwritable)
        try:
            problems = [r[0] for r in self._conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise self._cannot_write(exc) from None
            raise self._damaged(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from None
        if problems != ["ok"]:
            raise self._damaged(
                "SQLite's check finds damaged pages; `digitlab runs export --json "
                "FILE` still copies out the runs it can read"
            )

    def _write(self, action, *args):
        """Run ``action(conn, *args)`` in one transaction of a checked file."""
        self._require_open()
        self._check_writable()
        try:
            with self._transaction() as conn:
                return action(conn, *args)
        except sqlite3.OperationalError as exc:
            raise self._cannot_write(exc) from None
        except sqlite3.DatabaseError as exc:
            raise self._damaged(str(exc)) from None

    def add(self, run: Run) -> Run:
        """Store ``run`` in one transaction and return it with its new ``id``."""
        run_id = self._write(self._insert, run)
        return replace(run, id=run_id)

    def delete(self, run_id: int) -> Run | None:
        """Remove run ``run_id`` and return what it held.

        A damaged row (one that :meth:`get` cannot read) is deleted too; then
        None is returned.
        """
        run_id = _check_run_id(run_id)
        if run_id in self.damaged or self._raw_exists(run_id) == "damaged":
            run = None
        else:
            run = self.get(run_id)
        self._write(
            lambda conn: conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        )
        self.damaged.pop(run_id, None)
        return run

    # -- reading ---------------------------------------------------------------

    def _select(self, filters=None, *, newest_first=True, limit=None) -> list[Run]:
        """The runs matching ``filters`` (column -> value), skipping damaged rows.

        A row whose values are not what digitlab writes is left out and named
        (in :attr:`damaged` and in a notice). When SQLite cannot read the table
        through (damaged pages), each row id is read on its own, so every row
        still readable is returned.
        """
        if self._conn is None:
            return []
        filters = {k: v for k, v in (filters or {}).items() if v}
        where = " AND ".join(f"{name} = ?" for name in filters)
        sql = (
            f"SELECT id, {', '.join(_COLUMNS)} FROM runs"
            + (f" WHERE {where}" if where else "")
            + f" ORDER BY id {'DESC' if newest_first else 'ASC'}"
        )
        damaged: dict[int, str] = {}
        try:
            runs = self._parse(
                self._conn.execute(sql, tuple(filters.values())), limit, damaged
            )
        except sqlite3.DatabaseError as exc:
            if "no such" in str(exc):  # not the table digitlab writes
                raise self._damaged(str(exc)) from None
            damaged.clear()
            rows = self._salvage(filters, newest_first, damaged)
            runs = self._parse(rows, limit, damaged)
        self._report(damaged)
        return runs

    @staticmethod
    def _parse(rows, limit, damaged: dict[int, str]) -> list[Run]:
        """Runs from rows (stopping at ``limit``); damaged rows go to ``damaged``."""
        runs = []
        for row in rows:
            try:
                runs.append(_row_to_run(row))
            except _DamagedRow as exc:
                damaged[row["id"]] = str(exc)
            if limit is not None and len(runs) >= limit:
                break
        return runs

    def _salvage(self, filters: dict, newest_first: bool, damaged: dict) -> list:
        """Read a damaged table row by row: the rows SQLite can still reach."""
        top = self._highest_id()
        if top is None:
            raise self._damaged("its table of runs cannot be read") from None
        ids = range(top, 0, -1) if newest_first else range(1, top + 1)
        rows = []
        for run_id in ids:
            try:
                row = self._conn.execute(
                    f"SELECT id, {', '.join(_COLUMNS)} FROM runs WHERE id = ?",
                    (run_id,),
                ).fetchone()
            except sqlite3.DatabaseError:
                damaged[run_id] = "it lies in a damaged part of the file"
                continue
            if row is not None and all(row[k] == v for k, v in filters.items()):
                rows.append(row)
        return rows

    def _highest_id(self) -> int | None:
        """The largest run id ever given, read without scanning the table."""
        for sql in (
            "SELECT seq FROM sqlite_sequence WHERE name = 'runs'",
            "SELECT max(id) FROM runs",
        ):
            try:
                row = self._conn.execute(sql).fetchone()
            except sqlite3.DatabaseError:
                continue
            if row is not None and isinstance(row[0], int):
                return min(row[0], _MAX_SALVAGE_IDS)
        return None

    def _raw_exists(self, run_id: int) -> str:
        """``"ok"``, ``"damaged"`` or ``"missing"`` for one row id."""
        if self._conn is None:
            return "missing"
        try:
            row = self._conn.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        except sqlite3.DatabaseError:
            return "damaged"
        if row is None:
            return "missing"
        try:
            _row_to_run(row)
        except _DamagedRow:
            return "damaged"
        return "ok"

    def _report(self, damaged: dict[int, str]) -> None:
        """Name the rows a read left out (one notice per read)."""
        if not damaged:
            return
        self.damaged.update(damaged)
        ids = sorted(damaged)
        shown = ", ".join(f"#{i} ({damaged[i]})" for i in ids[:5])
        more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
        _notice(
            f"{len(ids)} damaged run(s) in {self.path} left out: {shown}{more}; "
            f"`digitlab runs delete {ids[0]}` removes one."
        )

    def runs(
        self,
        *,
        command: str | None = None,
        data: str | None = None,
        limit: int | None = None,
    ) -> list[Run]:
        """Recorded runs, newest first, optionally of one command or data set."""
        if limit is not None and limit < 1:
            raise DigitlabError(f"--limit must be 1 or more, got {limit}.")
        return self._select({"command": command, "data_name": data}, limit=limit)

    def __len__(self) -> int:
        if self._conn is None:
            return 0
        try:
            return int(self._conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        except sqlite3.DatabaseError:
            return len(self._select())

    def is_damaged(self, run_id: int) -> bool:
        """Whether run ``run_id`` is stored but cannot be read (it can be deleted)."""
        return self._raw_exists(_check_run_id(run_id)) == "damaged"

    def get(self, run_id: int) -> Run:
        """The run with this id; a :class:`DigitlabError` when there is none."""
        run_id = _check_run_id(run_id)
        state = self._raw_exists(run_id)
        if state == "damaged":
            raise DigitlabError(
                f"Run #{run_id} in {self.path} is damaged and cannot be shown; "
                f"`digitlab runs delete {run_id}` removes it."
            )
        found = self._select({"id": run_id}) if state == "ok" else []
        if not found:
            raise DigitlabError(
                f"There is no run #{run_id} in {self.path}; `digitlab runs` lists "
                "the recorded runs and their ids."
            )
        return found[0]

    def best(self, *, command: str | None = None, data: str | None = None):
        """The best-scoring run per data set and command.

        Runs are grouped by data name, data fingerprint and command; in each group
        the highest score wins, and among equal scores the earliest run (it got
        there first). Runs without a score are left out.

        Returns
        -------
        list of Run
            Sorted by data name, then command.
        """
        winners: dict[tuple, Run] = {}
        for run in self._select(newest_first=False):
            if run.score is None or (command and run.command != command):
                continue
            if data and run.data_name != data:
                continue
            key = (run.data_name, run.data_fingerprint, run.command)
            if key not in winners or run.score > winners[key].score:
                winners[key] = run
        return [winners[k] for k in sorted(winners)]

    # -- export ----------------------------------------------------------------

    def export(
        self,
        path,
        *,
        format: str | None = None,
        force: bool = False,
        command: str | None = None,
        data: str | None = None,
    ) -> Path:
        """Write the runs (oldest first) to a CSV or JSON file.

        Parameters
        ----------
        path : str or Path
            The file to write; its suffix picks the format unless ``format`` is
            given.
        format : {"csv", "json"}, optional
        force : bool
            Overwrite an existing file; without it an existing file is an error.

        Returns
        -------
        Path
            The file written (via a temporary file, so it is never half written).
        """
        from digitlab.files import check_target, write_bytes

        path = Path(path)
        fmt = (format or path.suffix.lstrip(".")).lower()
        if fmt not in ("csv", "json"):
            raise DigitlabError(
                f"Cannot tell the export format of {str(path)!r}; end the name with "
                ".csv or .json."
            )
        check_target(path, force=force)
        runs = list(reversed(self.runs(command=command, data=data)))
        if fmt == "json":
            text = json.dumps([r.to_dict() for r in runs], indent=2, sort_keys=True)
            text += "\n"
        else:
            buffer = io.StringIO()
            columns = ["id", *_COLUMNS, "command_line", "reproduce_line"]
            writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for run in runs:
                row = run.to_dict()
                for name in (*_JSON_COLUMNS, "files"):
                    row[name] = _to_json(row[name])
                writer.writerow({c: row[c] for c in columns})
            text = buffer.getvalue()
        return write_bytes(path, text.encode("utf-8"), force=force)


def compare_results(old: Run, new: Run) -> list[str]:
    """What differs between two runs of the same command line, one line each.

    An empty list means identical: the same data fingerprint, configuration and
    results, number for number. Time, duration, measured seconds (a comparison's
    fit and predict times) and versions are not compared.
    """
    differences = []
    if old.data_fingerprint != new.data_fingerprint:
        differences.append(
            f"the data changed (fingerprint {old.data_fingerprint} → "
            f"{new.data_fingerprint})"
        )
    old_config, new_config = dict(old.config), dict(new.config)
    if old.data_fingerprint == new.data_fingerprint:
        # The same data, named differently ("mine.npz" run from its folder, the
        # absolute path on a rerun): the fingerprint decides, not the name.
        old_config.pop("data", None)
        new_config.pop("data", None)
    pairs = (("config", old_config, new_config), ("", old.results, new.results))
    for what, a, b in pairs:
        for key, before, after in _diff(a, b, what):
            differences.append(f"{key}: {_short(before)} → {_short(after)}")
    return differences


def _diff(a, b, prefix: str):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if _is_timing(key):
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            yield from _diff(a.get(key), b.get(key), name)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _diff(x, y, f"{prefix}[{i}]")
    elif a != b and not (_isnan(a) and _isnan(b)):
        yield prefix or "result", a, b


def _is_timing(key) -> bool:
    """A measured time (``fit_seconds``, ``predict_seconds_per_split``, ...): it
    differs on every run, so it says nothing about whether the result is the same."""
    return isinstance(key, str) and "seconds" in key


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _short(value) -> str:
    text = "missing" if value is None else json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def result_lines(run: Run) -> list[str]:
    """The run's result drawn again from what was stored, without recomputing.

    When the run names a ``result_type`` (``"module:Class"``) whose class has a
    ``from_dict`` classmethod, the result object is rebuilt and its ``lines()``
    (or ``repr``) are used, so a sweep's or comparison's table looks exactly as
    the command printed it. Otherwise the stored results are laid out generically:
    numbers as ``name: value``, small mappings indented, lists of rows as tables.
    """
    obj = rebuild_result(run)
    if obj is not None:
        lines = obj.lines() if hasattr(obj, "lines") else repr(obj).splitlines()
        return list(lines)
    return _generic_lines(run.results)


def rebuild_result(run: Run):
    """The result object of ``run`` rebuilt from its stored results, or None."""
    if not run.result_type:
        return None
    import importlib

    module_name, _, class_name = run.result_type.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return None
    from_dict = getattr(cls, "from_dict", None)
    return None if from_dict is None else from_dict(run.results)


def _generic_lines(results: dict) -> list[str]:
    lines = []
    for key in sorted(results):
        value = results[key]
        if isinstance(value, dict) and all(
            not isinstance(v, (dict, list)) for v in value.values()
        ):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {_cell(v)}" for k, v in value.items())
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(r, dict) for r in value)
        ):
            lines.append(f"{key}:")
            lines.extend("  " + line for line in format_table(value))
        elif _is_matrix(value):
            lines.append(f"{key}:")
            cells = [[_cell(v) for v in row] for row in value]
            width = max(len(c) for row in cells for c in row)
            lines.extend("  " + " ".join(c.rjust(width) for c in row) for row in cells)
        elif isinstance(value, list) and len(value) > 10:
            lines.append(
                f"{key}: {len(value)} values ({_short(value[:10])[:-1]}, ...])"
            )
        else:
            lines.append(f"{key}: {_cell(value)}")
    return lines


def _is_matrix(value) -> bool:
    """A non-empty list of equal-length lists of numbers (a confusion matrix)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(r, list) and len(r) == len(value[0]) for r in value)
        and all(isinstance(v, (int, float)) for r in value for v in r)
    )


def _cell(value) -> str:
    if isinstance(value, float):
        return format_score(value) if 0 <= value <= 1 else f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return _short(value)
    return str(value)


def format_table(rows: list[dict], columns: list[str] | None = None) -> list[str]:
    """Rows of dicts as aligned text columns (header first)."""
    if columns is None:
        columns = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
    cells = [[str(c) for c in columns]]
    cells += [[_cell(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in cells
    ]


# -- recording a result, and the history as result objects ----------------------
# (Kept apart from the store above: `record` turns a result into a Run with
# digitlab.recording and adds it; `best` / `list` read the store into objects that
# print as `digitlab runs` does and show as tables in a notebook.)


def record(
    result, *, data=None, runs_db=None, files=(), duration_s: float = 0.0
) -> Run:
    """Keep ``result`` in the run history, as the CLI does after each command.

    Recording from Python is opt-in: ``digitlab.train(...)`` and the other
    functions never write anything; call this to keep a result. The stored run
    is the same as the one the equivalent ``digitlab`` command records: the
    configuration, the data's fingerprint, the seeds, the score and a command
    line that reruns it (``digitlab runs rerun ID``).

    Parameters
    ----------
    result : TrainResult, SweepResult, MistakesResult, CompareResult or
        PicturePredictions
        What :func:`digitlab.train`, :func:`~digitlab.sweep`,
        :func:`~digitlab.mistakes_on_split`, :func:`~digitlab.compare` or
        :func:`~digitlab.predict.predict_files` returned.
    data : Dataset, optional
        The data it was computed on (default: the result's own, or the data its
        configuration names, loaded again).
    runs_db : path, optional
        The history file (default :func:`default_db_path`).
    files : sequence of path
        Files saved with the result (kept by absolute path).
    duration_s : float
        Seconds the computation took, if you measured them.

    Returns
    -------
    Run
        The stored run, with its ``id``.

    Examples
    --------
    >>> result = digitlab.train(k=1)  # doctest: +SKIP
    >>> digitlab.runs.record(result).id  # doctest: +SKIP
    12
    """
    run = run_from_result(result, data=data, files=files, duration_s=duration_s)
    with RunStore(runs_db) as store:
        return store.add(run)


def run_from_result(result, *, data=None, files=(), duration_s: float = 0.0) -> Run:
    """The :class:`Run` :func:`record` would store for ``result`` (not stored)."""
    from digitlab.recording import run_fields

    fields = run_fields(result, data=data)
    command = fields.pop("command")
    return new_run(
        command,
        **fields,
        duration_s=duration_s,
        files=[str(Path(f).resolve()) for f in files],
    )


class RunList(list):
    """Runs (newest first) that print as ``digitlab runs`` does and show as a
    table in a notebook. A plain list of :class:`Run` otherwise."""

    def __init__(self, runs=(), *, path=None, filtered: bool = False):
        super().__init__(runs)
        self.path, self.filtered = path, filtered

    def rows(self) -> list[dict]:
        """One dict per run: id, when, command, data, config, accuracy."""
        return [
            {
                "id": r.id,
                "when": r.when,
                "command": r.command,
                "data": r.data_name,
                "config": r.summary,
                "accuracy": format_score(r.score, r.score_std),
            }
            for r in self
        ]

    def lines(self) -> list[str]:
        """The table ``digitlab runs`` prints."""
        if not self:
            where = self.path or "the run history"
            return [
                f"No matching runs in {where}."
                if self.filtered
                else f"No runs recorded in {where} yet."
            ]
        return format_table(self.rows())

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        return _html_table(self.rows(), caption=f"{len(self)} runs")


class BestRuns(RunList):
    """The best run per data set and command, each with the line that reproduces
    its score (:meth:`RunStore.best`)."""

    def lines(self) -> list[str]:
        """What ``digitlab runs best`` prints: two lines per best run."""
        if not self:
            return [
                f"No scored runs in {self.path or 'the run history'} yet; run "
                "`digitlab train` first."
            ]
        names = [r.data_name for r in self]
        out = []
        for run in self:
            on = run.data_name
            if names.count(on) > len({r.command for r in self if r.data_name == on}):
                on += f" (data {run.data_fingerprint})"
            out.append(
                f"Best {run.command} on {on}: {format_score(run.score, run.score_std)} "
                f"— run #{run.id}" + (f", {run.summary}" if run.summary else "")
            )
            out.append(f"Reproduce: {run.reproduce_line}")
        return out

    def rows(self) -> list[dict]:
        """One dict per best run, with its reproduce line."""
        return [
            {**row, "reproduce": run.reproduce_line}
            for row, run in zip(super().rows(), self, strict=True)
        ]


def _html_table(rows: list[dict], caption: str) -> str:
    """Rows as an HTML table with inline styles (notebook sanitizers keep them)."""
    if not rows:
        return f"<p>{escape(caption)}: none</p>"
    cell = "padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"
    head = "".join(f"<th style='{cell}'>{escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr>"
        + "".join(f"<td style='{cell}'>{escape(str(v))}</td>" for v in row.values())
        + "</tr>"
        for row in rows
    )
    return (
        f"<table style='border-collapse:collapse'><caption style='text-align:left'>"
        f"{escape(caption)}</caption><tr>{head}</tr>{body}</table>"
    )


def list_runs(
    *, command: str | None = None, data: str | None = None, limit=None, runs_db=None
) -> RunList:
    """The recorded runs, newest first (``digitlab.runs.list()``)."""
    with RunStore(runs_db, create=False) as store:
        runs = store.runs(command=command, data=data, limit=limit)
        path = store.path
    return RunList(runs, path=path, filtered=bool(command or data))


def best(*, command: str | None = None, data: str | None = None, runs_db=None):
    """The best run per data set and command (``digitlab runs best``)."""
    with RunStore(runs_db, create=False) as store:
        runs = store.best(command=command, data=data)
        path = store.path
    return BestRuns(runs, path=path, filtered=bool(command or data))


def show_lines(run: Run) -> list[str]:
    """Everything about one run, its result redrawn (``digitlab runs show``)."""
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run.versions.items()))
    config = ", ".join(f"{k}={v}" for k, v in sorted(run.config.items()))
    lines = [
        f"Run #{run.id}: {run.command_line}",
        f"When: {run.when} (took {run.duration_s:.2f} s)",
        f"Data: {run.data_name} (fingerprint {run.data_fingerprint})",
        f"Config: {config}",
        f"Seeds: {', '.join(str(s) for s in run.seeds) or '-'}",
        f"Versions: {versions}",
        f"Score: {format_score(run.score, run.score_std)}",
    ]
    if run.reproduce != run.argv:
        lines.append(f"Reproduce the score: {run.reproduce_line}")
    if run.files:
        lines.append(f"Files: {', '.join(run.files)}")
    lines.append("Result:")
    lines.extend("  " + line for line in result_lines(run))
    return lines


def __getattr__(name: str):
    # `digitlab.runs.list()` without shadowing the builtin inside this module.
    if name == "list":
        return list_runs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
