"""A tiny pure-Python wheel written by hand, for tests and benchmarks that install something without an index.

The layout follows the wheel format (PEP 427, the binary distribution format in the Python Packaging User
Guide): the package, and a ``<name>-<version>.dist-info`` folder with ``METADATA``, ``WHEEL`` and a
``RECORD`` of sha256 hashes. Install it with ``pip install --no-index --find-links <folder> <name>``.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(folder: Path, name: str = "pcitinypkg", version: str = "1.0",
               source: str = "VALUE = 'installed'\n") -> Path:
    """Write ``<folder>/<name>-<version>-py3-none-any.whl`` (module ``name`` with ``source``) and return its path."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": source.encode("utf-8"),
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: pipeline-ci-testing\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel
