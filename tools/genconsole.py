"""Regenerate console/src/gen from proto/ with protoc-gen-es (run through `make console`).

The same protoc (grpcio-tools) and the same buf/validate descriptor as `make proto`, with the
console's npm plugin: the browser client is generated from exactly the protos the server serves,
plus google/rpc/error_details.proto for the details errors carry.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from genproto import PROTO, ROOT, VALIDATE, include_args, write_validate_descriptor

CONSOLE = ROOT / "console"
GEN = CONSOLE / "src" / "gen"
PLUGIN = CONSOLE / "node_modules" / ".bin" / "protoc-gen-es"
EXTRA = ("google/rpc/error_details.proto",)


def main() -> None:
    from grpc_tools import protoc

    if not PLUGIN.exists():
        sys.exit("console/node_modules is missing: run `npm ci` in console/")
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        deps = Path(tmp) / "validate.binpb"
        write_validate_descriptor(deps)
        out = Path(tmp) / "out"
        out.mkdir()
        args = [
            "grpc_tools.protoc",
            *include_args(deps),
            f"--plugin=protoc-gen-es={PLUGIN}",
            f"--es_out={out}",
            "--es_opt=target=ts,import_extension=none",
            *files,
            *EXTRA,
            VALIDATE,
            "google/api/annotations.proto",
            "google/api/http.proto",
            "google/api/field_behavior.proto",
        ]
        if protoc.main(args) != 0:
            sys.exit("protoc failed")
        if GEN.exists():
            shutil.rmtree(GEN)
        shutil.copytree(out, GEN)


if __name__ == "__main__":
    main()
