"""Renders the chart helm/sspr offline with Helm's own library (helm-python-sdk) and validates
every manifest against Kubernetes' published schemas (kubernetes-validate, strict)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml
from helm_python import _native

CHART = Path(__file__).resolve().parents[2] / "helm" / "sspr"

# The newest Kubernetes the pinned kubernetes-validate ships schemas for; the chart needs >= 1.30
# (lifecycle.preStop.sleep).
KUBERNETES_VERSION = "1.37.0"

SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"

# Kinds kubernetes-validate has no schema for: custom resources. The tests check these fields
# themselves.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


@dataclass
class Rendered:
    """One render: the manifests by kind and name, and NOTES.txt."""

    manifests: list[dict[str, Any]]
    notes: str

    def kinds(self) -> list[str]:
        return sorted(m["kind"] for m in self.manifests)

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [
            m
            for m in self.manifests
            if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
        ]
        assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}: {self.kinds()}"
        return found[0]

    def maybe(self, kind: str) -> dict[str, Any] | None:
        found = [m for m in self.manifests if m["kind"] == kind]
        assert len(found) <= 1, f"several {kind}: {self.kinds()}"
        return found[0] if found else None

    def pod_spec(self) -> dict[str, Any]:
        return self.one("Deployment")["spec"]["template"]["spec"]

    def container(self) -> dict[str, Any]:
        (container,) = self.pod_spec()["containers"]
        return container

    def env(self) -> dict[str, dict[str, Any]]:
        return {e["name"]: e for e in self.container()["env"]}


def render_chart(values: dict[str, Any] | None = None, api_versions: list[str] | None = None) -> Rendered:
    """Renders as `helm template demo helm/sspr -n sspr --kube-version … --api-versions …`, schema
    validation included. Chart.render of helm-python-sdk 0.2.2 does not expose the library's
    kube_version and api_versions options (which .Capabilities reads), so this calls the same
    native function with them."""
    with helm_python.Chart.load(CHART) as chart:
        options = {
            "name": "demo",
            "namespace": "sspr",
            "is_install": True,
            "kube_version": f"v{KUBERNETES_VERSION}",
            "api_versions": api_versions or [],
        }
        rendered = json.loads(
            _native.call_string(
                "helm_render", chart._raw(), json.dumps(values or {}), json.dumps(options)
            )
        )
    manifests: list[dict[str, Any]] = []
    notes = ""
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            notes = text
            continue
        manifests.extend(doc for doc in yaml.safe_load_all(text) if doc)
    for manifest in manifests:
        validate(manifest)
    return Rendered(manifests, notes)


def validate(manifest: dict[str, Any]) -> None:
    """kubernetes-validate --strict: unknown fields and wrong types are errors."""
    if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_KINDS:
        return
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(
            f"{manifest['kind']} {manifest['metadata']['name']}: {error.message} at "
            f"{'.'.join(str(p) for p in error.absolute_path)}"
        )


def render_error(values: dict[str, Any]) -> str:
    """The message a refused install gives."""
    with pytest.raises(helm_python.HelmError) as refused:
        render_chart(values)
    return str(refused.value)
