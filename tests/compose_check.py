"""docker-compose.yml checked where no Docker engine is: parsed and validated by a compose-spec
parser (the `compose-spec` package), then what the dialer needs of it. `.ci/run` runs it
(`python -m tests.compose_check docker-compose.yml`) when `docker compose` is absent.
"""

from __future__ import annotations

import itertools
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from compose_spec import PyOptions

REQUIRED_SERVICES = ("redis", "worker", "beat", "webhooks", "flower")
_INTERPOLATION = re.compile(r"\$(\$|\{[A-Za-z_][A-Za-z0-9_]*(?:(?::?[-?+])[^}]*)?\}|[A-Za-z_])")


def problems(compose_path: Path) -> list[str]:
    """What is wrong with the compose file (and the Dockerfile it builds), in words."""
    text = compose_path.read_text()
    try:
        compose = PyOptions(apply_merge=True).from_yaml(text)
        compose.validate()
    except ValueError as exc:
        return [f"{compose_path}: not a valid compose file: {exc}"]
    spec: dict[str, Any] = compose.to_dict()
    services: dict[str, Any] = spec.get("services") or {}
    found = [f"service {n!r} is missing" for n in REQUIRED_SERVICES if n not in services]
    for name, service in services.items():
        found += _service_problems(name, service, services, spec.get("volumes") or {})
    found += _interpolation_problems(text)
    found += _redis_problems(services.get("redis") or {})
    root = compose_path.parent
    if any("build" in s for s in services.values()):
        found += _dockerfile_problems(root / "Dockerfile", root / "pyproject.toml", services)
    return found


def _service_problems(
    name: str, service: dict[str, Any], services: dict[str, Any], volumes: dict[str, Any]
) -> list[str]:
    found = []
    if not (service.get("healthcheck") or {}).get("test"):
        found.append(f"service {name!r} has no healthcheck")
    for needed in service.get("depends_on") or {}:
        if needed not in services:
            found.append(f"service {name!r} depends on {needed!r}, which is not defined")
    for mount in service.get("volumes") or []:
        source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
        if source and not source.startswith((".", "/", "~")) and source not in volumes:
            found.append(f"service {name!r} mounts volume {source!r}, which is not defined")
    return found


def _interpolation_problems(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = _INTERPOLATION.sub("", line)
        if "$" in stripped and not line.lstrip().startswith("#"):
            found.append(f"line {number}: a `$` that is not an interpolation (write $$): {line}")
    return found


def _redis_problems(redis: dict[str, Any]) -> list[str]:
    command = redis.get("command") or []
    words = command if isinstance(command, list) else str(command).split()
    pairs = dict(itertools.pairwise(words))
    if pairs.get("--appendonly") != "yes" or pairs.get("--appendfsync") != "always":
        return ["redis must run with --appendonly yes --appendfsync always (no intent lost)"]
    return []


def _dockerfile_problems(dockerfile: Path, pyproject: Path, services: dict[str, Any]) -> list[str]:
    """Images install the project and its declared extras, nothing else."""
    if not dockerfile.exists():
        return [f"{dockerfile} is missing (services build from it)"]
    found = []
    for line in dockerfile.read_text().splitlines():
        for match in re.finditer(r"pip install ((?:--?[\w-]+ )*)(\S+)", line):
            if match.group(2) not in (".", '".${EXTRAS}"'):
                found.append(f"Dockerfile installs {match.group(2)}: only the project itself")
    extras = tomllib.loads(pyproject.read_text())["project"].get("optional-dependencies", {})
    for name, service in services.items():
        build = service.get("build")
        args = build.get("args", {}) if isinstance(build, dict) else {}
        wanted = str(args.get("EXTRAS", "")).strip("[]")
        for extra in filter(None, wanted.split(",")):
            if extra not in extras:
                found.append(f"service {name!r} builds with extra {extra!r}, not in pyproject")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "docker-compose.yml")
    found = problems(path)
    for problem in found:
        print(f"{path}: {problem}", file=sys.stderr)
    if not found:
        print(f"{path}: valid (compose-spec), services {', '.join(REQUIRED_SERVICES)} checked")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
