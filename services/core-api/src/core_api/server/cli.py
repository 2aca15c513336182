"""Operator commands added to Litestar's CLI (`core-api <command>`, i.e. `python -m core_api`).

- `create-empresa`: a new empresa and its first admin (same rules as POST /auth/register);
- `demo-data`: loads the demo once (used by `make up`; `--json` ends with one JSON line);
- `create-indexes`: creates every collection's indexes and exits (the Kubernetes init container).

Each command opens MongoDB itself, like the lifespan does, runs, and closes it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from beanie import init_beanie
from click import Group
from litestar.plugins import CLIPluginProtocol
from pydantic import ValidationError
from pymongo.errors import PyMongoError
from shared.infra import ensure_indexes, mongo_client

from core_api.settings import CoreApiSettings

T = TypeVar("T")


def _run_with_db(settings: CoreApiSettings, work: Callable[[], Awaitable[T]]) -> T:
    from core_api.domain import all_documents

    async def _main() -> T:
        client = mongo_client(settings)
        try:
            # the same index handling as the lifespan (FerretDB-safe, one index per command)
            documents = all_documents()
            await init_beanie(
                database=client[settings.mongodb_db], document_models=documents, skip_indexes=True
            )
            await ensure_indexes(documents)
            return await work()
        finally:
            await client.close()

    try:
        return asyncio.run(_main())
    except PyMongoError as exc:
        raise click.ClickException(
            f"cannot reach MongoDB at {settings.mongodb_url} (database {settings.mongodb_db}): {exc}"
        ) from None


class CoreApiCLIPlugin(CLIPluginProtocol):
    """Registers core-api's operator commands on Litestar's CLI."""

    def __init__(self, settings: CoreApiSettings) -> None:
        self.settings = settings

    def on_cli_init(self, cli: Group) -> None:
        settings = self.settings

        @cli.command(name="create-empresa", help="Create an empresa and its first admin user.")
        @click.option("--nome", required=True, help="name of the empresa")
        @click.option("--cnpj", default=None, help="CNPJ (optional)")
        @click.option("--admin-email", required=True)
        @click.option(
            "--admin-password", required=True, help="8 to 128 characters, not a common or guessable one"
        )
        @click.option("--admin-nome", default="Administrador", show_default=True)
        def create_empresa(
            nome: str, cnpj: str | None, admin_email: str, admin_password: str, admin_nome: str
        ) -> None:
            from core_api.domain.auth.schemas import RegisterRequest
            from core_api.domain.auth.services import create_empresa_with_admin

            try:
                request = RegisterRequest.model_validate(
                    {
                        "empresa": {"nome": nome, "cnpj": cnpj},
                        "admin": {"nome": admin_nome, "email": admin_email, "password": admin_password},
                    }
                )
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
                )
                raise click.BadParameter(problems) from None

            async def work() -> dict[str, Any]:
                empresa, admin = await create_empresa_with_admin(request)
                return {"empresaId": str(empresa.id), "adminId": str(admin.id), "email": admin.email}

            try:
                result = _run_with_db(settings, work)
            except Exception as exc:  # a 409 from the service: say it plainly
                detail = getattr(exc, "detail", None)
                if detail:
                    raise click.ClickException(str(detail)) from None
                raise
            click.echo(f"created empresa {nome!r} ({result['empresaId']}) with admin {result['email']}")
            click.echo(json.dumps(result))

        @cli.command(
            name="create-indexes",
            help="Create every collection's indexes (idempotent) and exit; run before a rollout.",
        )
        def create_indexes() -> None:
            from core_api.domain import all_documents

            documents = all_documents()

            async def work() -> int:  # _run_with_db has created them by now
                return sum(len(d.get_settings().indexes or []) for d in documents)

            count = _run_with_db(settings, work)
            click.echo(f"{count} indexes ensured on {len(documents)} collections in {settings.mongodb_db}")

        @cli.command(
            name="demo-data", help="Load demo data (an empresa, its admin, regiões, placas, clientes) once."
        )
        @click.option("--if-empty", is_flag=True, help="only when the database has no empresa at all")
        @click.option("--json", "as_json", is_flag=True, help="end with one JSON line: email, password, note")
        @click.option("--password", default=None, help="demo admin password (required outside development)")
        def demo_data(if_empty: bool, as_json: bool, password: str | None) -> None:
            from core_api.domain.demo import DEMO_PASSWORD, load_demo_data

            if password is None:
                if not settings.is_development:
                    raise click.UsageError(
                        f"ENVIRONMENT={settings.environment}: pass --password; the default demo password "
                        "is for development only"
                    )
                password = DEMO_PASSWORD
            result = _run_with_db(settings, lambda: load_demo_data(password, if_empty=if_empty))
            click.echo(result["note"], err=as_json)
            if result.get("email"):
                click.echo(f"log in as {result['email']} / {result['password'] or '(changed)'}", err=as_json)
            if as_json:
                sys.stdout.write(
                    json.dumps({k: result[k] for k in ("email", "password", "note")}, ensure_ascii=False)
                    + "\n"
                )
