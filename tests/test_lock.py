"""The lock is what gets installed: every dependency is pinned, and the suite runs on the pins.

`requirements.lock` is made by `uv pip compile` (see README, "Upgrading dependencies"); the
README's commands and .ci/run install with `-c requirements.lock`, so a new machine gets the
versions CI tested, not whatever is newest.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, Requirement]:
    pins: dict[str, Requirement] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return [Requirement(r) for r in names]


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = locked()
    for requirement in declared():
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement.name} is not in requirements.lock: re-lock"
        (exact,) = pin.specifier
        assert exact.operator == "==", pin
        assert requirement.specifier.contains(exact.version, prereleases=True), (
            f"the lock's {pin} is outside pyproject's {requirement}: re-lock"
        )


def test_the_installed_versions_are_the_locked_ones() -> None:
    wrong = []
    for name, pin in locked().items():
        if pin.marker is not None and not pin.marker.evaluate():
            continue
        (exact,) = pin.specifier
        try:
            installed = version(name)
        except PackageNotFoundError:
            wrong.append(f"{name}: not installed, locked {exact.version}")
            continue
        if installed != exact.version:
            wrong.append(f"{name}: {installed} installed, locked {exact.version}")
    assert not wrong, "\n".join(wrong)
