"""One smoke test against the index this machine's installer configuration names.

Skipped, with the reason, when that index cannot be reached within a few
seconds; deselect it outright with ``-m "not online"``.
"""

from __future__ import annotations

from pathlib import Path

import packaging
import pytest

from checker.errors import UsageError
from checker.evidence.records import Ecosystem, Wanted
from checker.model import Origin
from checker.registry import index_config, resolve
from checker.registry.http import FetchError, HttpClient
from checker.registry.pypi import SIMPLE_JSON, project_url


@pytest.mark.online
def test_a_well_known_package_resolves_against_the_configured_index(tmp_path: Path) -> None:
    try:
        config = index_config(need=(Ecosystem.PYPI,))
    except UsageError as exc:
        pytest.skip(f"no index configured on this machine: {exc}")
    setting = config.setting(Ecosystem.PYPI)
    probe = HttpClient(timeout=5.0, attempts=1)
    try:
        probe.get(project_url(setting.url, "packaging"), accept=SIMPLE_JSON)
    except FetchError as exc:
        pytest.skip(f"the index {setting.shown} cannot be reached: {exc}")
    finally:
        probe.close()
    version = packaging.__version__
    wanted = [Wanted(Ecosystem.PYPI, "packaging", version, (), Origin("smoke", ""))]
    outcome = resolve(wanted, config, cache_dir=tmp_path / "cache", jobs=1)
    assert outcome.failures == []
    (record,) = outcome.records
    assert (record.name, record.version) == ("packaging", version)
    assert not record.fields.empty
    assert record.artifact is not None and record.artifact.startswith(f"packaging-{version}")
