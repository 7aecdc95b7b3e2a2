"""Which index is asked: the order pip, uv and npm resolve it in, and what is printed."""

from __future__ import annotations

import configparser
import os
import stat
from pathlib import Path

import pytest

from checker.errors import UsageError
from checker.evidence.records import Ecosystem
from checker.registry import indexes as config_module
from checker.registry.indexes import (
    index_config,
    mask_url,
    pip_config_cert,
    pip_config_files,
)

PYPI_ONLY = (Ecosystem.PYPI,)


def conf(path: Path, section: str, value: str, key: str = "index-url") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[{section}]\n{key} = {value}\n")
    return path


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose every pip file location lies under tmp_path."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-global"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "VIRTUAL_ENV": str(tmp_path / "venv"),
        "PATH": os.environ.get("PATH", ""),
    }


def etc_pip_sets_index() -> bool:
    parser = configparser.RawConfigParser()
    parser.read("/etc/pip.conf")
    return any(parser.has_option(s, "index-url") for s in ("global", "install"))


def pypi(env: dict[str, str], explicit: str | None = None) -> tuple[str, str]:
    setting = index_config(explicit, need=PYPI_ONLY, environ=env).setting(Ecosystem.PYPI)
    return setting.url, setting.source


def test_explicit_then_pip_variable_then_uv_variables(home: dict[str, str]) -> None:
    env = {
        **home,
        "PIP_INDEX_URL": "https://pip.example.invalid/simple",
        "UV_DEFAULT_INDEX": "mirror=https://uv.example.invalid/simple",
        "UV_INDEX_URL": "https://old-uv.example.invalid/simple",
    }
    assert pypi(env, "https://flag.example.invalid/simple") == (
        "https://flag.example.invalid/simple",
        "--index-url",
    )
    assert pypi(env) == ("https://pip.example.invalid/simple", "PIP_INDEX_URL")
    del env["PIP_INDEX_URL"]
    # uv's name=url form is read as its URL
    assert pypi(env) == ("https://uv.example.invalid/simple", "UV_DEFAULT_INDEX")
    del env["UV_DEFAULT_INDEX"]
    assert pypi(env) == ("https://old-uv.example.invalid/simple", "UV_INDEX_URL")


def test_pip_files_later_overrides_earlier(home: dict[str, str], tmp_path: Path) -> None:
    global_file = conf(tmp_path / "xdg-global" / "pip" / "pip.conf", "global", "https://g/simple")
    if not etc_pip_sets_index():
        assert pypi(home) == ("https://g/simple", f"{global_file} [global] index-url")
    legacy = conf(tmp_path / "home" / ".pip" / "pip.conf", "global", "https://legacy/simple")
    assert pypi(home) == ("https://legacy/simple", f"{legacy} [global] index-url")
    user = conf(tmp_path / "xdg-home" / "pip" / "pip.conf", "global", "https://user/simple")
    assert pypi(home)[0] == "https://user/simple"
    site = conf(tmp_path / "venv" / "pip.conf", "global", "https://site/simple")
    assert pypi(home) == ("https://site/simple", f"{site} [global] index-url")
    named = conf(tmp_path / "named.conf", "global", "https://named/simple")
    assert pypi({**home, "PIP_CONFIG_FILE": str(named)})[0] == "https://named/simple"
    assert user.exists()


def test_install_section_beats_global_whichever_file_holds_it(
    home: dict[str, str], tmp_path: Path
) -> None:
    conf(tmp_path / "xdg-global" / "pip" / "pip.conf", "install", "https://install/simple")
    conf(tmp_path / "xdg-home" / "pip" / "pip.conf", "global", "https://user/simple")
    assert pypi(home)[0] == "https://install/simple"


def test_an_existing_pip_config_file_turns_the_user_files_off(
    home: dict[str, str], tmp_path: Path
) -> None:
    conf(tmp_path / "xdg-home" / "pip" / "pip.conf", "global", "https://user/simple")
    empty = tmp_path / "empty.conf"
    empty.write_text("[global]\ntimeout = 60\n")
    files = pip_config_files({**home, "PIP_CONFIG_FILE": str(empty)})
    assert tmp_path / "xdg-home" / "pip" / "pip.conf" not in files
    assert files[-1] == empty
    assert pip_config_files({**home, "PIP_CONFIG_FILE": os.devnull}) == []


def test_the_ca_bundle_pip_trusts_is_the_one_trusted(home: dict[str, str], tmp_path: Path) -> None:
    """A company mirror behind an internal CA: pip.conf's ``cert`` must be honoured too."""
    env = {**home, "PIP_CONFIG_FILE": os.devnull}
    assert pip_config_cert(env) is None
    bundle = tmp_path / "corp-ca.pem"
    conf(tmp_path / "venv" / "pip.conf", "global", str(bundle), key="cert")
    assert pip_config_cert(home) == str(bundle)
    # PIP_CERT outranks the files, as it does for pip
    assert pip_config_cert({**home, "PIP_CERT": "/other.pem"}) == "/other.pem"


def test_extra_index_url_is_not_the_index(home: dict[str, str], tmp_path: Path) -> None:
    conf(
        tmp_path / "xdg-home" / "pip" / "pip.conf",
        "global",
        "file:///opt/pypi/simple",
        key="extra-index-url",
    )
    url, source = pypi({**home, "PIP_CONFIG_FILE": os.devnull})
    assert "built-in default" in source
    assert url.startswith("https://")


def test_pips_built_in_default_is_asked_at_run_time(home: dict[str, str]) -> None:
    pip_index = pytest.importorskip("pip._internal.models.index")
    url, source = pypi({**home, "PIP_CONFIG_FILE": os.devnull})
    assert url == pip_index.PyPI.simple_url
    assert source.startswith("pip ") and "built-in default" in source


def test_the_pip_on_path_is_asked_when_this_interpreter_has_none(
    home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "_pip_in_process", lambda: None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_python = bin_dir / "fakepython"
    fake_python.write_text("#!/bin/sh\necho '99.1 https://default.example.invalid/simple'\n")
    fake_pip = bin_dir / "pip"
    fake_pip.write_text(f"#!{fake_python}\n")
    for script in (fake_python, fake_pip):
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {**home, "PIP_CONFIG_FILE": os.devnull, "PATH": str(bin_dir)}
    url, source = pypi(env)
    assert url == "https://default.example.invalid/simple"
    assert source == f"pip 99.1's built-in default in {fake_python}"


def test_no_pip_anywhere_says_to_pass_index_url(
    home: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "_pip_in_process", lambda: None)
    env = {**home, "PIP_CONFIG_FILE": os.devnull, "PATH": str(tmp_path / "nothing")}
    with pytest.raises(UsageError, match="pass --index-url URL"):
        pypi(env)


def test_os_environ_is_read_when_no_environ_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("UV_DEFAULT_INDEX", raising=False)
    monkeypatch.delenv("UV_INDEX_URL", raising=False)
    named = conf(tmp_path / "pip.conf", "global", "https://env-file/simple")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(named))
    setting = index_config(need=PYPI_ONLY).setting(Ecosystem.PYPI)
    assert setting.url == "https://env-file/simple"


def test_file_and_other_schemes_are_refused_with_what_to_pass(home: dict[str, str]) -> None:
    with pytest.raises(UsageError) as caught:
        pypi({**home, "PIP_INDEX_URL": "file:///opt/pypi/simple"})
    assert "file:// index" in caught.value.message
    assert "(from PIP_INDEX_URL)" in caught.value.message
    assert "pass --index-url" in caught.value.message
    with pytest.raises(UsageError, match="not an http"):
        pypi(home, "ftp://mirror/simple")


def test_a_broken_pip_file_is_a_usage_error(home: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "xdg-home" / "pip" / "pip.conf"
    broken.parent.mkdir(parents=True)
    broken.write_text("index-url = no section\n")
    with pytest.raises(UsageError, match=f"pip configuration file {broken} cannot be read"):
        pypi(home)


def test_credentials_are_masked_in_the_report_line(home: dict[str, str]) -> None:
    env = {**home, "PIP_INDEX_URL": "https://deploy:t0ken@mirror.example.invalid/simple"}
    config = index_config(need=PYPI_ONLY, environ=env)
    assert config.lines() == [
        "index: https://deploy:***@mirror.example.invalid/simple (from PIP_INDEX_URL)"
    ]
    assert config.pypi is not None and "t0ken" in config.pypi.url  # still asked with it
    assert mask_url("https://t0ken@h/simple") == "https://***@h/simple"


def test_npm_explicit_or_npm_config_and_only_when_needed(
    home: dict[str, str], tmp_path: Path
) -> None:
    no_npm = {**home, "PATH": str(tmp_path / "nothing")}
    # not needed: npm is never looked for
    assert index_config("https://i/simple", need=PYPI_ONLY, environ=no_npm).npm is None
    with pytest.raises(UsageError, match=r"npm is not on PATH.*--npm-registry"):
        index_config(need=(Ecosystem.NPM,), environ=no_npm)
    explicit = index_config(
        npm_registry="https://npm.example.invalid/", need=(Ecosystem.NPM,), environ=no_npm
    )
    assert explicit.npm is not None and explicit.npm.source == "--npm-registry"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\necho 'https://npm-mirror.example.invalid/'\n")
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    found = index_config(need=(Ecosystem.NPM,), environ={**home, "PATH": str(bin_dir)})
    assert found.npm is not None
    assert (found.npm.url, found.npm.source) == (
        "https://npm-mirror.example.invalid/",
        "npm config get registry",
    )
    npm.write_text("#!/bin/sh\necho undefined\n")
    with pytest.raises(UsageError, match="gave no registry"):
        index_config(need=(Ecosystem.NPM,), environ={**home, "PATH": str(bin_dir)})
