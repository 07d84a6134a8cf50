"""The public API is explicit: ``loopwise.__all__`` is sorted and lists exactly the public names.

Like httpx's ``tests/test_exported_members.py``. Subpackages (``loopwise.tracking``...) are
reached by import, not re-exported, so module attributes do not count.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import loopwise

INCLUDED_PRIVATE_MEMBERS = ["__version__"]


def public_names(namespace: dict[str, object]) -> list[str]:
    return [
        name
        for name, value in namespace.items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not isinstance(value, types.ModuleType)
    ]


def test_all_is_sorted_and_matches_the_public_names() -> None:
    for name in loopwise.__all__:  # the SDK's names load on first use
        getattr(loopwise, name)
    assert loopwise.__all__ == sorted(loopwise.__all__)
    assert len(set(loopwise.__all__)) == len(loopwise.__all__)
    assert sorted(public_names(vars(loopwise))) == loopwise.__all__


def test_every_exported_name_resolves() -> None:
    for name in loopwise.__all__:
        assert getattr(loopwise, name) is not None, name
    assert loopwise.Client.__module__ == "loopwise.sdk.client"
    assert isinstance(loopwise.__version__, str) and loopwise.__version__.count(".") == 2


def test_importing_a_part_does_not_import_the_sdk() -> None:
    code = "import sys, loopwise.numeric.drift; print('loopwise.sdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_package_declares_its_types() -> None:
    assert (Path(loopwise.__file__).parent / "py.typed").is_file()


def test_the_check_catches_an_unlisted_name() -> None:
    """The comparison above fails when a public name is missing from __all__."""
    namespace = dict(vars(loopwise))
    namespace["Extra"] = object()
    assert sorted(public_names(namespace)) != loopwise.__all__
