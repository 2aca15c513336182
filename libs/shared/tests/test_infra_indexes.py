"""`ensure_indexes` at a restart: indexes already present are not created again (issue 12).

Every worker of every restart used to send one `createIndexes` per declared index — on a busy
FerretDB each a write waiting for SQLite's lock (a restarted worker spent minutes there in the soak).
"""

from __future__ import annotations

from typing import Any

from beanie import Document, init_beanie
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.monitoring import CommandListener, CommandStartedEvent
from shared.infra import ensure_indexes


class Recorder(CommandListener):
    def __init__(self) -> None:
        self.commands: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.commands.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


class Sample(Document):
    a: int = 0
    b: int = 0

    class Settings:
        name = "samples"
        indexes = [
            IndexModel([("a", ASCENDING)]),
            IndexModel([("b", ASCENDING)], unique=True, name="b_unique"),
        ]


async def test_a_restart_creates_only_the_missing_indexes(mongodb_url: str, unique_name: str) -> None:
    recorder = Recorder()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongodb_url, event_listeners=[recorder])
    try:
        db = client[f"t_idx_{unique_name}"]
        await init_beanie(database=db, document_models=[Sample], skip_indexes=True)
        await ensure_indexes([Sample])  # first start: both created
        assert recorder.commands.count("createIndexes") == 2
        names = {i["name"] async for i in await db["samples"].list_indexes()}
        assert {"a_1", "b_unique"} <= names

        recorder.commands.clear()
        await ensure_indexes([Sample])  # a restart: nothing to create
        assert recorder.commands.count("createIndexes") == 0
        assert recorder.commands.count("listIndexes") == 1

        await db["samples"].drop_index("a_1")
        recorder.commands.clear()
        await ensure_indexes([Sample])  # one missing: only that one
        assert recorder.commands.count("createIndexes") == 1
        assert "a_1" in {i["name"] async for i in await db["samples"].list_indexes()}
    finally:
        await client.close()
