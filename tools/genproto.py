"""Regenerate src/mailgate/gen from proto/ with grpcio-tools (run through `make proto`).

buf/validate/validate.proto is not vendored as source: its descriptor is taken from the installed
protovalidate package and handed to protoc with --descriptor_set_in, so the rules we compile
against are exactly the ones the validator enforces.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from protovalidate._gen.buf.validate import validate_pb

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
GEN = ROOT / "src" / "mailgate" / "gen"
VALIDATE = "buf/validate/validate.proto"
# Top-level proto packages whose generated modules live under mailgate.gen.
OWN_PACKAGES = ("zitadel", "mailgate", "buf")


def write_validate_descriptor(path: Path) -> None:
    """Write a FileDescriptorSet holding buf/validate/validate.proto, as protovalidate ships it."""
    fds = descriptor_pb2.FileDescriptorSet()
    fds.file.add().ParseFromString(validate_pb.desc().proto.to_binary())
    path.write_bytes(fds.SerializeToString())


def image_path() -> Path:
    """Where `make lint` finds the descriptor image that buf lints."""
    return ROOT / "build" / "proto-image.binpb"


def include_args(deps: Path) -> list[str]:
    """protoc's inputs besides proto/: the buf/validate descriptor, google/api and google/rpc, the WKTs."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    site = Path(descriptor_pb2.__file__).parent.parent.parent  # site-packages, for google/api and google/rpc
    return [f"--descriptor_set_in={deps}", f"-I{PROTO}", f"-I{site}", f"-I{include}"]


def protoc(out: Path, deps: Path, files: list[str]) -> None:
    image_path().parent.mkdir(exist_ok=True)
    args = [
        "grpc_tools.protoc",
        *include_args(deps),
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={image_path()}",
        *files,
    ]
    from grpc_tools import protoc as _protoc

    if _protoc.main(args) != 0:
        sys.exit("protoc failed")


def rewrite_imports(path: Path) -> None:
    """Make generated imports of our own proto packages point into mailgate.gen."""
    own = "|".join(OWN_PACKAGES)
    text = re.sub(rf"^(from|import) ({own})\b", r"\1 mailgate.gen.\2", path.read_text(), flags=re.M)
    path.write_text(text)


def main() -> None:
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        deps = tmpdir / "validate.binpb"
        write_validate_descriptor(deps)
        out = tmpdir / "out"
        out.mkdir()
        protoc(out, deps, [*files, VALIDATE])
        for generated in out.rglob("*_grpc.py"):
            if "def add_" not in generated.read_text():  # no service in that file
                generated.unlink()
        for generated in out.rglob("*.py*"):
            rewrite_imports(generated)
        for folder in [out, *(p for p in out.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").touch()
        (out / "__init__.py").write_text(
            '"""Generated protobuf and gRPC stubs; never edit by hand (make proto)."""\n'
        )
        if GEN.exists():
            shutil.rmtree(GEN)
        shutil.copytree(out, GEN)
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(GEN)], check=False)


if __name__ == "__main__":
    main()
