"""Dump the protobuf descriptors compiled into the installed Python flwr package.

Prints one JSON object to stdout:

    {"flwrVersion": "1.29.0", "protobufVersion": "...", "file": [FileDescriptorProto, ...]}

Each entry of "file" is a ``google.protobuf.FileDescriptorProto`` rendered with
``json_format.MessageToDict`` (camelCase keys, enum values by name), i.e. the same
shape as ``buf build -o -#format=json``, so that flwr-ts can compare the two with
one normaliser (``packages/flwr-core/test/proto-descriptors.test.ts``).

Every ``flwr/proto/*_pb2`` module is imported, together with the ``flwr/proto``
files it depends on; files are sorted by name. Usage:

    .venv/bin/python interop/dump_descriptors.py
"""

import importlib
import json
import pkgutil
import sys


def main() -> int:
    try:
        import flwr
        import flwr.proto
        import google.protobuf
        from google.protobuf import descriptor_pb2
        from google.protobuf.json_format import MessageToDict
    except ImportError as err:
        print(f"dump_descriptors: cannot import flwr/protobuf: {err}", file=sys.stderr)
        return 2

    files = {}

    def visit(fd) -> None:
        if fd.name in files or not fd.name.startswith("flwr/proto/"):
            return
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        files[fd.name] = MessageToDict(proto)
        for dep in fd.dependencies:
            visit(dep)

    modules = sorted(
        m.name for m in pkgutil.iter_modules(flwr.proto.__path__) if m.name.endswith("_pb2")
    )
    if not modules:
        print("dump_descriptors: no flwr/proto/*_pb2 modules found", file=sys.stderr)
        return 1
    for name in modules:
        visit(importlib.import_module(f"flwr.proto.{name}").DESCRIPTOR)

    json.dump(
        {
            "flwrVersion": flwr.__version__,
            "protobufVersion": google.protobuf.__version__,
            "file": [files[k] for k in sorted(files)],
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
