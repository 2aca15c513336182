"""Helpers shared by the benchmarks: a bounded HTTP load generator, percentiles, a results file."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "benchmarks.md"


@dataclass
class LoadResult:
    label: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        k = min(len(data) - 1, max(0, round(p / 100 * (len(data) - 1))))
        return data[k] * 1000

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p99(self) -> float:
        return self.pct(99)

    def row(self) -> str:
        return f"| {self.label} | {self.rps:.0f} | {self.p50:.1f} | {self.p99:.1f} | {self.errors} |"


async def load(
    label: str,
    base_url: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    requests: int = 600,
    concurrency: int = 8,
    warmup: int = 20,
) -> LoadResult:
    """Send `requests` GETs with `concurrency` workers (bounded in count), after a warm-up."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:
        for _ in range(warmup):
            await client.get(path)
        latencies: list[float] = []
        errors = 0
        remaining = requests

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return LoadResult(label, requests, errors, time.perf_counter() - start, latencies)


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "n/a"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_section(title: str, body: str) -> None:
    """Replace (or append) the `## title` section of docs/benchmarks.md."""
    text = (
        RESULTS.read_text()
        if RESULTS.exists()
        else "# Benchmarks\n\nWritten by `make bench`; each section is measured side by side in one run on this 2-core machine.\n"
    )
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")
