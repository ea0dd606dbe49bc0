"""Hatchling build hook: vendor the query UI's YASGUI assets from npm into the package.

The assets (``src/filmgraph/web/static/vendor/yasgui/``) are not in git: they
come from the npm registry at build time, pinned by ``frontend/package-lock.json``.
When they are missing, or were copied from another lock file, this hook runs
``npm ci`` (``npm install`` without a lock) and ``npm run build`` in
``frontend/``. ``pip install .``, ``pip install -e .`` and ``python -m build``
all go through it; an sdist carries the assets, so a wheel built from it needs
no npm. By hand: ``cd frontend && npm ci && npm run build``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDOR = Path("src/filmgraph/web/static/vendor/yasgui")
FRONTEND = Path("frontend")
ASSETS = ("yasgui.min.js", "yasgui.min.css")
NPM_TIMEOUT = 900  # seconds; a registry that does not answer must not hang the build forever


class AssetsError(RuntimeError):
    """The query UI's assets could not be built."""


def assets_current(root: Path) -> bool:
    """Whether the vendored assets exist and were copied from the current lock file."""
    vendor = root / VENDOR
    stamp_file = vendor / "ASSETS.json"
    if not all((vendor / name).is_file() for name in ASSETS) or not stamp_file.is_file():
        return False
    lock = root / FRONTEND / "package-lock.json"
    if not lock.is_file():
        return True  # an sdist or a copy without the frontend: the shipped assets are all there is
    stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
    return bool(stamp.get("lockSha256") == hashlib.sha256(lock.read_bytes()).hexdigest())


def build_assets(root: Path, log: Any = print) -> None:
    """Install the npm packages of ``frontend/`` and copy YASGUI into the package."""
    frontend = root / FRONTEND
    if not (frontend / "package.json").is_file():
        raise AssetsError(
            f"the query UI's assets are missing ({root / VENDOR}) and there is no {frontend / 'package.json'} to build them from"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "building filmgraph needs npm (Node.js 18 or later) to fetch the query UI (YASGUI) from the npm registry, "
            "and npm is not on PATH. Install it (Debian: apt-get install nodejs npm) and build again."
        )
    install = ["ci"] if (frontend / "package-lock.json").is_file() else ["install"]
    # Install scripts are not needed (the packages ship built files) and are not run.
    for args in (
        [*install, "--ignore-scripts", "--no-audit", "--no-fund"],
        ["run", "build"],
    ):
        log(f"filmgraph build: npm {' '.join(args)} (in {frontend})")
        try:
            done = subprocess.run(
                [npm, *args], cwd=frontend, capture_output=True, text=True, timeout=NPM_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise AssetsError(f"npm {args[0]} did not finish within {NPM_TIMEOUT} s in {frontend}") from None
        if done.returncode != 0:
            raise AssetsError(
                f"npm {' '.join(args)} failed in {frontend} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
    if not assets_current(root):
        raise AssetsError(f"npm run build did not produce the query UI's assets in {root / VENDOR}")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Make sure the vendored YASGUI assets are present before the files are collected."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the assets when they are missing or stale."""
        root = Path(self.root)
        if assets_current(root):
            return
        build_assets(root, log=self.app.display_info)

