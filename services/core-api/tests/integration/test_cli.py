"""The operator CLI, run as `make up` runs it: `python -m core_api <command>` in a subprocess."""

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from core_api.domain.demo import DEMO_EMAIL, DEMO_PASSWORD
from core_api.server.cli import CoreApiCLIPlugin

# the CLI creates indexes on a fresh database, loads demo data into an empty one, and drops it
pytestmark = pytest.mark.own_database


@pytest.fixture
def cli_env(core_settings):
    env = {
        **os.environ,
        "MONGODB_URL": core_settings.mongodb_url,
        "REDIS_URL": core_settings.redis_url,
        "CORE_API_MONGODB_DB": core_settings.mongodb_db,
        "ENVIRONMENT": "development",
        "LOG_JSON": "false",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "core_api", *args], env=env, capture_output=True, text=True, timeout=300
        )

    return run


async def test_demo_data_loads_once_and_login_works(cli_env, core_client):
    first = cli_env("demo-data", "--if-empty", "--json")
    assert first.returncode == 0, first.stderr
    login = json.loads(first.stdout.strip().splitlines()[-1])
    assert login["email"] == DEMO_EMAIL and login["password"] == DEMO_PASSWORD and "loaded" in login["note"]

    second = cli_env("demo-data", "--if-empty", "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again["email"] == DEMO_EMAIL and again["password"] == DEMO_PASSWORD
    assert "already" in again["note"]

    r = await core_client.post(
        "/api/v1/auth/login", json={"email": login["email"], "password": login["password"]}
    )
    assert r.status_code == 200, r.text
    h = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    placas = (await core_client.get("/api/v1/placas", params={"pageSize": 100}, headers=h)).json()
    regioes = (await core_client.get("/api/v1/regioes", headers=h)).json()
    clientes = (await core_client.get("/api/v1/clientes", headers=h)).json()
    assert placas["total"] == 14 and regioes["total"] == 5 and clientes["total"] == 5  # loaded once
    # Lei Cidade Limpa: no outdoor on São Paulo's streets; the capital's placas are empenas
    capital = [p for p in placas["items"] if p["cidade"] == "São Paulo"]
    assert capital and {p["tipo"] for p in capital} == {"empena"}
    assert len({p["cidade"] for p in placas["items"]}) >= 5
    empresa = (await core_client.get("/api/v1/empresa", headers=h)).json()
    assert empresa["cidade"] == "Guarulhos" and empresa["representante"]["nome"]


async def test_create_empresa_then_login(cli_env, core_client):
    r = cli_env(
        "create-empresa",
        "--nome",
        "Outdoor CLI",
        "--admin-email",
        "ops@cli.example",
        "--admin-password",
        "senha-cli-123",
    )
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout.strip().splitlines()[-1])
    assert created["email"] == "ops@cli.example"
    login = await core_client.post(
        "/api/v1/auth/login", json={"email": "ops@cli.example", "password": "senha-cli-123"}
    )
    assert login.status_code == 200
    me = await core_client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['accessToken']}"}
    )
    assert me.json()["empresa"]["nome"] == "Outdoor CLI" and me.json()["user"]["role"] == "admin"

    dup = cli_env(
        "create-empresa",
        "--nome",
        "Outra",
        "--admin-email",
        "ops@cli.example",
        "--admin-password",
        "senha-cli-123",
    )
    assert dup.returncode != 0 and "already exists" in dup.stderr and "Traceback" not in dup.stderr


def test_create_empresa_refuses_bad_input_before_touching_the_database(core_settings):
    # in-process: validation fails before any database access, so no Beanie state is touched
    group = click.Group()
    CoreApiCLIPlugin(core_settings).on_cli_init(group)
    result = CliRunner().invoke(
        group, ["create-empresa", "--nome", "X", "--admin-email", "not-an-email", "--admin-password", "curta"]
    )
    assert result.exit_code != 0
    assert "admin.password" in result.output and "admin.email" in result.output


def test_demo_data_refuses_the_default_password_outside_development(core_settings):
    group = click.Group()
    prod = core_settings.model_copy(update={"environment": "production"})
    CoreApiCLIPlugin(prod).on_cli_init(group)
    result = CliRunner().invoke(group, ["demo-data", "--json"])
    assert result.exit_code != 0 and "--password" in result.output


def test_create_indexes_creates_every_declared_index_and_is_idempotent(cli_env, core_settings):
    # what the Kubernetes init container runs: a fresh database gets every declared index, and a
    # second run (the next rollout, another replica) succeeds without changing anything
    from core_api.domain import all_documents
    from pymongo import IndexModel, MongoClient

    first = cli_env("create-indexes")
    assert first.returncode == 0, first.stderr
    assert "indexes ensured" in first.stdout and core_settings.mongodb_db in first.stdout
    second = cli_env("create-indexes")
    assert second.returncode == 0, second.stderr

    client: MongoClient = MongoClient(core_settings.mongodb_url, serverSelectionTimeoutMS=3000)
    try:
        db = client[core_settings.mongodb_db]
        checked = 0
        for model in all_documents():  # declared on each model's Settings (Beanie is not initialised here)
            collection = getattr(model.Settings, "name", model.__name__)
            for index in getattr(model.Settings, "indexes", []):
                if isinstance(index, IndexModel):
                    assert index.document["name"] in db[collection].index_information(), (
                        collection,
                        index.document,
                    )
                    checked += 1
        assert checked >= 2
        assert db["placas"].index_information()["empresa_numero_unique"].get("unique") is True
    finally:
        client.drop_database(core_settings.mongodb_db)
        client.close()


def test_create_indexes_fails_clearly_without_mongodb(core_settings):
    env = {
        **os.environ,
        "MONGODB_URL": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300",
        "MONGODB_TIMEOUT_MS": "300",
        "ENVIRONMENT": "development",
        "LOG_JSON": "false",
    }
    r = subprocess.run(
        [sys.executable, "-m", "core_api", "create-indexes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode != 0 and "cannot reach MongoDB" in r.stderr and "Traceback" not in r.stderr
