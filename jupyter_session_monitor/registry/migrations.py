"""The registry's schema, as the migrations that build it: applied in order at open, the schema's
version kept in ``PRAGMA user_version``. Only ever appended to: a released migration never
changes, or registries already at its version would not get the change."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: sessions, their jobs, state transitions and the audit of user actions.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        account_name TEXT,
        channel TEXT,
        instance TEXT,
        url TEXT,
        source TEXT NOT NULL,
        kernel_id TEXT,
        notebook_path TEXT,
        mode TEXT,
        backend TEXT,
        tracked_at TEXT NOT NULL,
        body TEXT,
        last_polled_at TEXT,
        orphaned INTEGER NOT NULL DEFAULT 0,
        last_action TEXT,
        closed_at TEXT
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        program_id TEXT NOT NULL,
        status TEXT NOT NULL,
        tags TEXT NOT NULL,
        created TEXT
    );
    CREATE INDEX jobs_by_session ON jobs(session_id);
    CREATE TABLE transitions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        state TEXT,
        accepting_jobs INTEGER,
        status TEXT NOT NULL
    );
    CREATE INDEX transitions_by_session ON transitions(session_id, id);
    CREATE TABLE actions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        user TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        result TEXT NOT NULL,
        detail TEXT
    );
    """,
    # 2: the quantum time each job was billed (the job list's usage.seconds).
    """
    ALTER TABLE jobs ADD COLUMN usage_seconds REAL
    """,
    # 3: why a job failed or was cancelled (the service's code and message); sessions the
    # service no longer knows (a 404), which no longer count as open.
    """
    ALTER TABLE jobs ADD COLUMN reason TEXT;
    ALTER TABLE sessions ADD COLUMN not_found INTEGER NOT NULL DEFAULT 0
    """,
    # 4: which Jupyter server monitors each session. Several servers of one user share the
    # default file (a second JupyterLab, named servers on a hub); each judges and acts only on
    # its own sessions, and adopts those of servers that are gone.
    """
    CREATE TABLE servers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        url TEXT,
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL
    );
    ALTER TABLE sessions ADD COLUMN server_id TEXT
    """,
    # 5: money safety: the service's run-time estimate per job, budgets (per session or per
    # notebook; what was warned and done, so a restart neither repeats nor forgets it) and the
    # server's settings changed through the API (the billing rate).
    """
    ALTER TABLE jobs ADD COLUMN estimated_seconds REAL;
    CREATE TABLE budgets (
        scope TEXT NOT NULL,
        target TEXT NOT NULL,
        action TEXT NOT NULL,
        set_at TEXT NOT NULL,
        seconds REAL,
        amount REAL,
        threshold REAL NOT NULL,
        warned_at TEXT,
        reached_at TEXT,
        outcome TEXT,
        PRIMARY KEY (scope, target)
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 6: which notebook cell opened each session and submitted each job (as the kernel reported
    # it), and when each job ran (the service's metrics, read once a job is final).
    """
    ALTER TABLE sessions ADD COLUMN cell TEXT;
    ALTER TABLE sessions ADD COLUMN job_cells TEXT;
    ALTER TABLE jobs ADD COLUMN started TEXT;
    ALTER TABLE jobs ADD COLUMN finished TEXT
    """,
    # 7: the rate in force when a session's bill became final (it closed): a receipt or the
    # history prices a past session at its own rate, not at today's.
    """
    ALTER TABLE sessions ADD COLUMN billed_rate TEXT
    """,
    # 8: each server's notebook folder: a notebook budget counts the sessions that servers of
    # the registry opened from the same notebook file, whichever server monitors them.
    """
    ALTER TABLE servers ADD COLUMN root_dir TEXT
    """,
    # 9: the folder a notebook budget's path is relative to: a server whose folder differs has
    # another notebook at that path, which the budget must not count or close.
    """
    ALTER TABLE budgets ADD COLUMN root_dir TEXT
    """,
)
