"""`make rollout [PDF=0..100] [STICKY=on|off] [SHADOW=0..100]`: show or change the PDF traffic split.

The PDF routes go through the weighted Traefik service `pdf-split` (core-api, the legacy renderer, vs
pdf-service with failover to core-api). Its definition lives alone in `pdf-rollout.yml`, in the
directory Traefik's file provider watches; this command rewrites that RUNTIME copy (write a temp file
next to it, fsync, rename) and Traefik applies it without a restart. The checked-in
`gateway/dynamic/pdf-rollout.yml` is only the starting point of a fresh stack.

A bad value changes nothing: the input is validated before the file is touched. With Traefik's API
reachable (internal entry point) the command waits until Traefik serves the new weights.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from devstack.gateway import ROLLOUT_FILE
from devstack.servers import ROOT

SPLIT = "pdf-split"
LEGACY = "core-api-pdf"
#: names the legacy half had in earlier versions of the file (still read, rewritten on the next change)
LEGACY_ALIASES = ("core-api",)
LEGACY_SHADOWED = "core-api-shadowed"
NEW = "pdf-service-with-failover"
SHADOW_TARGET = "pdf-service-shadow"
STICKY_COOKIE = "pdf_backend"

HEADER = """\
# The share of PDF traffic (GET /api/v1/{pis,contratos}/{id}/pdf) sent to pdf-service: strangler fig.
# Managed by `make rollout` (scripts/devstack/rollout.py), which rewrites the runtime copy of this
# file in the directory Traefik watches; Traefik applies it without a restart. Rollback: PDF=0.
#   core-api-pdf               core-api (the monolith's legacy renderer), PDF-only metric series
#   pdf-service-with-failover  pdf-service-pdf, replayed on core-api-pdf when it is down (routes.yml)
#   core-api-shadowed          core-api-pdf, mirroring a share of its requests to pdf-service-shadow
"""


class RolloutError(Exception):
    """A request this command refuses; the message says why and what to do."""


@dataclass(frozen=True)
class RolloutState:
    pdf_percent: int = 0
    sticky: bool = False
    shadow_percent: int = 0

    def describe(self) -> str:
        legacy = 100 - self.pdf_percent
        shadow = (
            f"{self.shadow_percent} % of core-api's PDF requests mirrored to pdf-service (responses discarded)"
            if self.shadow_percent
            else "off"
        )
        sticky = f"on (cookie {STICKY_COOKIE})" if self.sticky else "off"
        return (
            f"  core-api    (legacy renderer)  {legacy:3d} %\n"
            f"  pdf-service (new)              {self.pdf_percent:3d} %   falls back to core-api when down\n"
            f"  sticky per client              {sticky}\n"
            f"  shadow                         {shadow}"
        )


def percent(raw: str, what: str = "PDF") -> int:
    """Parse a share of traffic: a whole number from 0 to 100 (a trailing % is allowed)."""
    text = str(raw).strip().removesuffix("%").strip()
    if not text.lstrip("-").isdigit():
        raise RolloutError(
            f"{what}={raw!r} is not a whole number; give a percentage from 0 to 100, e.g. {what}=25"
        )
    value = int(text)
    if not 0 <= value <= 100:
        raise RolloutError(f"{what}={value} is out of range; give a percentage from 0 to 100")
    return value


def on_off(raw: str) -> bool:
    text = str(raw).strip().lower()
    if text in {"on", "true", "yes", "1"}:
        return True
    if text in {"off", "false", "no", "0"}:
        return False
    raise RolloutError(f"STICKY={raw!r} is neither on nor off")


def render(state: RolloutState) -> str:
    """The YAML of `pdf-rollout.yml` for a state (the only writer of that file)."""
    legacy_name = LEGACY_SHADOWED if state.shadow_percent else LEGACY
    weighted: dict = {
        "services": [
            {"name": legacy_name, "weight": 100 - state.pdf_percent},
            {"name": NEW, "weight": state.pdf_percent},
        ]
    }
    if state.sticky:
        # Secure is left off so the cookie works on the plain-HTTP local stack; the Kubernetes
        # component sets it (TLS ends in front of Traefik there).
        weighted["sticky"] = {"cookie": {"name": STICKY_COOKIE, "httpOnly": True, "sameSite": "lax"}}
    services: dict = {SPLIT: {"weighted": weighted}}
    if state.shadow_percent:
        services[LEGACY_SHADOWED] = {
            "mirroring": {
                "service": LEGACY,
                "mirrorBody": False,
                "mirrors": [{"name": SHADOW_TARGET, "percent": state.shadow_percent}],
            }
        }
    return HEADER + yaml.safe_dump({"http": {"services": services}}, sort_keys=False)


def parse(text: str) -> RolloutState:
    """Read the state back from a `pdf-rollout.yml` (written by `render` or edited by hand)."""
    try:
        doc = yaml.safe_load(text) or {}
        services = doc["http"]["services"]
        weighted = services[SPLIT]["weighted"]
        weights = {s["name"]: int(s.get("weight", 1)) for s in weighted["services"]}
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise RolloutError(f"{ROLLOUT_FILE} has no readable weighted service {SPLIT!r}: {exc}") from exc
    legacy = sum(weights.get(n, 0) for n in (LEGACY, LEGACY_SHADOWED, *LEGACY_ALIASES))
    new = weights.get(NEW, 0)
    if legacy + new <= 0:
        raise RolloutError(f"{ROLLOUT_FILE}: {SPLIT} has no positive weight for {LEGACY} or {NEW}")
    shadow = 0
    if LEGACY_SHADOWED in weights:
        mirrors = services.get(LEGACY_SHADOWED, {}).get("mirroring", {}).get("mirrors", [])
        shadow = sum(int(m.get("percent", 0)) for m in mirrors)
    return RolloutState(
        pdf_percent=round(100 * new / (legacy + new)),
        sticky=bool(weighted.get("sticky")),
        shadow_percent=shadow,
    )


def default_dir() -> Path:
    if os.environ.get("ROLLOUT_DIR"):
        return Path(os.environ["ROLLOUT_DIR"])
    data = Path(os.environ.get("STACK_DATA_DIR", ROOT / ".data"))
    return data / "gateway" / "dynamic"


def read_state(directory: Path) -> RolloutState:
    path = directory / ROLLOUT_FILE
    if not directory.is_dir():
        raise RolloutError(
            f"no runtime gateway configuration at {directory}: start the stack (`make up`) first, "
            "or point --dir / ROLLOUT_DIR at the directory Traefik watches"
        )
    if not path.exists():
        return RolloutState()  # the gateway falls back to nothing: 0 % is what a fresh stack starts with
    return parse(path.read_text())


def write_state(directory: Path, state: RolloutState) -> Path:
    """Replace `pdf-rollout.yml` atomically: Traefik never reads a half-written file."""
    path = directory / ROLLOUT_FILE
    # a name Traefik's file provider skips (it only loads .yml/.yaml/.toml)
    fd, tmp = tempfile.mkstemp(prefix=f".{ROLLOUT_FILE}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(render(state))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


@contextlib.contextmanager
def locked(directory: Path):
    """Serialise concurrent rollouts (read-modify-write of one file)."""
    with open(directory / f".{ROLLOUT_FILE}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


#: what `served_state` answers when Traefik is up but has no usable `pdf-split` (invalid config)
NOT_SERVED = RolloutState(pdf_percent=-1)


def served_state(api: str, timeout: float = 2.0) -> RolloutState | None:
    """The split Traefik is serving now, from its API on the internal entry point (None: unreachable)."""
    try:
        with urllib.request.urlopen(f"{api}/api/http/services/{SPLIT}@file", timeout=timeout) as r:  # noqa: S310
            body = json.load(r)
    except urllib.error.HTTPError:
        return NOT_SERVED
    except (urllib.error.URLError, OSError, ValueError):
        return None
    weighted = body.get("weighted") or {}
    weights = {s["name"]: int(s.get("weight", 1)) for s in weighted.get("services", [])}
    legacy = sum(weights.get(n, 0) for n in (LEGACY, LEGACY_SHADOWED, *LEGACY_ALIASES))
    new = weights.get(NEW, 0)
    shadow = 0
    if LEGACY_SHADOWED in weights:
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            url = f"{api}/api/http/services/{LEGACY_SHADOWED}@file"
            with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310
                mirrors = (json.load(r).get("mirroring") or {}).get("mirrors", [])
                shadow = sum(int(m.get("percent", 0)) for m in mirrors)
    return RolloutState(
        pdf_percent=round(100 * new / (legacy + new)) if legacy + new else 0,
        sticky=bool(weighted.get("sticky")),
        shadow_percent=shadow,
    )


def wait_applied(api: str, state: RolloutState, timeout: float) -> tuple[bool | None, float]:
    """Poll Traefik until it serves `state`: (True, seconds) / (False, …) on timeout / (None, …) unreachable."""
    start = time.monotonic()
    while True:
        served = served_state(api)
        elapsed = time.monotonic() - start
        if served is None:
            return None, elapsed
        if served == state:
            return True, elapsed
        if elapsed >= timeout:
            return False, elapsed
        time.sleep(0.25)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="make rollout",
        description="Show or change the share of PDF traffic served by pdf-service (strangler fig).",
        epilog="Examples: make rollout | make rollout PDF=25 | make rollout PDF=0 (rollback) | "
        "make rollout SHADOW=10 | make rollout STICKY=on",
    )
    p.add_argument("--pdf", metavar="0..100", help="percent of PDF requests routed to pdf-service")
    p.add_argument("--sticky", metavar="on|off", help="keep each client on the backend it first got (cookie)")
    p.add_argument(
        "--shadow", metavar="0..100", help="percent of core-api's PDF requests mirrored to pdf-service"
    )
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="directory Traefik watches (default: $ROLLOUT_DIR, else $STACK_DATA_DIR/gateway/dynamic, else .data/gateway/dynamic)",
    )
    p.add_argument(
        "--api",
        default=os.environ.get(
            "GATEWAY_API_URL", f"http://127.0.0.1:{os.environ.get('GATEWAY_INTERNAL_PORT', '8082')}"
        ),
        help="Traefik's internal entry point, to confirm the change is served (default: %(default)s)",
    )
    p.add_argument("--wait", type=float, default=15.0, help="seconds to wait for Traefik to apply it")
    p.add_argument("--json", action="store_true", help="print the resulting state as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    directory = args.dir or default_dir()
    try:
        # validate every input before touching anything
        changes: dict = {}
        if args.pdf is not None:
            changes["pdf_percent"] = percent(args.pdf, "PDF")
        if args.shadow is not None:
            changes["shadow_percent"] = percent(args.shadow, "SHADOW")
        if args.sticky is not None:
            changes["sticky"] = on_off(args.sticky)
        with locked(directory) if directory.is_dir() else contextlib.nullcontext():
            current = read_state(directory)
            target = replace(current, **changes)
            if changes and target != current:
                write_state(directory, target)
    except RolloutError as exc:
        print(f"make rollout: {exc}; nothing was changed", file=sys.stderr)
        return 2

    changed = bool(changes) and target != current
    if args.json:
        print(
            json.dumps(
                {
                    "pdfPercent": target.pdf_percent,
                    "sticky": target.sticky,
                    "shadowPercent": target.shadow_percent,
                    "changed": changed,
                    "file": str(directory / ROLLOUT_FILE),
                }
            )
        )
    else:
        verb = "now" if changed else ("unchanged" if changes else "current")
        print(f"PDF routes ({verb}; {directory / ROLLOUT_FILE}):\n{target.describe()}")
    if target.shadow_percent and target.pdf_percent == 100:
        print("note: at PDF=100 no request reaches core-api, so nothing is mirrored", file=sys.stderr)

    if not changed:
        served = served_state(args.api)
        if served is None:
            print(f"Traefik: not reachable at {args.api} (stack not running?)", file=sys.stderr)
        elif served == target:
            print(f"Traefik: serving this split ({args.api})")
        else:
            print(
                f"Traefik: still serving another split (a change in flight, or see its log): {served}",
                file=sys.stderr,
            )
        return 0

    applied, seconds = wait_applied(args.api, target, args.wait)
    if applied is None:
        print(f"Traefik: not reachable at {args.api}; it applies the file when it starts", file=sys.stderr)
    elif applied:
        print(f"Traefik: serving it {seconds:.1f} s after the write (no restart)")
    else:
        print(
            f"Traefik at {args.api} does not serve this split after {seconds:.0f} s: its log says why "
            "(an invalid file leaves the previous configuration in place)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
