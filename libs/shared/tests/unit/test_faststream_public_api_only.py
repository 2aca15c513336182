"""libs/shared uses FastStream's public API only: no private module (`faststream._internal`, any
`_name` segment), no private name imported from it, no reach into its context's handler state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "shared"


def _faststream_imports(tree: ast.AST) -> list[tuple[int, str, str | None]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names if a.name.split(".")[0] == "faststream"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "faststream":
            found += [(node.lineno, node.module or "", a.name) for a in node.names]
    return found


def private_uses(source: str) -> list[str]:
    problems = []
    tree = ast.parse(source)
    for line, module, name in _faststream_imports(tree):
        if any(part.startswith("_") for part in module.split(".")):
            problems.append(f"line {line}: private module {module}")
        if name is not None and name.startswith("_"):
            problems.append(f"line {line}: private name {module}.{name}")
    for node in ast.walk(tree):
        # context.get_local("handler_") / context.get("handler_"): FastStream's own per-call state
        if isinstance(node, ast.Constant) and node.value in {"handler_", "_StreamHandlerMixin"}:
            problems.append(f"line {node.lineno}: FastStream internal state {node.value!r}")
    return problems


@pytest.mark.fast
def test_the_checker_catches_what_it_is_for():
    bad = (
        "from faststream._internal.middlewares import BaseMiddleware\n"
        "import faststream.redis.subscriber.usecases._x\n"
        "from faststream.redis import _private\n"
        "h = context.get_local('handler_')\n"
    )
    assert len(private_uses(bad)) == 4
    assert (
        private_uses("from faststream import BaseMiddleware\nfrom faststream.redis import StreamSub\n") == []
    )


@pytest.mark.fast
def test_libs_shared_uses_faststream_public_api_only():
    files = sorted(SRC.rglob("*.py"))
    assert any("faststream" in f.read_text() for f in files)  # the scan does look at the event code
    problems = [f"{f.relative_to(SRC)}: {p}" for f in files for p in private_uses(f.read_text())]
    assert problems == []


@pytest.mark.fast
def test_faststream_public_names_libs_shared_relies_on_exist():
    import faststream
    import faststream.message
    import faststream.rabbit
    import faststream.redis

    for module, names in {
        faststream: ("AckPolicy", "BaseMiddleware", "ContextRepo"),
        faststream.message: ("StreamMessage",),
        faststream.redis: ("RedisBroker", "RedisRouter", "StreamSub", "TestRedisBroker"),
        faststream.rabbit: ("RabbitBroker", "RabbitRouter", "RabbitQueue", "RabbitExchange", "QueueType"),
    }.items():
        missing = [n for n in names if not hasattr(module, n)]
        assert missing == [], f"{module.__name__} lacks {missing}"
