"""supervisord configuration for `make up` (and `make soak`, which reads pids through supervisorctl).

Every program: started at once, restarted whenever it exits (whatever the exit code), in its own
process group (Ctrl-C reaches supervisord, which stops each program's whole group in reverse
priority order: the services before the datastores). A program that dies before `startsecs` counts
as a failed start and is retried after 1 s, 2 s, 3 s … (supervisord's backoff), practically
forever (`startretries`); one that had been running is restarted at once.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: supervisord closes the fds from 3 up to this in each child; sockets handed down to programs
#: (`make up` holds the services' listening sockets) use fd numbers from here on
MIN_FDS = 64
#: a program that keeps failing to start is retried this many times (1 s more each time) before
#: supervisord gives up on it (FATAL): about a day of retries
START_RETRIES = 400


@dataclass
class Program:
    name: str
    command: str
    priority: int = 20
    #: seconds a process must stay up to count as started (shorter deaths back off)
    startsecs: int = 1
    #: SIGTERM, then SIGKILL after this long (core-api drains its requests within 10 s)
    stopwaitsecs: int = 15
    environment: dict[str, str] = field(default_factory=dict)


def _escape(value: str) -> str:
    return value.replace("%", "%%")  # supervisord expands %(name)s in values


def control_socket(run_dir: Path) -> Path:
    """supervisord's control socket: in `run_dir`, or under /tmp when that path would pass the ~107-byte
    limit of a Unix socket path (a deep checkout or test directory)."""
    sock = run_dir / "supervisor.sock"
    if len(str(sock)) < 100:
        return sock
    import hashlib

    return Path("/tmp") / f"outdoor-supervisor-{hashlib.sha256(str(run_dir).encode()).hexdigest()[:16]}.sock"  # noqa: S108


def supervisor_conf(programs: list[Program], run_dir: Path, log_dir: Path, cwd: Path) -> str:
    sock = control_socket(run_dir)
    parts = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={log_dir / 'supervisord.log'}",
        f"pidfile={run_dir / 'supervisord.pid'}",
        f"childlogdir={log_dir}",
        f"minfds={MIN_FDS}",
        "loglevel=info",
        "",
        "[unix_http_server]",
        f"file={sock}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{sock}",
        "",
    ]
    for p in programs:
        parts += [
            f"[program:{p.name}]",
            f"command={_escape(p.command)}",
            f"directory={cwd}",
            f"priority={p.priority}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={p.startsecs}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={p.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            *(
                ["environment=" + ",".join(f'{k}="{_escape(v)}"' for k, v in p.environment.items())]
                if p.environment
                else []
            ),
            f"stdout_logfile={log_dir / (p.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
            "",
        ]
    return "\n".join(parts)


def supervisorctl(conf: Path, *args: str, timeout: float = 15) -> str:
    """Run supervisorctl against the stack's supervisord; returns stdout (exit codes 0-3 are normal)."""
    bin_dir = Path(__file__).resolve().parents[2] / ".venv" / "bin"
    out = subprocess.run(  # noqa: S603
        [str(bin_dir / "supervisorctl"), "-c", str(conf), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return out.stdout


def program_pid(conf: Path, name: str) -> int | None:
    """The running pid of a program, or None (stopped, starting over, unknown)."""
    raw = supervisorctl(conf, "pid", name).strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None
