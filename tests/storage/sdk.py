"""Running the official 0G TS SDK (npm package) from tests and benches."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("official_sdk.mjs")
REPO_ROOT = SCRIPT.parents[2]


def official_sdk(*args: str, timeout: float = 300) -> dict[str, Any]:
    """Run official_sdk.mjs; its last stdout line is JSON. Raises with the SDK's stderr on failure."""
    node = shutil.which("node")
    assert node, "node is required (it installs the npm toolchain)"
    result = subprocess.run(
        [node, str(SCRIPT), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"official SDK {args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
