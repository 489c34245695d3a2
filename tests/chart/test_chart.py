"""The chart helm/sspr: what it renders for the documented examples and for each option, and what
its schema and its validateValues refuse. Every render is validated by kubernetes-validate --strict
(conftest.render_chart)."""

from __future__ import annotations

import base64
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from conftest import CHART, KUBERNETES_VERSION, SERVICE_MONITOR_API, Rendered, render_chart, render_error

EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))

# The top-level keys and tables the service's Config knows (service/src/config.rs, with the
# [metrics] table of issue 13): it refuses any other (deny_unknown_fields).
SERVICE_TOP_LEVEL_KEYS = {
    "listen", "auth", "graph", "tenants", "store", "registrations", "policy", "cursors",
    "server", "tenancy", "default_app", "partner", "metrics",
}

ISSUER = {
    "discoveryUrl": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
    "audience": "api://sspr",
}

POSTGRES_BY_PASSWORD_SECRET = {
    "replicaCount": 2,
    "externalDatabase": {
        "enabled": True,
        "host": "pg.example.com",
        "port": 6432,
        "user": "sspr_app",
        "database": "sspr_prod",
        "sslMode": "verify-full",
        "existingSecret": "sspr-db",
        "existingSecretPasswordKey": "pg-password",
    },
}


def sspr_toml(rendered: Rendered) -> dict[str, Any]:
    return tomllib.loads(rendered.one("ConfigMap")["data"]["sspr.toml"])


def everything_but_secrets(rendered: Rendered) -> str:
    return json.dumps([m for m in rendered.manifests if m["kind"] != "Secret"])


# --- the documented examples --------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_each_documented_example_renders_valid_manifests(example: Path) -> None:
    rendered = render_chart(yaml.safe_load(example.read_text()), [SERVICE_MONITOR_API])
    assert {"ConfigMap", "Deployment", "Service", "ServiceAccount"} <= set(rendered.kinds())
    config = sspr_toml(rendered)
    assert set(config) <= SERVICE_TOP_LEVEL_KEYS, set(config) - SERVICE_TOP_LEVEL_KEYS
    assert f"helm/sspr/examples/{example.name}" in (CHART / "README.md").read_text(), (
        "the chart README documents every example"
    )


def test_the_examples_cover_sqlite_postgresql_and_workload_identity() -> None:
    assert {path.stem for path in EXAMPLES} >= {"sqlite", "postgresql", "workload-identity"}


def test_every_option_at_once_renders_valid_manifests() -> None:
    rendered = render_chart(
        {
            **POSTGRES_BY_PASSWORD_SECRET,
            "azureWorkloadIdentity": {"enabled": True, "clientId": "app", "tenantId": "home"},
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": None},
            "networkPolicy": {
                "enabled": True,
                "apiClients": [{"namespaceSelector": {"matchLabels": {"team": "msp"}}}],
                "metricsScrapers": [{"podSelector": {"matchLabels": {"app": "prometheus"}}}],
            },
            "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6},
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": [{"host": "sspr.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
                "tls": [{"secretName": "sspr-tls", "hosts": ["sspr.example.com"]}],
            },
            "metrics": {"serviceMonitor": {"enabled": True, "scrapeTimeout": "10s"}},
            "secrets": {"tenancySecretKey": "k" * 44, "cursorsKey": "c" * 48},
            "extraEnv": [{"name": "SSPR_GRAPH__TIMEOUT_SECS", "value": "10"}],
            "imagePullSecrets": [{"name": "regcred"}],
            "tolerations": [{"key": "pool", "operator": "Equal", "value": "msp", "effect": "NoSchedule"}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
        },
        [SERVICE_MONITOR_API],
    )
    assert rendered.kinds() == sorted(
        [
            "ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "NetworkPolicy",
            "PodDisruptionBudget", "Secret", "Service", "ServiceAccount", "ServiceMonitor",
        ]
    )
    assert "replicas" not in rendered.one("Deployment")["spec"], "the autoscaler owns the count"
    hpa = rendered.one("HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "demo-sspr"}
    backend = rendered.one("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    assert backend == {"service": {"name": "demo-sspr", "port": {"name": "http"}}}
    assert rendered.one("PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_kubernetes_objects_passed_through_are_validated_strictly() -> None:
    """The schema leaves Kubernetes' own objects (tolerations, affinity…) to Kubernetes' schemas:
    the strict validation of the rendered manifests is what catches a typo in them."""
    with pytest.raises(pytest.fail.Exception, match="'tolerationSeconds_' was unexpected"):
        render_chart({"tolerations": [{"key": "pool", "tolerationSeconds_": 5}]})


def test_defaults_render_only_the_core_objects() -> None:
    rendered = render_chart()
    assert rendered.kinds() == sorted(
        ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Service", "ServiceAccount"]
    )


# --- security ------------------------------------------------------------------------------------


def test_the_pod_meets_restricted_pod_security_by_default() -> None:
    rendered = render_chart()
    pod = rendered.pod_spec()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["runAsGroup"] == 65532
    assert pod["securityContext"]["fsGroup"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert rendered.one("ServiceAccount")["automountServiceAccountToken"] is False
    container = rendered.container()
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["runAsNonRoot"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "privileged" not in context
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}
    for volume in pod["volumes"]:
        assert "hostPath" not in volume


def test_only_tmp_and_the_store_are_writable() -> None:
    sqlite = render_chart()
    mounts = {m["mountPath"]: m for m in sqlite.container()["volumeMounts"]}
    assert set(mounts) == {"/etc/sspr", "/tmp", "/var/lib/sspr"}
    assert mounts["/etc/sspr"]["readOnly"] is True
    volumes = {v["name"]: v for v in sqlite.pod_spec()["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert volumes[mounts["/var/lib/sspr"]["name"]]["persistentVolumeClaim"] == {"claimName": "demo-sspr"}
    postgres = render_chart(POSTGRES_BY_PASSWORD_SECRET)
    assert {m["mountPath"] for m in postgres.container()["volumeMounts"]} == {"/etc/sspr", "/tmp"}
    assert postgres.maybe("PersistentVolumeClaim") is None


def test_an_existing_claim_is_mounted_instead_of_a_new_one() -> None:
    rendered = render_chart({"persistence": {"existingClaim": "sspr-data"}})
    assert rendered.maybe("PersistentVolumeClaim") is None
    volumes = {v["name"]: v for v in rendered.pod_spec()["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "sspr-data"}


# --- workload identity ---------------------------------------------------------------------------


def test_workload_identity_annotates_the_account_and_labels_the_pods() -> None:
    rendered = render_chart(
        {
            "azureWorkloadIdentity": {
                "enabled": True,
                "clientId": "9a1b2c3d-0000-4000-8000-000000000001",
                "tenantId": "5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f",
                "tokenExpirationSeconds": 7200,
            },
            "serviceAccount": {"annotations": {"team": "msp"}},
        }
    )
    account = rendered.one("ServiceAccount")
    assert account["metadata"]["annotations"] == {
        "team": "msp",
        "azure.workload.identity/client-id": "9a1b2c3d-0000-4000-8000-000000000001",
        "azure.workload.identity/tenant-id": "5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f",
        "azure.workload.identity/service-account-token-expiration": "7200",
    }
    template = rendered.one("Deployment")["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"
    assert template["spec"]["serviceAccountName"] == account["metadata"]["name"]
    # The webhook projects its own token: the Kubernetes API token stays out.
    assert template["spec"]["automountServiceAccountToken"] is False
    # The default app signs in with the webhook's AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE.
    assert sspr_toml(rendered)["default_app"] == {"kind": "workloadIdentity"}


def test_without_workload_identity_nothing_of_it_is_rendered() -> None:
    rendered = render_chart()
    assert "azure.workload.identity" not in json.dumps(rendered.manifests)
    assert "default_app" not in sspr_toml(rendered)


def test_the_default_app_may_be_a_managed_identity() -> None:
    rendered = render_chart(
        {"config": {"defaultApp": {"kind": "managedIdentity", "clientId": "app", "identityClientId": "uami"}}}
    )
    assert sspr_toml(rendered)["default_app"] == {
        "kind": "managedIdentity", "client_id": "app", "identity_client_id": "uami",
    }


# --- probes and shutdown -------------------------------------------------------------------------


def test_probes_use_healthz_and_readyz_on_the_http_port() -> None:
    container = render_chart().container()
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": 8080, "metrics": 9090}


def test_the_pod_outlives_the_pre_stop_pause_and_the_services_grace() -> None:
    rendered = render_chart({"config": {"shutdownGraceSecs": 40}, "preStopSleepSeconds": 7})
    container = rendered.container()
    assert container["lifecycle"]["preStop"] == {"sleep": {"seconds": 7}}
    assert rendered.pod_spec()["terminationGracePeriodSeconds"] > 40 + 7
    assert sspr_toml(rendered)["server"] == {"shutdown_grace_secs": 40}


def test_sqlite_recreates_and_postgresql_rolls() -> None:
    assert render_chart().one("Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    strategy = render_chart(POSTGRES_BY_PASSWORD_SECRET).one("Deployment")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"


def test_the_service_names_its_two_ports() -> None:
    ports = render_chart().one("Service")["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in ports] == [
        ("http", 8080, "http"), ("metrics", 9090, "metrics"),
    ]


# --- the configuration file ----------------------------------------------------------------------


def test_the_config_file_is_mounted_where_sspr_config_points() -> None:
    rendered = render_chart()
    env = rendered.env()
    assert env["SSPR_CONFIG"]["value"] == "/etc/sspr/sspr.toml"
    assert env["SSPR_LOG_FORMAT"]["value"] == "json"
    mount = next(m for m in rendered.container()["volumeMounts"] if m["mountPath"] == "/etc/sspr")
    volume = next(v for v in rendered.pod_spec()["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == rendered.one("ConfigMap")["metadata"]["name"]
    assert rendered.container()["args"] == ["serve"]


def test_sqlite_config_listens_on_all_interfaces_and_keeps_the_store_on_the_volume() -> None:
    config = sspr_toml(render_chart())
    assert config["listen"] == "0.0.0.0:8080"
    assert config["metrics"] == {"listen": "0.0.0.0:9090"}
    assert config["store"] == {"path": "/var/lib/sspr/sspr.db"}


def test_config_carries_issuers_grants_tenants_and_escapes_strings() -> None:
    tricky = 'Contoso "EU" \\ Ltd\t<&>'
    config = sspr_toml(
        render_chart(
            {
                "config": {
                    "issuers": [ISSUER],
                    "access": [{"principal": "oid-1", "tenants": ["tag:region:eu", "contoso.com"]}],
                    "tenants": [
                        {
                            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                            "domains": ["contoso.com"],
                            "displayName": tricky,
                            "tags": ["region:eu"],
                            "credential": {"kind": "default"},
                        },
                        {"id": "t-wi", "credential": {"kind": "workloadIdentity", "clientId": "app"}},
                    ],
                    "partnerTenant": "msp-tenant",
                    "consentRedirectUri": "https://sspr.example/consented",
                }
            }
        )
    )
    assert set(config) <= SERVICE_TOP_LEVEL_KEYS
    assert config["auth"] == {
        "issuers": [{"discovery_url": ISSUER["discoveryUrl"], "audience": "api://sspr"}],
        "access": [{"principal": "oid-1", "tenants": ["tag:region:eu", "contoso.com"]}],
    }
    assert config["tenants"] == [
        {
            "id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            "domains": ["contoso.com"],
            "display_name": tricky,
            "tags": ["region:eu"],
            "credential": {"kind": "default"},
        },
        {"id": "t-wi", "credential": {"kind": "workloadIdentity", "client_id": "app"}},
    ]
    assert config["partner"] == {"tenant": "msp-tenant"}
    assert config["tenancy"] == {"consent_redirect_uri": "https://sspr.example/consented"}


def test_a_config_change_rolls_the_pods() -> None:
    def checksum(values: dict[str, Any]) -> str:
        return render_chart(values).one("Deployment")["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]

    assert checksum({}) != checksum({"config": {"issuers": [ISSUER]}})


# --- PostgreSQL and secrets ----------------------------------------------------------------------


def test_postgresql_url_is_in_the_config_and_its_password_comes_from_the_secret() -> None:
    rendered = render_chart(POSTGRES_BY_PASSWORD_SECRET)
    assert sspr_toml(rendered)["store"] == {
        "url": "postgres://sspr_app@pg.example.com:6432/sspr_prod?sslmode=verify-full"
    }
    assert rendered.env()["SSPR_STORE__PASSWORD"] == {
        "name": "SSPR_STORE__PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "sspr-db", "key": "pg-password"}},
    }
    assert "SSPR_STORE__URL" not in rendered.env()
    assert rendered.maybe("Secret") is None, "an existing Secret is not duplicated"


def test_a_whole_url_from_the_secret_leaves_the_config_without_one() -> None:
    rendered = render_chart(
        {
            "externalDatabase": {
                "enabled": True,
                "existingSecret": "sspr-dsn",
                "existingSecretUrlKey": "url",
            }
        }
    )
    assert sspr_toml(rendered)["store"] == {}
    assert rendered.env()["SSPR_STORE__URL"]["valueFrom"] == {
        "secretKeyRef": {"name": "sspr-dsn", "key": "url"}
    }
    assert "SSPR_STORE__PASSWORD" not in rendered.env()


def test_a_password_in_values_goes_to_a_chart_secret_never_in_plain_sight() -> None:
    password = "pg-Secret-4711"
    rendered = render_chart(
        {"externalDatabase": {"enabled": True, "host": "pg.example.com", "password": password}}
    )
    secret = rendered.one("Secret", "demo-sspr-externaldb")
    assert base64.b64decode(secret["data"]["password"]).decode() == password
    assert rendered.env()["SSPR_STORE__PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "demo-sspr-externaldb", "key": "password"}
    }
    assert password not in everything_but_secrets(rendered)
    assert password not in rendered.notes


def test_every_database_and_key_variable_comes_from_a_secret_key_ref() -> None:
    rendered = render_chart(
        {
            "externalDatabase": {"enabled": True, "host": "pg.example.com", "password": "p"},
            "secrets": {"tenancySecretKey": "t" * 44, "cursorsKey": "c" * 40},
        }
    )
    secret_variables = {"SSPR_STORE__PASSWORD", "SSPR_STORE__URL", "SSPR_TENANCY__SECRET_KEY", "SSPR_CURSORS__KEY"}
    present = {name: var for name, var in rendered.env().items() if name in secret_variables}
    assert set(present) == {"SSPR_STORE__PASSWORD", "SSPR_TENANCY__SECRET_KEY", "SSPR_CURSORS__KEY"}
    for name, var in present.items():
        assert "value" not in var, name
        assert set(var["valueFrom"]) == {"secretKeyRef"}, name


def test_keys_in_values_go_to_a_chart_secret_and_only_those_given() -> None:
    key = "Q" * 43 + "="
    rendered = render_chart({"secrets": {"tenancySecretKey": key}})
    secret = rendered.one("Secret", "demo-sspr-keys")
    assert set(secret["data"]) == {"tenancy-secret-key"}
    assert base64.b64decode(secret["data"]["tenancy-secret-key"]).decode() == key
    env = rendered.env()
    assert env["SSPR_TENANCY__SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "demo-sspr-keys", "key": "tenancy-secret-key",
    }
    assert "SSPR_CURSORS__KEY" not in env, "a reference to an absent key would stop the pod"
    assert key not in everything_but_secrets(rendered)


def test_an_existing_key_secret_is_referenced_and_its_keys_are_optional() -> None:
    rendered = render_chart(
        {"secrets": {"existingSecret": "sspr-keys", "cursorsKeyKey": "cursor"}}
    )
    assert rendered.maybe("Secret") is None
    env = rendered.env()
    assert env["SSPR_TENANCY__SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "sspr-keys", "key": "tenancy-secret-key", "optional": True,
    }
    assert env["SSPR_CURSORS__KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "sspr-keys", "key": "cursor", "optional": True,
    }


def test_no_keys_means_no_key_variables() -> None:
    env = render_chart().env()
    assert not {"SSPR_TENANCY__SECRET_KEY", "SSPR_CURSORS__KEY"} & set(env)


# --- opt-in objects ------------------------------------------------------------------------------


def test_the_service_monitor_needs_the_monitoring_api() -> None:
    values = {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}, "interval": "15s"}}}
    without = render_chart(values)
    assert without.maybe("ServiceMonitor") is None
    assert "no monitoring.coreos.com/v1 API" in without.notes
    with_api = render_chart(values, [SERVICE_MONITOR_API])
    monitor = with_api.one("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["selector"]["matchLabels"] == (
        with_api.one("Service")["spec"]["selector"]
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["sspr"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint == {"port": "metrics", "path": "/metrics", "interval": "15s", "honorLabels": False}
    assert render_chart({}, [SERVICE_MONITOR_API]).maybe("ServiceMonitor") is None, "opt-in"


def test_the_network_policy_lets_out_dns_https_and_the_database_only() -> None:
    policy = render_chart({**POSTGRES_BY_PASSWORD_SECRET, "networkPolicy": {"enabled": True}}).one(
        "NetworkPolicy"
    )["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    egress = sorted((p["port"], p["protocol"]) for rule in policy["egress"] for p in rule["ports"])
    assert egress == [(53, "TCP"), (53, "UDP"), (443, "TCP"), (6432, "TCP")]
    assert all("to" not in rule for rule in policy["egress"])
    ingress = sorted((p["port"], p["protocol"]) for rule in policy["ingress"] for p in rule["ports"])
    assert ingress == [("http", "TCP"), ("metrics", "TCP")]
    sqlite = render_chart({"networkPolicy": {"enabled": True}}).one("NetworkPolicy")["spec"]
    assert sorted(p["port"] for rule in sqlite["egress"] for p in rule["ports"]) == [53, 53, 443]


def test_opt_in_objects_are_absent_by_default() -> None:
    kinds = set(render_chart(POSTGRES_BY_PASSWORD_SECRET, [SERVICE_MONITOR_API]).kinds())
    assert not kinds & {"PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "HorizontalPodAutoscaler", "Ingress"}


def test_the_image_defaults_to_the_charts_app_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["appVersion"] == "0.1.0"
    assert render_chart().container()["image"] == "ghcr.io/sspr/sspr-service:0.1.0"
    pinned = render_chart({"image": {"repository": "registry.example/sspr", "tag": "1.2.3", "pullPolicy": "Always"}})
    assert pinned.container()["image"] == "registry.example/sspr:1.2.3"
    assert pinned.container()["imagePullPolicy"] == "Always"


# --- refusals ------------------------------------------------------------------------------------


def test_an_unknown_key_is_refused_naming_it() -> None:
    message = render_error({"replicas": 2})
    assert "additional properties 'replicas' not allowed" in message, message
    nested = render_error({"externalDatabase": {"hostname": "pg"}})
    assert "additional properties 'hostname' not allowed" in nested, nested
    assert "/externalDatabase" in nested, nested


def test_more_than_one_replica_on_sqlite_is_refused() -> None:
    message = render_error({"replicaCount": 2})
    assert "replicaCount is 2 but the store is SQLite" in message, message
    assert "externalDatabase.enabled=true" in message, message
    render_chart({"replicaCount": 2, **{"externalDatabase": POSTGRES_BY_PASSWORD_SECRET["externalDatabase"]}})


def test_autoscaling_on_sqlite_is_refused() -> None:
    message = render_error({"autoscaling": {"enabled": True}})
    assert "autoscaling.enabled is true but the store is SQLite" in message, message


def test_postgresql_without_host_or_secret_is_refused() -> None:
    message = render_error({"externalDatabase": {"enabled": True}})
    assert (
        "You enabled the external PostgreSQL database (externalDatabase.enabled) but did not "
        "specify its host (externalDatabase.host) nor a Secret"
    ) in message, message


def test_a_secret_without_a_url_key_still_needs_a_host() -> None:
    message = render_error({"externalDatabase": {"enabled": True, "existingSecret": "sspr-db"}})
    assert "externalDatabase.existingSecret is set without externalDatabase.host" in message, message


def test_a_workload_identity_default_app_without_the_webhook_is_refused() -> None:
    message = render_error({"config": {"defaultApp": {"kind": "workloadIdentity"}}})
    assert "azureWorkloadIdentity.enabled is false" in message, message


def test_a_secret_credential_in_the_config_map_is_refused() -> None:
    message = render_error(
        {"config": {"tenants": [{"id": "t", "credential": {"kind": "clientSecret", "clientId": "a"}}]}}
    )
    assert "/config/tenants/0/credential/kind" in message, message


def test_a_short_key_is_refused_without_printing_it() -> None:
    message = render_error({"secrets": {"cursorsKey": "short-Secret"}})
    assert "/secrets/cursorsKey" in message, message
    assert "short-Secret" not in message, message


@pytest.mark.parametrize(
    "values, field",
    [
        ({"externalDatabase": {"sslMode": "allow"}}, "/externalDatabase/sslMode"),
        ({"azureWorkloadIdentity": {"tokenExpirationSeconds": 600}}, "/azureWorkloadIdentity/tokenExpirationSeconds"),
        ({"externalDatabase": {"user": "a b"}}, "/externalDatabase/user"),
        ({"config": {"logFormat": "yaml"}}, "/config/logFormat"),
        ({"config": {"issuers": [{"discoveryUrl": "http://plain", "audience": "a"}]}}, "/config/issuers/0/discoveryUrl"),
    ],
)
def test_bad_values_are_refused_naming_the_field(values: dict[str, Any], field: str) -> None:
    message = render_error(values)
    assert field in message, message


# --- the chart's own documents -------------------------------------------------------------------


@pytest.mark.parametrize("example", [None, *EXAMPLES], ids=lambda path: path.stem if path else "defaults")
def test_helm_lint_finds_nothing_to_warn_about(example: Path | None) -> None:
    values = yaml.safe_load(example.read_text()) if example else None
    report = helm_python.lint(CHART, values, strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    assert report["errors"] == []
    warnings = [m for m in report["messages"] if m["severity"] >= 2]
    assert warnings == [], warnings


def test_the_schema_is_strict_at_every_level() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    loose: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "properties" in node and node.get("additionalProperties") is not False:
                loose.append(path or "/")
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}/{index}")

    walk(schema, "")
    assert not loose, loose


def test_the_schema_describes_every_default_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(values: dict[str, Any], node: dict[str, Any], path: str) -> None:
        for key, value in values.items():
            assert key in node.get("properties", {}), f"{path}/{key} is not in the schema"
            child = node["properties"][key]
            if isinstance(value, dict) and "properties" in child:
                walk(value, child, f"{path}/{key}")

    walk(defaults, schema, "")


def test_every_value_is_commented() -> None:
    """Each value of values.yaml has a `# --` comment above it (the helm-docs convention), or sits
    in a value so documented as a whole (a Kubernetes object such as resources). Keys that only
    group others need none; a plain `#` comment above them introduces a section."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    key = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*):(.*)$")
    content = [
        (number, line) for number, line in enumerate(lines)
        if line.strip() and not line.lstrip().startswith("#")
    ]

    def documented(number: int) -> bool:
        """Whether the comment lines right above this line start with `# --`."""
        above = number - 1
        while above >= 0 and lines[above].lstrip().startswith("#"):
            if lines[above].lstrip().startswith("# --"):
                return True
            above -= 1
        return False

    covered_blocks: list[int] = []  # indentations of the enclosing documented values
    undocumented: list[str] = []
    for position, (number, line) in enumerate(content):
        match = key.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        while covered_blocks and covered_blocks[-1] >= indent:
            covered_blocks.pop()
        if covered_blocks:
            continue
        following = content[position + 1][1] if position + 1 < len(content) else ""
        groups = not match.group(3).strip() and (
            len(following) - len(following.lstrip()) > indent
        )
        if documented(number):
            covered_blocks.append(indent)
        elif not groups:
            undocumented.append(f"line {number + 1}: {line.strip()}")
    assert not undocumented, undocumented
