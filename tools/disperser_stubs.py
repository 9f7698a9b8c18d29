"""Generates the DA disperser's gRPC stubs (zerog/da/proto/disperser_pb2*.py, .pyi) from its .proto with
grpcio-tools: `python tools/disperser_stubs.py`; with --check, exits 1 if the committed stubs differ from what
it would write (tests/da/test_disperser.py runs that)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Relative to the repo root, so the generated modules import each other as `zerog.da.proto.…`.
PROTO = "zerog/da/proto/disperser.proto"
STUBS = ("disperser_pb2.py", "disperser_pb2.pyi", "disperser_pb2_grpc.py")


def generate(out: Path) -> list[Path]:
    """Write the stubs under `out` (as `out/zerog/da/proto/…`); their paths."""
    include = str(Path(protoc.__file__).parent / "_proto")
    args = [f"-I{REPO_ROOT}", f"-I{include}", f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"]
    if protoc.main(["protoc", *args, str(REPO_ROOT / PROTO)]) != 0:
        raise SystemExit(f"protoc failed on {PROTO}")
    return [out / PROTO.rsplit("/", 1)[0] / name for name in STUBS]


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        for path in generate(REPO_ROOT):
            print(f"wrote {path.relative_to(REPO_ROOT)}")  # noqa: T201 - a tool's report
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        committed = REPO_ROOT / PROTO
        stale = [p.name for p in generate(Path(tmp)) if p.read_bytes() != committed.with_name(p.name).read_bytes()]
    if stale:
        print(f"stale stubs: {', '.join(stale)}; run python tools/disperser_stubs.py", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
