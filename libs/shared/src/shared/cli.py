"""The services' command line: Litestar's CLI (click) plus each service's own commands.

`serve` runs uvicorn (N worker processes); pdf-service adds `worker` and `asyncapi`; core-api's
operator commands (`demo-data`, `create-empresa`, `create-indexes`) come from its Litestar CLI
plugin. The service's own commands need no app: running them, or asking for their `--help`, never
builds the app (building it imports prometheus-client, which `serve` must set up first), and
`--help` of any command starts nothing and writes nothing (click answers it before the command runs).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from litestar.cli._utils import LitestarExtensionGroup

from shared.settings import BaseServiceSettings

#: seconds a worker waits for in-flight requests after SIGTERM before cancelling them; keep it below
#: Kubernetes' terminationGracePeriodSeconds minus the 15 s pre-stop (env GRACEFUL_SHUTDOWN_SECONDS)
GRACEFUL_SHUTDOWN_SECONDS = 10


def graceful_shutdown_seconds() -> int:
    raw = os.environ.get("GRACEFUL_SHUTDOWN_SECONDS", "")
    return int(raw) if raw.strip().isdigit() else GRACEFUL_SHUTDOWN_SECONDS


#: a listening socket handed down by whoever runs `serve` (make up's supervisor): its fd number.
#: The socket outlives this process, so while `serve` restarts, connections wait in the kernel's
#: backlog instead of being refused (socket activation, as systemd or circus do it).
LISTEN_FD_ENV = "SERVE_LISTEN_FD"


def inherited_socket(port: int) -> socket.socket | None:
    """The inherited listening socket, if SERVE_LISTEN_FD names one bound to `port`; else None."""
    raw = os.environ.get(LISTEN_FD_ENV, "").strip()
    if not raw.isdigit():
        return None
    try:
        sock = socket.socket(fileno=os.dup(int(raw)))
    except OSError:
        return None
    if sock.type != socket.SOCK_STREAM or sock.getsockname()[1] != port:
        sock.close()
        return None
    sock.set_inheritable(True)
    return sock


def serve(
    app_path: str, settings: BaseServiceSettings, extra_listeners: Sequence[tuple[str, int]] = ()
) -> None:
    """Run the app factory under uvicorn with `settings.workers` processes (0 = one per core).

    `extra_listeners` are further (host, port) sockets served by the same processes and app (core-api's
    internal listener); the app tells them apart by the ASGI `server` address.

    Order matters: bind the port first (a second instance on a busy port exits here, having
    touched nothing), then take the Prometheus multiprocess directory (an exclusive lock held for
    the life of this process; only its holder wipes the previous run's files), then start workers.

    With several workers, a supervisor restarts a worker that dies and, on SIGTERM/SIGINT, stops
    accepting, lets each worker finish its in-flight requests (up to graceful_shutdown_seconds()) and
    run the lifespan shutdown (event consumers, MongoDB, Redis), then exits.
    """
    import uvicorn
    from uvicorn.config import STARTUP_FAILURE

    # before anything imports prometheus-client: workers inherit the variable (see metrics_process)
    from shared.metrics_process import (
        MetricsAwareMultiprocess,
        MultiprocessDirBusy,
        claim_multiprocess_dir,
        preload_app,
    )

    workers = settings.workers or os.cpu_count() or 1  # type: ignore[attr-defined]
    config = uvicorn.Config(
        app_path,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=graceful_shutdown_seconds(),
        # uvicorn kills a worker that does not answer its supervisor's ping within this bound; its
        # default (5 s) is shorter than a worker's start-up on a loaded 2-core machine, where it
        # killed every new worker before it could serve (a restart loop, measured at load ~20)
        timeout_worker_healthcheck=int(os.environ.get("SERVE_WORKER_HEALTHCHECK_SECONDS", "30")),
        log_config=None,
        server_header=False,
    )
    sock = inherited_socket(settings.port) or config.bind_socket()  # exits 1 when the port is taken
    sockets = [sock]
    try:
        sockets += [uvicorn.Config(app_path, host=h, port=p).bind_socket() for h, p in extra_listeners]
        try:
            claim_multiprocess_dir(settings.service_name, sock.getsockname()[1])
        except MultiprocessDirBusy as exc:
            print(f"{settings.service_name} serve: {exc}", file=sys.stderr)
            sys.exit(STARTUP_FAILURE)
        if workers > 1:
            preload_app(config)  # workers are forked from here, with the app already built
            MetricsAwareMultiprocess(config, sockets=sockets).run()
            return
        config.load_app()
        server = uvicorn.Server(config)
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=sockets)
        if not server.started:
            sys.exit(STARTUP_FAILURE)
    finally:
        for listening in sockets:
            listening.close()


#: the (host, port) listeners a service serves besides its main port, from its settings
ExtraListeners = Callable[[Any], Sequence[tuple[str, int]]]


def serve_command(
    app_path: str,
    settings_factory: Callable[[], BaseServiceSettings],
    server_app_path: str | None = None,
    extra_listeners: ExtraListeners | None = None,
) -> click.Command:
    defaults = settings_factory.model_fields  # type: ignore[attr-defined]

    def env_of(field: str) -> str:
        alias = defaults[field].validation_alias
        choices = getattr(alias, "choices", None)
        return str(choices[0] if choices else alias or field.upper())

    @click.command(
        name="serve",
        help="Run the API under uvicorn: N worker processes, restarted when one dies; SIGTERM drains "
        "in-flight requests. Options override the environment.",
    )
    @click.option("--host", default=None, help=f"address to listen on [env {env_of('host')}]")
    @click.option("--port", type=click.IntRange(0, 65535), default=None, help=f"port [env {env_of('port')}]")
    @click.option(
        "--workers",
        type=click.IntRange(0, 256),
        default=None,
        help=f"worker processes, 0 = one per core [env {env_of('workers')}]",
    )
    def serve_cmd(host: str | None, port: int | None, workers: int | None) -> None:
        settings = settings_factory()
        updates = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v is not None}
        settings = settings.model_copy(update=updates)
        serve(server_app_path or app_path, settings, extra_listeners(settings) if extra_listeners else ())

    return serve_cmd


class ServiceCLI(LitestarExtensionGroup):
    """Litestar's root group, except that the service's own commands (`own`) run without the app.

    Litestar builds the app before any command (to find its plugins' commands); for `serve` and
    `worker` that would import prometheus-client before the multiprocess directory is set up.
    """

    own: frozenset[str] = frozenset()

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # before the app is built (even for `--help`, which lists the plugins' commands): an
        # operator command records no metrics worth keeping, and in multiprocess mode it would write
        # its own files into a live instance's directory
        if not self._own_command(args):
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        ctx = click.Group.make_context(self, info_name, args, parent, **extra)
        if not self._own_command(args):
            self._prepare(ctx)
        return ctx

    def _prepare(self, ctx: click.Context) -> None:
        # `--help` must answer whatever the environment: an app that cannot be built here (e.g.
        # production settings refusing the development secrets) only hides its plugins' commands;
        # a command that needs the app builds it again and reports the error itself
        try:
            super()._prepare(ctx)
        except Exception as exc:  # noqa: BLE001 — any import or settings error of the app
            self._prepare_done = True
            errors = getattr(exc, "errors", None)  # pydantic's ValidationError: its first message
            reason = errors()[0]["msg"] if callable(errors) else (str(exc) or type(exc).__name__)
            click.echo(
                f"note: the app could not be loaded here ({reason}); the commands of its plugins "
                "(operator commands) are not listed",
                err=True,
            )

    def _own_command(self, args: list[str]) -> bool:
        """Whether the command line names one of `own` (skipping the group's --app/--app-dir)."""
        rest = list(args)
        while rest and rest[0].startswith("-"):
            option = rest.pop(0)
            if option in ("--app", "--app-dir") and rest:
                rest.pop(0)
        return bool(rest) and rest[0] in self.own


def service_cli(
    name: str,
    app_path: str,
    settings_factory: Callable[[], BaseServiceSettings],
    commands: Sequence[click.Command] = (),
    help_text: str = "",
    server_app_path: str | None = None,
    extra_listeners: ExtraListeners | None = None,
) -> click.Group:
    """The service's root command: its own commands (serve first) and every Litestar command.

    `serve` runs `server_app_path` (default `app_path`) on the service port plus `extra_listeners`."""
    from litestar.cli.main import litestar_group

    own = [serve_command(app_path, settings_factory, server_app_path, extra_listeners), *commands]
    group = ServiceCLI(
        name=name,
        params=list(litestar_group.params),
        callback=litestar_group.callback,
        help=help_text
        or f"{name}: `serve` runs the API; the other commands are operator tools and Litestar's own.",
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    group.own = frozenset(c.name for c in own if c.name)
    for cmd_name, cmd in litestar_group.commands.items():  # already wrapped by Litestar
        click.Group.add_command(group, cmd, cmd_name)
    for cmd in own:
        click.Group.add_command(group, cmd)
    return group


def run_service_cli(
    app_path: str,
    settings_factory: Callable[[], BaseServiceSettings],
    commands: Sequence[click.Command] = (),
    name: str | None = None,
    help_text: str = "",
    server_app_path: str | None = None,
    extra_listeners: ExtraListeners | None = None,
) -> None:
    os.environ.setdefault("LITESTAR_APP", app_path)
    cli_name = name or settings_factory.model_fields["service_name"].default  # type: ignore[attr-defined]
    service_cli(cli_name, app_path, settings_factory, commands, help_text, server_app_path, extra_listeners)(
        prog_name=cli_name
    )
