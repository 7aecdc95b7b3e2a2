"""The long fuzz campaign over every input reader (the short one is tests/test_fuzz.py).

For each reader (cyclonedx-json, cyclonedx-xml, spdx-json, spdx-tag-value,
pip-licenses) it mutates small seeds (real corpus documents, cut down, plus
generated pip-licenses JSON) and feeds each mutant to
``checker.sbom.parse_input``. Every input must either be read or refused with
an ``InputError`` naming the file; anything else is a crash. Accepted results
are also run through the gate with the real policy, and its JSON and text
reports and an ``explain`` trace are rendered (``--no-gate`` skips all that).

Each crash is minimized (byte chunks removed while the same exception at the
same place persists) and written to ``--crash-dir`` with its traceback.

    .venv/bin/python benchmarks/fuzz_readers.py --count 100000 --seed 1

prints ``reader: N inputs, A accepted, R rejected, C crashes`` per reader and
exits 1 if any reader crashed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import multiprocessing
import random
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.errors import InputError  # noqa: E402
from checker.gate import Evaluator, RunResult, evaluate_results  # noqa: E402
from checker.model import ReadResult  # noqa: E402
from checker.policy import Policy, load_policy  # noqa: E402
from checker.report import json as json_report  # noqa: E402
from checker.report import text as text_report  # noqa: E402
from checker.report.text import render_trace  # noqa: E402
from checker.sbom import parse_input  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
NAME = "fuzz"
READERS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value", "pip-licenses")

#: An input slower than this is reported (and saved) even when it is read correctly.
SLOW_SECONDS = 1.0

# --------------------------------------------------------------------------- seeds


def _cut_json(rel: str, key: str, keep: int) -> bytes:
    doc = orjson.loads((CORPUS / rel).read_bytes())
    doc[key] = doc[key][:keep]
    if "relationships" in doc:
        doc["relationships"] = doc["relationships"][:keep]
    if "dependencies" in doc:
        doc["dependencies"] = doc["dependencies"][:keep]
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _cut_xml(rel: str, keep: int) -> bytes:
    """The document with only its first ``keep`` top-level components, and no dependencies.

    Cut as text (tracking element depth), so the seed keeps its namespace
    declaration and layout exactly as the producer wrote them.
    """
    data = (CORPUS / rel).read_bytes()
    text = data.decode("utf-8")
    depth = kept = 0
    cut: int | None = None
    for tag in re.finditer(r"<(/?)(components|component)(?=[\s>/])", text):
        closing = tag[1] == "/"
        if tag[2] == "component":
            if closing and depth == 1:
                kept += 1
                if kept == keep:
                    cut = text.index(">", tag.end()) + 1
        elif not closing:
            depth += 1
        else:
            depth -= 1
            if depth == 0 and cut is not None:  # the end of the top-level list
                text = text[:cut] + text[tag.start() :]
                break
    text = re.sub(r"<dependencies\b.*?</dependencies>", "", text, flags=re.S)
    return text.encode("utf-8")


def _cut_lines(rel: str, lines: int) -> bytes:
    return b"\n".join((CORPUS / rel).read_bytes().split(b"\n")[:lines])


def _pip_licenses() -> list[bytes]:
    rows: list[dict[str, Any]] = [
        {"Name": "psycopg", "Version": "3.2.3", "License": "GNU Library or LGPL"},
        {"Name": "requests", "Version": "2.32.3", "License": "Apache Software License"},
        {"Name": "certifi", "Version": "2024.8.30", "License": "MPL-2.0"},
        {"Name": "typing_extensions", "Version": "4.12.2", "License": "UNKNOWN"},
        {"Name": "Jinja2", "Version": "3.1.4", "License": "BSD License; MIT License"},
        {
            "Name": "mysql-connector-python",
            "Version": "9.0.0",
            "License": "GNU General Public License (GPL)",
            "License-Metadata": "GPLv2 with FOSS License Exception",
            "License-Classifier": "GNU General Public License (GPL)",
        },
        {"Name": "pydantic", "Version": "2.9.2", "License-Expression": "MIT"},
        {"Name": "mit-licensed", "Version": "1", "License": "MIT", "LicenseText": "Permission..."},
    ]
    finder = [
        {"name": "asyncpg", "version": "0.30.0", "licenses": ["Apache-2.0"]},
        {"name": "sqlalchemy", "version": "2.0.36", "licenses": ["MIT", "BSD"]},
    ]
    return [orjson.dumps(rows, option=orjson.OPT_INDENT_2), orjson.dumps(finder)]


def load_seeds() -> dict[str, list[bytes]]:
    """Small seeds per reader: a few ms per input at most keeps 100k inputs practical."""
    if not CORPUS.is_dir():
        raise SystemExit(f"fuzz_readers: the shared corpus is not at {CORPUS}")

    def read(rel: str) -> bytes:
        return (CORPUS / rel).read_bytes()

    return {
        "cyclonedx-json": [
            read("cyclonedx/trivy_license-cyclonedx-1.5.json"),
            read("cyclonedx/cyclonedx-python-lib_valid-license-expression-1.6.json"),
            read("cyclonedx/cyclonedx-python-lib_bom_with_mixed_licenses-1.4.json"),
            read("cyclonedx/cyclonedx-python-lib_valid-saasbom-1.6.json"),
            _cut_json("cyclonedx/bom-examples_laravel-7.12.0_bom.1.3.json", "components", 4),
        ],
        "cyclonedx-xml": [
            _cut_xml("cyclonedx/cyclonedx-python-lib_webgoat-6.1.xml", 5),
            _cut_xml("cyclonedx/bom-examples_dropwizard-1.3.15_bom.xml", 4),
        ],
        "spdx-json": [
            read("spdx/trivy_bitnami-postgresql-15.3.0.spdx.json"),
            _cut_json(
                "spdx/bom-shelter_trivy_bitnami-postgresql_8bbeb1f9.spdx.json", "packages", 6
            ),
            _cut_json("spdx/tools-python_SPDXJSONExample-v2.3.spdx.json", "packages", 4),
        ],
        "spdx-tag-value": [
            read("spdx/trivy_centos-7-spdx.txt"),
            read("spdx/tools-python_SPDXTagExample-v2.2.spdx"),
            _cut_lines("spdx/bom-shelter_flux_0.26.3_sbom.spdx", 120),
        ],
        "pip-licenses": _pip_licenses(),
    }


# --------------------------------------------------------------------------- value pools

# fmt: off
TOKENS = (
    b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\\u0000", b"\\ud800", b"\x00", b"\xff",
    b"\xef\xbb\xbf", b"\xc3", b"<", b">", b"/>", b"&", b"&amp;", b"&#0;", b"&#x110000;",
    b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml", b"\n", b"\r", b"\t", b"<text>", b"</text>",
    b"SPDXVersion: SPDX-2.3\n", b"PackageName: ", b"NOASSERTION", b" AND ", b" OR ", b" WITH ",
    b"(", b")", b"GPL-2.0", b"AGPL-3.0-only", b"LicenseRef-", b"pkg:oci/", b"1e999", b"-0",
    b"null", b"true", b"999999999999999999999999",
)
# fmt: on
# fmt: off
STRINGS = (
    "", " ", "\x00", "\u2028", "\ufeff", "\U0001f600", "CycloneDX", "cyclonedx", "1.2", "1.4",
    "1.6", "1.7", "1.99", "2.0", "SPDX-2.2", "SPDX-2.3", "SPDX-3.0", "library", "application",
    "container", "operating-system", "framework", "firmware", "bogus", "required", "MIT",
    "Apache-2.0", "GPL-2.0", "GPL-2.0-or-later", "AGPL-3.0-only", "SSPL-1.0", "BUSL-1.1",
    "LGPL-3.0-only", "PostgreSQL", "NOASSERTION", "NONE", "UNKNOWN", "BSD",
    "MIT OR AGPL-3.0-only", "MIT AND AGPL-3.0-only", "GPL-2.0 WITH Classpath-exception-2.0",
    "GPL-2.0-only WITH", "WITH MIT", "MIT AND", "(MIT", "MIT)", "((((((((((MIT))))))))))",
    "MIT OR OR MIT", "LicenseRef-foo", "DocumentRef-x:LicenseRef-y", "MIT, BSD-3-Clause",
    "MIT/X11", "BSD License; MIT License", "GNU General Public License v2 (GPLv2)",
    "pkg:", "pkg:/", "pkg:%zz", "pkg:deb/debian/bash@5.2", "pkg:rpm/centos/bash@4.2",
    "pkg:pypi/psycopg@3.2.3", "pkg:pypi/psycopg2-binary@2.9", "pkg:npm/%40scope/x@1",
    "pkg:oci/postgresql@sha256:" + "a" * 64 + "?repository_url=docker.io/bitnami/postgresql",
    "pkg:oci/x?repository_url=", "pkg:oci/x@?tag=", "pkg:docker/bitnami/postgresql@15.3.0",
    "pkg:docker/library/postgres@sha256:" + "b" * 64, "pkg:docker/@", "pkg:golang/a/b@v1",
    "docker.io/bitnami/postgresql:15.3.0", "index.docker.io/library/postgres:16",
    "ghcr.io/cloudnative-pg/postgresql:16@sha256:" + "c" * 64, "cockroachdb/cockroach",
    "mariadb", "stackgres", "postgres", "psycopg", "asyncpg", "%", "%zz", "a@b@c", ":::",
    "@sha256:", "x:" + "9" * 200, "PACKAGE-MANAGER", "PACKAGE_MANAGER", "purl", "SECURITY",
    "cpe23Type", "DESCRIBES", "DESCRIBE", "CONTAINS", "SPDXRef-DOCUMENT", "SPDXRef-x",
    "CONTAINER", "OPERATING_SYSTEM", "LIBRARY", "APPLICATION",
)
# fmt: on
# fmt: off
KEYS = (
    "bomFormat", "specVersion", "metadata", "component", "components", "services", "name",
    "version", "purl", "group", "scope", "type", "licenses", "license", "id", "expression",
    "acknowledgement", "spdxVersion", "SPDXID", "packages", "versionInfo", "licenseConcluded",
    "licenseDeclared", "externalRefs", "referenceCategory", "referenceType", "referenceLocator",
    "primaryPackagePurpose", "attributionTexts", "relationships", "spdxElementId",
    "relatedSpdxElement", "relationshipType", "documentDescribes", "Name", "Version", "License",
    "License-Expression", "License-Metadata", "License-Classifier", "@graph", "@context",
)
# fmt: on
RAW_JSON = {
    "__raw_deep_list__": "[" * 2000 + "]" * 2000,
    "__raw_deep_dict__": '{"a":' * 2000 + "1" + "}" * 2000,
    "__raw_nest_ok__": "[" * 600 + "]" * 600,
    "__raw_bigint__": "9" * 400,
    "__raw_bigfloat__": "1e400",
    "__raw_negzero__": "-0.0",
    "__raw_nan__": "NaN",
    "__raw_lone_surrogate__": '"\\ud800"',
    "__raw_nul__": '"\\u0000"',
    "__raw_dup_keys__": '{"name":"a","name":"b","licenses":[],'
    '"licenses":[{"license":{"id":"MIT"}}]}',
}
for _depth in (10, 63, 64, 65, 200, 600):
    RAW_JSON[f"__raw_nested_{_depth}__"] = (
        '{"name":"n","components":[' * _depth + '{"name":"leaf"}' + "]}" * _depth
    )
RAW_KEYS = tuple(sorted(RAW_JSON))
# fmt: off
XML_PROLOGUES = (
    '<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE bom [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE bom [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    '<!DOCTYPE bom SYSTEM "http://127.0.0.1:9/bom.dtd">',
    '<!DOCTYPE bom PUBLIC "-//X//Y" "file:///etc/passwd">',
    "<!DOCTYPE bom>",
    "<!-- a comment --><?pi data?>",
)
# fmt: on
ENTITY_REFERENCES = ("&a;", "&b;", "&xxe;", "&undefined;", "&#65;", "&#0;", "&lt;", "&#x1F600;")
# fmt: off
XML_NAMESPACES = (
    *(f"http://cyclonedx.org/schema/bom/1.{minor}" for minor in range(10)),
    "http://cyclonedx.org/schema/bom/2.0", "https://cyclonedx.org/schema/bom/1.5", "urn:x", "",
)
# fmt: on
# fmt: off
XML_DECLARATIONS = (
    '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="bogus"?>',
    '<?xml version="1.0" encoding="UTF-16"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<?xml version="1.1"?>', "",
)
# fmt: on
XML_TEXT_TAGS = re.compile(
    r"<(?:name|version|purl|group|id|expression|scope|license|licenses|"
    r"component)\b"
)
# fmt: off
TAG_LINES = (
    "SPDXVersion: SPDX-2.3", "SPDXVersion: SPDX-9.9", "SPDXVersion:", "DocumentName: {v}",
    "PackageName: {v}", "PackageName:", "SPDXID: {v}", "SPDXID: SPDXRef-DOCUMENT",
    "PackageVersion: {v}", "PackageLicenseConcluded: {v}", "PackageLicenseDeclared: {v}",
    "PackageLicenseConcluded: <text>{v}</text>", "PackageLicenseDeclared: <text>{v}",
    "ExternalRef: PACKAGE-MANAGER purl {v}", "ExternalRef: PACKAGE-MANAGER purl",
    "ExternalRef: {v}", "Relationship: SPDXRef-DOCUMENT DESCRIBES {v}", "Relationship: {v}",
    "PrimaryPackagePurpose: {v}", "PackageAttributionText: <text>{v}</text>",
    "PackageComment: <text>", "</text>", "FileName: {v}", "LicenseID: {v}",
    "ExtractedText: <text>{v}", "# comment {v}", "{v}", ":", "::::", "PackageName: {v}\r",
)
# fmt: on


# --------------------------------------------------------------------------- mutators


class Mutator:
    """Random mutations of one reader's seeds; all randomness from one ``random.Random``."""

    def __init__(self, rng: random.Random, seeds: list[bytes], others: list[bytes]) -> None:
        self.rng = rng
        self.seeds = seeds
        self.others = others  # seeds of every reader, for splices across formats

    # ----- values

    def text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(STRINGS)
        if roll < 0.9:
            alphabet = "aZ09 -._:/@()<>&;\"'\\\t\n\x00é€😀\ud800"
            chars = [rng.choice(alphabet) for _ in range(rng.randint(0, 20))]
            return "".join(chars)
        if roll < 0.95:
            return "A" * rng.choice((2001, 100_000, 1_000_000))
        if roll < 0.98:
            return "MIT OR " * rng.choice((300, 5_000)) + "MIT"
        return "(" * rng.choice((100, 1_500)) + "MIT" + ")" * 3

    def json_value(self, depth: int = 0) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return self.text()
        if roll < 0.45:
            return rng.choice((None, True, False, 0, -1, 1.5, 2**63, -(2**63), 1e308, 3))
        if roll < 0.55:
            return rng.choice(RAW_KEYS)
        if roll < 0.6:
            return [
                {"name": f"c{i}", "licenses": [{"expression": "MIT"}]}
                for i in range(rng.randint(0, 300))
            ]
        if depth > 3:
            return None
        if roll < 0.8:
            return [self.json_value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            rng.choice(KEYS) if rng.random() < 0.8 else self.text()[:8]: self.json_value(depth + 1)
            for _ in range(rng.randint(0, 4))
        }

    # ----- byte level

    def bytes_mutation(self, data: bytes) -> bytes:
        rng = self.rng
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randint(0, len(buf))
            op = rng.randrange(8)
            if op == 0 and buf:
                pos = min(pos, len(buf) - 1)
                buf[pos] ^= 1 << rng.randrange(8)
            elif op == 1 and buf:
                buf[min(pos, len(buf) - 1)] = rng.randrange(256)
            elif op == 2:
                buf[pos:pos] = rng.randbytes(rng.randint(1, 16))
            elif op == 3:
                buf[pos:pos] = rng.choice(TOKENS)
            elif op == 4:
                del buf[pos : pos + rng.randint(1, 64)]
            elif op == 5:
                del buf[pos:]
            elif op == 6:
                other = rng.choice(self.others)
                buf = buf[:pos] + other[rng.randint(0, len(other)) :]
            else:
                chunk = bytes(buf[pos : pos + rng.randint(1, 200)])
                buf[pos:pos] = chunk * rng.randint(2, 50)
        return bytes(buf)

    # ----- JSON

    def json_mutation(self, data: bytes) -> bytes:
        rng = self.rng
        doc = orjson.loads(data)
        for _ in range(rng.randint(1, 4)):
            paths = _json_paths(doc)
            path = rng.choice(paths)
            value = self.json_value()
            op = rng.randrange(6)
            if not path:
                if op == 0:
                    doc = value
                continue
            parent: Any = _get(doc, path[:-1])
            key = path[-1]
            if op in (0, 1):
                parent[key] = value
            elif op == 2:
                del parent[key]
            elif op == 3:
                target = parent[key]
                if isinstance(target, dict):
                    target[rng.choice(KEYS)] = value
                elif isinstance(target, list):
                    target.insert(rng.randint(0, len(target)), value)
                else:
                    parent[key] = value
            elif op == 4 and isinstance(parent, list) and isinstance(key, int):
                parent.extend([copy.deepcopy(parent[key])] * rng.randint(1, 20))
            elif op == 5 and isinstance(parent, dict):
                parent[rng.choice(KEYS)] = parent.pop(key)
        try:
            text = orjson.dumps(doc).decode()
        except TypeError:  # orjson refuses > 255 levels; fall back to the root only
            text = "null"
        for marker, raw in RAW_JSON.items():
            if marker in text:
                text = text.replace(f'"{marker}"', raw)
        return text.encode()

    # ----- XML

    def xml_mutation(self, data: bytes) -> bytes:
        rng = self.rng
        text = data.decode("utf-8")
        for _ in range(rng.randint(0, 3)):
            starts = [m.start() for m in XML_TEXT_TAGS.finditer(text)]
            if not starts:
                break
            start = rng.choice(starts)
            end = text.find(">", start) + 1
            value = rng.choice(ENTITY_REFERENCES) if rng.random() < 0.1 else _escape(self.text())
            text = text[:end] + value + text[end:]
        for _ in range(rng.randint(0, 3)):
            op = rng.randrange(9)
            if op == 0:
                prologue = rng.choice(XML_PROLOGUES)
                at = text.find("<bom")
                text = text[:at] + prologue + text[at:] if at >= 0 else text
            elif op == 1:
                positions = [m.end() for m in re.finditer(r"<(?:name|id|expression)>", text)]
                if positions:
                    pos = rng.choice(positions)
                    text = text[:pos] + rng.choice(ENTITY_REFERENCES) + text[pos:]
            elif op == 2:
                pos = text.find("</components>")
                if pos >= 0:
                    depth = rng.choice((2, 63, 64, 65, 500, 20_000))
                    nested = '<component type="library"><name>d</name><components>' * depth
                    nested += "</components></component>" * depth
                    text = text[:pos] + nested + text[pos:]
            elif op == 3:
                namespace = rng.choice(XML_NAMESPACES)
                text = re.sub(r'xmlns="[^"]*"', f'xmlns="{namespace}"', text, count=1)
            elif op == 4:
                kind = _escape(rng.choice(STRINGS))
                text = re.sub(r'type="[^"]*"', f'type="{kind}"', text, count=rng.randint(1, 5))
            elif op == 5:
                tag = rng.choice(("name", "licenses", "components", "purl", "version"))
                text = re.sub(rf"<{tag}\b.*?</{tag}>", "", text, count=1, flags=re.S)
            elif op == 6:
                text = text.replace("<name>", "<name><![CDATA[x]]><!--c-->", 1)
            elif op == 7:
                text = rng.choice(XML_DECLARATIONS) + re.sub(r"^<\?xml[^>]*\?>", "", text)
            else:
                text = text[: rng.randint(0, len(text))]
        out = text.encode("utf-8", "surrogatepass")
        if rng.random() < 0.1:
            out = _reencode(out, rng)
        return out

    # ----- tag-value

    def tag_value_mutation(self, data: bytes) -> bytes:
        rng = self.rng
        lines = data.decode("utf-8").split("\n")
        for _ in range(rng.randint(1, 8)):
            if not lines:
                lines = [""]
            index = rng.randrange(len(lines))
            value = self.text()
            op = rng.randrange(7)
            if op == 0:
                tag, colon, _ = lines[index].partition(":")
                lines[index] = f"{tag}{colon} {value}" if colon else value
            elif op == 1:
                lines.insert(index, rng.choice(TAG_LINES).replace("{v}", value))
            elif op == 2:
                del lines[index]
            elif op == 3:
                lines[index:index] = [lines[index]] * rng.randint(1, 200)
            elif op == 4:
                other = rng.randrange(len(lines))
                lines[index], lines[other] = lines[other], lines[index]
            elif op == 5:
                del lines[index:]
            else:
                lines.insert(index, f"PackageLicenseComments: <text>{value}")
        out = "\n".join(lines).encode("utf-8", "surrogatepass")
        if rng.random() < 0.05:
            out = _reencode(out, rng)
        return out

    def mutate(self, reader: str) -> bytes:
        rng = self.rng
        seed = rng.choice(self.seeds)
        structural: Callable[[bytes], bytes] = {
            "cyclonedx-json": self.json_mutation,
            "spdx-json": self.json_mutation,
            "pip-licenses": self.json_mutation,
            "cyclonedx-xml": self.xml_mutation,
            "spdx-tag-value": self.tag_value_mutation,
        }[reader]
        roll = rng.random()
        if roll < 0.55:
            return structural(seed)
        if roll < 0.85:
            return self.bytes_mutation(seed)
        return self.bytes_mutation(structural(seed))


def _json_paths(doc: Any, limit: int = 4000) -> list[tuple[str | int, ...]]:
    paths: list[tuple[str | int, ...]] = [()]
    queue: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    head = 0
    while head < len(queue) and len(paths) < limit:
        here, node = queue[head]
        head += 1
        if isinstance(node, dict):
            children: list[tuple[str | int, Any]] = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            continue
        for key, child in children:
            paths.append((*here, key))
            queue.append(((*here, key), child))
    return paths


def _get(doc: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _reencode(data: bytes, rng: random.Random) -> bytes:
    """The same text in another encoding, with or without its byte-order mark."""
    text = data.decode("utf-8", "replace")
    encoding = rng.choice(("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1"))
    return text.encode(encoding, "replace")


# --------------------------------------------------------------------------- the campaign


@dataclass
class Crash:
    signature: str
    data: bytes
    trace: str
    count: int = 1


@dataclass
class Stats:
    reader: str
    inputs: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: int = 0
    slow: int = 0
    mutator_errors: int = 0
    slowest: float = 0.0
    seconds: float = 0.0
    formats: dict[str, int] = field(default_factory=dict)
    safety_net: int = 0
    found: dict[str, Crash] = field(default_factory=dict)
    caught: dict[str, Crash] = field(default_factory=dict)
    slow_inputs: list[tuple[float, bytes]] = field(default_factory=list)


class Failure(Exception):
    """A broken promise: an escaped exception or an invalid result."""


class SafetyNet(Exception):
    """An internal error that only a reader's catch-all turned into an InputError.

    The user still gets exit 3, so this is no crash; but the message is a
    Python exception, not a located explanation, and it usually hides a bug.
    """


#: Messages of the readers' catch-all wrappers (``except Exception`` -> InputError).
SAFETY_NET = re.compile(r"could not be read as [\w -]+ \(\w+: |is nested too deeply to read")


def check_one(data: bytes, policy: Policy | None) -> ReadResult | None:
    """Read one input; raise :class:`Failure` (chained) if any promise is broken.

    Raises :class:`SafetyNet` (chained to the internal error) for an input
    refused only by a catch-all.
    """
    try:
        result = parse_input(data, NAME)
    except InputError as exc:
        if exc.problem.path != NAME:
            raise Failure(f"InputError names {exc.problem.path!r}, not {NAME!r}") from exc
        if SAFETY_NET.search(exc.problem.message):
            inner = exc.__cause__ or exc.__context__
            raise SafetyNet(exc.problem.message[:120]) from (inner or exc)
        return None
    except Exception as exc:
        raise Failure(f"parse_input raised {type(exc).__name__}") from exc
    problems = _invalid(result)
    if problems:
        raise Failure(f"invalid ReadResult: {problems}")
    if policy is not None:
        try:
            findings = evaluate_results([result], policy)
        except Exception as exc:
            raise Failure(f"the gate raised {type(exc).__name__} on an accepted input") from exc
        try:
            run = RunResult([result], findings)
            json_report.render(run)
            text_report.render(run)
            if result.components:
                render_trace(Evaluator(policy).trace(result.components[-1]))
        except Exception as exc:
            raise Failure(f"a report raised {type(exc).__name__} on an accepted input") from exc
    return result


def _invalid(result: Any) -> str | None:
    if not isinstance(result, ReadResult):
        return f"returned {type(result).__name__}"
    if result.path != NAME:
        return f"result path {result.path!r}"
    for component in result.components:
        if type(component.name) is not str or not component.name:
            return f"component name {component.name!r}"
        if component.origin.path != NAME:
            return f"component origin {component.origin}"
        for value in (component.version, component.purl, component.group, component.scope):
            if value is not None and type(value) is not str:
                return f"component field {value!r} is {type(value).__name__}"
        for evidence in component.licenses:
            if type(evidence.text) is not str:
                return f"license text {evidence.text!r}"
    return None


def _signature(exc: BaseException) -> str:
    """Where it broke: the exception chain's types and the innermost frame."""
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    frames = traceback.extract_tb(root.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(root).__name__} at {where}: {str(exc)[:80]}"


def _try(data: bytes, policy: Policy | None) -> str | None:
    try:
        check_one(data, policy)
    except (Failure, SafetyNet) as exc:
        return _signature(exc)
    return None


def minimize(data: bytes, signature: str, policy: Policy | None, budget: int = 3000) -> bytes:
    """Remove byte chunks (halves, quarters ... single bytes) while the same failure persists."""
    chunk = max(len(data) // 2, 1)
    tries = 0
    while chunk >= 1 and tries < budget:
        start = 0
        shrunk = False
        while start < len(data) and tries < budget:
            candidate = data[:start] + data[start + chunk :]
            tries += 1
            if candidate and _try(candidate, policy) == signature:
                data = candidate
                shrunk = True
            else:
                start += chunk
        if not shrunk:
            chunk //= 2
    return data


def run_reader(
    reader: str, count: int, seed: int, gate: bool, policy_dir: Path, crash_dir: Path
) -> Stats:
    policy = load_policy(policy_dir) if gate else None
    all_seeds = load_seeds()
    others = [data for group in all_seeds.values() for data in group]
    rng = random.Random(f"{seed}:{reader}")
    mutator = Mutator(rng, all_seeds[reader], others)
    stats = Stats(reader)
    started = time.perf_counter()
    for _ in range(count):
        try:
            data = mutator.mutate(reader)
        except Exception:  # a mutator bug is not a reader crash; count it and go on
            stats.mutator_errors += 1
            data = rng.choice(all_seeds[reader])
        stats.inputs += 1
        before = time.perf_counter()
        try:
            result = check_one(data, policy)
        except (Failure, SafetyNet) as exc:
            if isinstance(exc, Failure):
                stats.crashes += 1
                found = stats.found
            else:
                stats.rejected += 1
                stats.safety_net += 1
                found = stats.caught
            signature = _signature(exc)
            known = found.get(signature)
            if known is None:
                found[signature] = Crash(signature, data, traceback.format_exc())
            else:
                known.count += 1
                if len(data) < len(known.data):
                    known.data = data
            continue
        finally:
            elapsed = time.perf_counter() - before
            stats.slowest = max(stats.slowest, elapsed)
            if elapsed > SLOW_SECONDS:
                stats.slow += 1
                if len(stats.slow_inputs) < 5:
                    stats.slow_inputs.append((elapsed, data))
        if result is None:
            stats.rejected += 1
        else:
            stats.accepted += 1
            stats.formats[result.format] = stats.formats.get(result.format, 0) + 1
    stats.seconds = time.perf_counter() - started
    crash_dir.mkdir(parents=True, exist_ok=True)
    for label, found in (("crash", stats.found), ("caught", stats.caught)):
        for number, crash in enumerate(found.values(), 1):
            crash.data = minimize(crash.data, crash.signature, policy)
            stem = crash_dir / f"{reader}-{label}-{number}"
            stem.with_suffix(".bin").write_bytes(crash.data)
            stem.with_suffix(".txt").write_text(
                f"{crash.signature}\nseen {crash.count} times\nminimal input: "
                f"{stem.with_suffix('.bin')} ({len(crash.data)} bytes): {crash.data[:400]!r}\n\n"
                f"{crash.trace}",
                encoding="utf-8",
            )
    for number, (elapsed, data) in enumerate(stats.slow_inputs, 1):
        slow = crash_dir / f"{reader}-slow-{number}-{elapsed:.1f}s-{len(data)}-bytes.bin"
        # A slow input that is simply huge (a mutation repeated a 1 MB string) is not kept.
        slow.write_bytes(data if len(data) <= 16 * 2**20 else data[:4096])
    return stats


def report(stats: Stats, crash_dir: Path) -> None:
    print(
        f"{stats.reader}: {stats.inputs} inputs, {stats.accepted} accepted, "
        f"{stats.rejected} rejected, {stats.crashes} crashes",
        flush=True,
    )
    formats = ", ".join(f"{name} {n}" for name, n in sorted(stats.formats.items()))
    rate = stats.inputs / stats.seconds if stats.seconds else 0.0
    print(
        f"    {stats.seconds:.0f} s ({rate:.0f} inputs/s), slowest input {stats.slowest:.3f} s, "
        f"{stats.slow} over {SLOW_SECONDS:.0f} s; accepted as: {formats or 'nothing'}; "
        f"{stats.mutator_errors} mutator errors"
    )
    if stats.safety_net:
        print(
            f"    {stats.safety_net} of the rejections came from a catch-all wrapper "
            "(an internal error turned into exit 3; usually a reader bug):"
        )
    for label, found in (("crash", stats.found), ("caught", stats.caught)):
        for number, crash in enumerate(found.values(), 1):
            stem = crash_dir / f"{stats.reader}-{label}-{number}"
            print(f"    {label.upper()} x{crash.count}: {crash.signature}")
            print(f"      minimal input ({len(crash.data)} bytes): {crash.data[:300]!r}")
            print(f"      saved to {stem}.bin, traceback in {stem}.txt")
            if label == "crash":
                print("      " + crash.trace.rstrip().replace("\n", "\n      "))


def _worker(args: tuple[str, int, int, bool, Path, Path]) -> Stats:
    return run_reader(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per reader")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--readers", nargs="+", choices=READERS, default=list(READERS))
    parser.add_argument("--jobs", type=int, default=1, help="readers fuzzed in parallel")
    parser.add_argument(
        "--policy",
        type=Path,
        default=ROOT / "policy",
        help="policy directory for the gate step (default: the repo's)",
    )
    parser.add_argument(
        "--no-gate", action="store_true", help="only read; do not run the gate over accepted inputs"
    )
    parser.add_argument(
        "--crash-dir",
        type=Path,
        default=Path("/tmp/fuzz-readers"),
        help="where crashing and slow inputs are written",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    gate = not args.no_gate
    print(
        f"fuzz_readers: seed {seed}, {args.count} inputs per reader, "
        f"gate {'on (policy ' + str(args.policy) + ')' if gate else 'off'}",
        flush=True,
    )
    if gate:
        load_policy(args.policy)  # fail now, with the policy's own message, not per worker
    jobs = [
        (reader, args.count, seed, gate, args.policy, args.crash_dir) for reader in args.readers
    ]
    crashes = 0
    if args.jobs > 1:
        with multiprocessing.Pool(min(args.jobs, len(jobs))) as pool:
            for stats in pool.imap(_worker, jobs):
                report(stats, args.crash_dir)
                crashes += stats.crashes
    else:
        for job in jobs:
            stats = _worker(job)
            report(stats, args.crash_dir)
            crashes += stats.crashes
    print(f"fuzz_readers: seed {seed}: {'CRASHES FOUND' if crashes else 'no crashes'}")
    return 1 if crashes else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
    sys.exit(130)
