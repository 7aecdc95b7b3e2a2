"""The SBOM readers fail closed: nothing that may be a component vanishes in silence.

Issue #11, item 4. Each case is a small document that the readers used to
read as "nothing to judge" (or judged by a reading the input contradicts), so
the gate passed an AGPL or GPL component. Every test asserts what a user
sees, through :func:`checker.gate.check` with the repository's policy: the
verdict, the exit code the command line maps it to, and the finding that
says why. Exit 1 comes from an ``input-error`` finding (a reader's error
note) or a denial; exit 3 from a document that is not what it claims
(``unreadable-input``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.errors import EXIT_INPUT, EXIT_PASS, EXIT_VIOLATIONS
from checker.gate import check
from checker.model import Finding, Kind, Severity
from checker.policy import Policy, load_policy
from checker.results import RunResult
from tests.helpers import ROOT

NS = "http://cyclonedx.org/schema/bom/1.6"
AGPL = [{"license": {"id": "AGPL-3.0-only"}}]
GPL3 = [{"license": {"id": "GPL-3.0-only"}}]
MIT = [{"license": {"id": "MIT"}}]
XML_AGPL = "<licenses><license><id>AGPL-3.0-only</id></license></licenses>"


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(ROOT / "policy")


# --------------------------------------------------------------------------- helpers


def exit_code(result: RunResult) -> int:
    """The exit code ``rune-policy check`` returns for this result (see checker.cli)."""
    if result.input_errors:
        return EXIT_INPUT
    return EXIT_VIOLATIONS if result.errors else EXIT_PASS


def run(
    policy: Policy, tmp_path: Path, name: str, content: str | dict[str, Any] | list[Any]
) -> RunResult:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return check([path], policy)


def findings(result: RunResult, rule: str) -> list[Finding]:
    return [f for f in result.findings if f.rule == rule]


def input_errors(result: RunResult) -> list[str]:
    """``location: message`` of every input-error finding."""
    return [f"{f.source.location}: {f.message}" for f in findings(result, "input-error")]


def denied(result: RunResult) -> list[str]:
    return [f.component.name for f in findings(result, "denied-license")]


def cdx(*components: Any, **extra: Any) -> dict[str, Any]:
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": list(components), **extra}


def xml_bom(components: str, ns: str = NS, outside: str = "") -> str:
    return (
        f'<?xml version="1.0"?><bom xmlns="{ns}" version="1">{outside}'
        f"<components>{components}</components></bom>"
    )


def xml_component(name: str = "evil", ns: str | None = None, body: str = XML_AGPL) -> str:
    xmlns = f' xmlns="{ns}"' if ns is not None else ""
    return f'<component type="library"{xmlns}><name>{name}</name>{body}</component>'


def assert_fails_closed(result: RunResult, location: str, message: str) -> None:
    assert result.verdict == "fail"
    assert exit_code(result) == EXIT_VIOLATIONS
    errors = input_errors(result)
    assert any(e.startswith(f"{location}: ") and message in e for e in errors), errors


# --------------------------------------------------------------------------- 1. XML namespaces


FOREIGN_COMPONENTS = [
    pytest.param(
        xml_bom(xml_component(ns="http://example.com/x")),
        "namespace 'http://example.com/x'",
        id="foreign",
    ),
    pytest.param(xml_bom(xml_component(ns="")), 'no namespace (xmlns="")', id="xmlns-empty"),
    pytest.param(
        xml_bom(xml_component(ns="http://cyclonedx.org/schema/bom/1.5")),
        "namespace 'http://cyclonedx.org/schema/bom/1.5'",
        id="other-cyclonedx-version",
    ),
    pytest.param(
        xml_bom(
            '<x:component xmlns:x="http://cyclonedx.org/schema/bom/1.4" type="library">'
            f"<x:name>evil</x:name>{XML_AGPL}</x:component>"
        ),
        "namespace 'http://cyclonedx.org/schema/bom/1.4'",
        id="prefixed-other-version",
    ),
]


@pytest.mark.parametrize(("document", "named"), FOREIGN_COMPONENTS)
def test_xml_component_in_another_namespace_fails_the_run(
    policy: Policy, tmp_path: Path, document: str, named: str
) -> None:
    # before: the AGPL component vanished, 0 components, pass (exit 0)
    result = run(policy, tmp_path, "bom.xml", document)
    assert_fails_closed(
        result,
        "/bom/components/*[1]",
        f"<component> element in {named}, not the document's CycloneDX namespace "
        f"'{NS}'; it cannot be placed",
    )


@pytest.mark.parametrize(
    ("document", "location"),
    [
        pytest.param(
            f'<bom xmlns="{NS}"><components xmlns="">{xml_component()}</components></bom>',
            "/bom/*[1]",
            id="components-without-namespace",
        ),
        pytest.param(
            xml_bom(
                '<component type="application"><name>app</name>'
                f'<components xmlns="urn:x">{xml_component()}</components></component>'
            ),
            "/bom/components/component[1]/*[2]",
            id="nested-components-foreign",
        ),
        pytest.param(
            xml_bom(
                '<component type="application"><name>app</name>'
                f"<licenses><license><id>MIT</id></license></licenses>{xml_component()}"
                "</component>"
            ),
            "/bom/components/component[1]/*[3]",
            id="component-directly-in-component",
        ),
        pytest.param(
            xml_bom(f"<components>{xml_component()}</components>"),
            "/bom/components/*[1]",
            id="components-directly-in-components",
        ),
        pytest.param(
            f'<bom xmlns="{NS}">{xml_component()}</bom>',
            "/bom/*[1]",
            id="component-directly-in-bom",
        ),
        pytest.param(
            f'<bom xmlns="{NS}"><metadata>{xml_component("app")}{xml_component()}</metadata></bom>',
            "/bom/metadata/*[2]",
            id="second-metadata-component",
        ),
        pytest.param(
            f'<bom xmlns="{NS}"><metadata>{xml_component(ns="urn:x")}</metadata></bom>',
            "/bom/metadata/*[1]",
            id="metadata-component-foreign",
        ),
        pytest.param(
            f'<bom xmlns="{NS}"><services><service xmlns="urn:x"><name>db</name>'
            f"{XML_AGPL}</service></services></bom>",
            "/bom/services/*[1]",
            id="service-foreign",
        ),
        pytest.param(
            f'<bom xmlns="{NS}"><services>{xml_component()}</services></bom>',
            "/bom/services/*[1]",
            id="component-in-services",
        ),
        pytest.param(
            xml_bom(
                '<component type="library"><name>evil</name><licenses>'
                "<license><id>MIT</id></license>"
                '<license xmlns="urn:x"><id>AGPL-3.0-only</id></license></licenses></component>'
            ),
            "/bom/components/component[1]/licenses/*[2]",
            id="license-entry-foreign",
        ),
        pytest.param(
            xml_bom(
                '<component type="library"><name>evil</name><licenses>'
                "<expression>MIT</expression>"
                '<license><id xmlns="">AGPL-3.0-only</id></license></licenses></component>'
            ),
            "/bom/components/component[1]/licenses/license[1]/*[1]",
            id="license-id-without-namespace",
        ),
    ],
)
def test_xml_component_holders_that_cannot_be_placed_fail_the_run(
    policy: Policy, tmp_path: Path, document: str, location: str
) -> None:
    result = run(policy, tmp_path, "bom.xml", document)
    assert "evil" not in denied(result)  # it was not read...
    assert_fails_closed(result, location, "it cannot be placed")  # ...so the run fails


def test_xml_extension_elements_of_other_names_stay_silent(policy: Policy, tmp_path: Path) -> None:
    """The schema allows other namespaces' elements: they must not start failing runs."""
    document = xml_bom(
        '<x:annotation xmlns:x="urn:x">hi</x:annotation>'
        '<component type="library"><name>ok</name><version>1</version>'
        '<licenses><license><id>MIT</id></license></licenses><x:component-info xmlns:x="urn:x"/>'
        "</component>",
        outside='<metadata><x:meta xmlns:x="urn:x"/></metadata>',
    )
    result = run(policy, tmp_path, "bom.xml", document)
    assert (result.verdict, exit_code(result), result.findings) == ("pass", EXIT_PASS, [])


def test_xml_repeated_fields(policy: Policy, tmp_path: Path) -> None:
    document = xml_bom(
        '<component type="library"><name>a</name><version>1</version>'
        "<purl>pkg:npm/a@1</purl><purl>pkg:npm/b@1</purl>"
        "<licenses><license><id>MIT</id></license></licenses>"
        f"{XML_AGPL}</component>"
    )
    result = run(policy, tmp_path, "bom.xml", document)
    # both <licenses> are read, so the AGPL one is judged
    assert denied(result) == ["a"]
    assert_fails_closed(
        result, "/bom/components/component[1]/purl", "<purl> is stated twice, as 'pkg:npm/a@1' and"
    )


# --------------------------------------------------------------------------- 2. nameless


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            cdx({"type": "library", "purl": "pkg:npm/evil@1.0.0", "licenses": AGPL}), id="json"
        ),
        pytest.param(
            xml_bom(
                f'<component type="library"><purl>pkg:npm/evil@1.0.0</purl>{XML_AGPL}</component>'
            ),
            id="xml",
        ),
        pytest.param(
            cdx({"type": "library", "name": "  ", "purl": "pkg:npm/evil@1.0.0", "licenses": AGPL}),
            id="json-blank-name",
        ),
    ],
)
def test_nameless_component_is_named_after_its_purl(
    policy: Policy, tmp_path: Path, content: Any
) -> None:
    # before: "component has no name; skipped", a warning: pass (exit 0)
    name = "bom.xml" if isinstance(content, str) else "bom.json"
    result = run(policy, tmp_path, name, content)
    assert (result.verdict, exit_code(result)) == ("fail", EXIT_VIOLATIONS)
    assert denied(result) == ["evil"]
    [warning] = findings(result, "input-warning")
    assert warning.message == "component has no name; named 'evil' after its purl"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "bom.json",
            cdx({"type": "library", "version": "1.0", "licenses": AGPL}),
            "component has no name and no purl; it cannot be checked",
        ),
        (
            "bom.json",
            cdx({"type": "library", "purl": "pkg:npm/", "licenses": AGPL}),
            "component has no name, and its purl 'pkg:npm/' does not parse",
        ),
        (
            "bom.xml",
            xml_bom(f'<component type="library"><version>1</version>{XML_AGPL}</component>'),
            "component has no name and no purl; it cannot be checked",
        ),
        (
            "bom.json",
            {"bomFormat": "CycloneDX", "specVersion": "1.6", "services": [{"licenses": AGPL}]},
            "service has no name; it cannot be checked",
        ),
    ],
)
def test_nameless_component_without_a_usable_purl_fails_the_run(
    policy: Policy, tmp_path: Path, name: str, content: Any, message: str
) -> None:
    result = run(policy, tmp_path, name, content)
    assert result.components == 0
    [error] = input_errors(result)
    assert message in error
    assert (result.verdict, exit_code(result)) == ("fail", EXIT_VIOLATIONS)


def test_an_entry_that_states_nothing_is_only_a_warning(policy: Policy, tmp_path: Path) -> None:
    """Nothing the policy judges is lost: no reason to fail the run."""
    result = run(
        policy,
        tmp_path,
        "bom.json",
        cdx(
            {"type": "library"}, {"type": "library", "name": "ok", "version": "1", "licenses": MIT}
        ),
    )
    assert (result.verdict, exit_code(result)) == ("pass", EXIT_PASS)
    assert [f.rule for f in result.findings] == ["input-warning"]


def _spdx(*packages: object) -> dict[str, Any]:
    return {
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "doc",
        "packages": list(packages),
    }


def _purl_ref(purl: str) -> list[dict[str, str]]:
    return [
        {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}
    ]


def test_spdx_nameless_package_is_named_after_its_purl(policy: Policy, tmp_path: Path) -> None:
    doc = _spdx(
        {
            "SPDXID": "SPDXRef-p",
            "licenseConcluded": "AGPL-3.0-only",
            "externalRefs": _purl_ref("pkg:npm/evil@1"),
        }
    )
    result = run(policy, tmp_path, "doc.spdx.json", doc)
    assert denied(result) == ["evil"]  # before: called 'SPDXRef-p'
    assert not input_errors(result)


@pytest.mark.parametrize(
    ("name", "content", "location"),
    [
        (
            "doc.spdx.json",
            _spdx({"SPDXID": "SPDXRef-p", "licenseConcluded": "AGPL-3.0-only"}),
            "$.packages[0]",
        ),
        (
            "doc.spdx",
            "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
            "PackageName:\nSPDXID: SPDXRef-p\nPackageLicenseConcluded: AGPL-3.0-only\n",
            "line 4",
        ),
    ],
)
def test_spdx_nameless_package_without_purl_is_an_error(
    policy: Policy, tmp_path: Path, name: str, content: Any, location: str
) -> None:
    result = run(policy, tmp_path, name, content)
    # still judged by its license under its SPDXID, and the missing identity fails the run
    assert denied(result) == ["SPDXRef-p"]
    assert_fails_closed(result, location, "package has no name and no usable purl")


# --------------------------------------------------------------------------- 3. OS purls


def _cdx_or_xml(fmt: str, ctype: str, purl: str, licenses: str = "GPL-3.0-only") -> tuple[str, Any]:
    if fmt == "json":
        component: dict[str, Any] = {"type": ctype, "name": "pkg", "version": "1", "purl": purl}
        component["licenses"] = [{"license": {"id": licenses}}]
        return "bom.json", cdx(component)
    return "bom.xml", xml_bom(
        f'<component type="{ctype}"><name>pkg</name><version>1</version><purl>{purl}</purl>'
        f"<licenses><license><id>{licenses}</id></license></licenses></component>"
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "purl", ["pkg:deb/", "pkg:deb/%%", "pkg:deb/debian/bash%zz@1", "pkg:/rpm/"]
)
def test_unparseable_distribution_purl_grants_no_os_exemption(
    policy: Policy, tmp_path: Path, fmt: str, purl: str
) -> None:
    # before: read as an OS package, GPL-3.0 exempt: pass (exit 0)
    result = run(policy, tmp_path, *_cdx_or_xml(fmt, "library", purl))
    assert denied(result) == ["pkg"]
    assert result.inputs[0].components[0].kind is Kind.LIBRARY
    assert (result.verdict, exit_code(result)) == ("fail", EXIT_VIOLATIONS)
    assert any("is not a valid package URL" in f.message for f in findings(result, "input-warning"))


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_library_with_a_distribution_purl_is_still_an_os_package(
    policy: Policy, tmp_path: Path, fmt: str
) -> None:
    """How Trivy and Syft label dpkg/apk/rpm packages: the exemption must keep working."""
    result = run(
        policy, tmp_path, *_cdx_or_xml(fmt, "library", "pkg:deb/debian/bash@5.2?arch=amd64")
    )
    assert result.inputs[0].components[0].kind is Kind.OS_PACKAGE
    assert (result.verdict, exit_code(result), result.findings) == ("pass", EXIT_PASS, [])


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("ctype", "kind"),
    [("application", Kind.APPLICATION), ("framework", Kind.LIBRARY), ("firmware", Kind.OTHER)],
)
def test_distribution_purl_contradicting_the_type_is_an_error(
    policy: Policy, tmp_path: Path, fmt: str, ctype: str, kind: Kind
) -> None:
    # before: an application with a pkg:deb purl was an OS package, its GPL exempt: pass
    result = run(policy, tmp_path, *_cdx_or_xml(fmt, ctype, "pkg:deb/debian/pkg@1"))
    assert result.inputs[0].components[0].kind is kind  # the stricter reading
    assert denied(result) == ["pkg"]
    where = "$.components[0].purl" if fmt == "json" else "/bom/components/component[1]/purl"
    assert_fails_closed(
        result,
        where,
        f"is an operating-system package URL ('pkg:deb/debian/pkg@1'), but the component's "
        f"type is '{ctype}'; judged as {kind.value}, not as an OS package",
    )


def test_contradiction_fails_even_when_the_license_passes(policy: Policy, tmp_path: Path) -> None:
    result = run(policy, tmp_path, *_cdx_or_xml("json", "application", "pkg:rpm/x/pkg@1", "MIT"))
    assert denied(result) == []
    assert (result.verdict, exit_code(result)) == ("fail", EXIT_VIOLATIONS)
    assert len(input_errors(result)) == 1


@pytest.mark.parametrize(
    ("purpose", "purl", "kind", "outcome"),
    [
        (None, "pkg:deb/debian/pkg@1", Kind.OS_PACKAGE, "pass"),
        ("LIBRARY", "pkg:deb/debian/pkg@1", Kind.OS_PACKAGE, "pass"),
        ("INSTALL", "pkg:deb/debian/pkg@1", Kind.OS_PACKAGE, "pass"),
        (None, "pkg:deb/%%", Kind.LIBRARY, "denied"),
        ("APPLICATION", "pkg:deb/debian/pkg@1", Kind.APPLICATION, "error"),
        ("FRAMEWORK", "pkg:apk/alpine/pkg@1", Kind.LIBRARY, "error"),
    ],
)
def test_spdx_distribution_purls(
    policy: Policy, tmp_path: Path, purpose: str | None, purl: str, kind: Kind, outcome: str
) -> None:
    package: dict[str, Any] = {
        "name": "pkg",
        "SPDXID": "SPDXRef-p",
        "versionInfo": "1",
        "licenseConcluded": "GPL-3.0-only",
        "externalRefs": _purl_ref(purl),
    }
    if purpose is not None:
        package["primaryPackagePurpose"] = purpose
    result = run(policy, tmp_path, "doc.spdx.json", _spdx(package))
    assert result.inputs[0].components[0].kind is kind
    if outcome == "pass":
        assert (result.verdict, result.findings) == ("pass", [])
        return
    assert denied(result) == ["pkg"]
    assert exit_code(result) == EXIT_VIOLATIONS
    if outcome == "error":
        assert_fails_closed(
            result, "$.packages[0].externalRefs[0].referenceLocator", "judged by its purpose"
        )
    else:
        assert not input_errors(result)


# --------------------------------------------------------------------------- 4. list shapes


@pytest.mark.parametrize(
    ("doc", "location", "found"),
    [
        (cdx(components="AGPL"), "$.components", "string"),
        ({**cdx(), "components": 3}, "$.components", "number"),
        ({**cdx(), "components": {"name": "evil", "licenses": AGPL}}, "$.components", "object"),
        (
            cdx({"name": "ok", "licenses": MIT, "components": {"name": "evil"}}),
            "$.components[0].components",
            "object",
        ),
        (
            {**cdx(), "metadata": {"component": [{"name": "evil", "licenses": AGPL}]}},
            "$.metadata.component",
            "array",
        ),
        ({**cdx(), "services": {"name": "evil"}}, "$.services", "object"),
    ],
)
def test_wrong_typed_cyclonedx_component_list_is_unreadable(
    policy: Policy, tmp_path: Path, doc: dict[str, Any], location: str, found: str
) -> None:
    # before: a warning ("ignored") and exit 0
    result = run(policy, tmp_path, "bom.json", doc)
    assert exit_code(result) == EXIT_INPUT
    [error] = result.input_errors
    assert error.problem.location == location
    assert error.problem.message.startswith(f"is {found}, expected ")


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        ({**cdx(), "components": None}, "$.components"),
        (cdx({"name": "ok", "licenses": MIT, "components": None}), "$.components[0].components"),
        ({**cdx(), "metadata": {"component": None}}, "$.metadata.component"),
        (cdx("pkg:npm/evil@1"), "$.components[0]"),
        (cdx(None), "$.components[0]"),
    ],
)
def test_null_component_list_or_entry_fails_the_run(
    policy: Policy, tmp_path: Path, doc: dict[str, Any], location: str
) -> None:
    # before: nothing at all for null (exit 0); a warning for a bad entry (exit 0)
    result = run(policy, tmp_path, "bom.json", doc)
    assert_fails_closed(result, location, "")


def test_spdx_packages_null_and_bad_entries(policy: Policy, tmp_path: Path) -> None:
    result = run(policy, tmp_path, "doc.spdx.json", {**_spdx(), "packages": None})
    assert_fails_closed(result, "$.packages", "is null, expected an array of packages")

    result = run(policy, tmp_path, "doc.spdx.json", _spdx({"name": "ok"}, "evil"))
    assert_fails_closed(result, "$.packages[1]", "package entry is a string, not an object")

    result = run(policy, tmp_path, "doc.spdx.json", {**_spdx(), "packages": {"name": "evil"}})
    assert exit_code(result) == EXIT_INPUT
    assert result.input_errors[0].problem.location == "$.packages"

    # a license field that is not a string may be the denying statement
    bad = {"name": "x", "licenseConcluded": ["AGPL-3.0-only"], "licenseDeclared": "MIT"}
    result = run(policy, tmp_path, "doc.spdx.json", _spdx(bad))
    assert_fails_closed(result, "$.packages[0].licenseConcluded", "not a string")


PIP_OK = [{"Name": f"ok{i}", "Version": "1", "License": "MIT"} for i in range(5)]


@pytest.mark.parametrize(
    ("doc", "location", "message"),
    [
        ([*PIP_OK, "evil"], "$[5]", "entry is a string 'evil', not a package object"),
        ([*PIP_OK, None], "$[5]", "entry is null, not a package object"),
        (
            [*PIP_OK, {"Name": "", "License": "AGPL-3.0-only"}],
            "$[5]",
            "entry has no package name",
        ),
        (
            [*PIP_OK, {"Name": 7, "Version": "1"}],
            "$[5]",
            "entry has no package name",
        ),
        (
            [*PIP_OK, {"Name": "b", "License-Expression": ["AGPL-3.0-only"], "License": "MIT"}],
            "$[5].License-Expression",
            "b: License-Expression is an array, not a string",
        ),
        (
            [{"name": "a", "version": "1", "licenses": ["MIT", {"id": "AGPL-3.0-only"}]}],
            "$[0].licenses[1]",
            "a: license is an object, not a string",
        ),
    ],
)
def test_pip_licenses_entries_that_cannot_be_read_fail_the_run(
    policy: Policy, tmp_path: Path, doc: list[Any], location: str, message: str
) -> None:
    # before: "skipped" warnings, or silently ignored: pass (exit 0)
    result = run(policy, tmp_path, "licenses.json", doc)
    assert_fails_closed(result, location, message)


# --------------------------------------------------------------------------- 5. tag-value

TV_HEAD = "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: d\n"


@pytest.mark.parametrize(
    ("body", "line", "tag"),
    [
        ("PackageVersion: 1\nPackageLicenseDeclared: AGPL-3.0-only\n", 5, "PackageVersion"),
        (
            "PackageName: ok\nSPDXID: SPDXRef-ok\nPackageLicenseConcluded: MIT\n"
            "FileName: ./a.c\nSPDXID: SPDXRef-f\n"
            "PackageLicenseConcluded: AGPL-3.0-only\n",
            10,
            "PackageLicenseConcluded",
        ),
    ],
)
def test_tag_value_package_fields_outside_a_package_fail_the_run(
    policy: Policy, tmp_path: Path, body: str, line: int, tag: str
) -> None:
    # before: the fields were ignored, the AGPL package vanished: pass (exit 0)
    result = run(policy, tmp_path, "doc.spdx", TV_HEAD + body)
    assert_fails_closed(result, f"line {line}", f"{tag} is a package field outside any package")


def test_tag_value_field_restated_in_one_package_fails_the_run(
    policy: Policy, tmp_path: Path
) -> None:
    """A lost PackageName: line makes the next package's fields overwrite this one's."""
    body = (
        "PackageName: a\nSPDXID: SPDXRef-a\nPackageLicenseConcluded: AGPL-3.0-only\n"
        "SPDXID: SPDXRef-b\nPackageLicenseConcluded: MIT\n"
    )
    result = run(policy, tmp_path, "doc.spdx", TV_HEAD + body)
    errors = input_errors(result)
    assert errors[0].startswith("line 8: SPDXID is stated again in the package of line 5")
    assert errors[1].startswith("line 9: PackageLicenseConcluded is stated again")
    assert exit_code(result) == EXIT_VIOLATIONS


def test_tag_value_clean_document_has_no_errors(policy: Policy, tmp_path: Path) -> None:
    body = (
        "PackageName: a\nSPDXID: SPDXRef-a\nPackageVersion: 1\nPackageLicenseConcluded: MIT\n"
        "PackageLicenseDeclared: MIT\nFileName: ./a.c\nSPDXID: SPDXRef-f\n"
        "LicenseConcluded: MIT\nPackageName: b\nSPDXID: SPDXRef-b\nPackageLicenseConcluded: MIT\n"
    )
    result = run(policy, tmp_path, "doc.spdx", TV_HEAD + body)
    assert (result.verdict, result.components, result.findings) == ("pass", 2, [])


# --------------------------------------------------------------------------- bounded messages


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.json", cdx({"type": "library", "purl": "pkg:deb/" + "%\x1b[31m" * 5000})),
        (
            "bom.json",
            cdx({"type": "application", "name": "x", "purl": "pkg:deb/d/" + "\n\x07a" * 5000}),
        ),
        ("bom.json", cdx("\x1b[2J" + "A" * 100_000)),
        ("bom.xml", xml_bom(xml_component(ns="urn:" + "x" * 100_000))),
        (
            "bom.xml",
            xml_bom(
                '<component type="library"><name>a</name>'
                f"<version>{'1' * 50_000}</version><version>2&#x2028;</version></component>"
            ),
        ),
        (
            "doc.spdx",
            TV_HEAD
            + "PackageName: a\nPackageVersion: 1\nPackageVersion: \x1b"
            + "9" * 50_000
            + "\n",
        ),
    ],
)
def test_messages_quote_only_a_bounded_escaped_excerpt(
    policy: Policy, tmp_path: Path, name: str, content: Any
) -> None:
    result = run(policy, tmp_path, name, content)
    notes = [f.message for f in result.findings if f.rule.startswith("input-")]
    assert notes
    for message in notes:
        assert len(message) < 400, message[:200]
        assert message.isprintable(), repr(message[:200])
    assert any(f.severity is Severity.ERROR for f in result.findings)
