{{/* The chart's name, overridable. */}}
{{- define "sspr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: the release's, with the chart's unless the release already holds it. */}}
{{- define "sspr.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sspr.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "sspr.labels" -}}
helm.sh/chart: {{ include "sspr.chart" . }}
{{ include "sspr.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that pick the pods (never change them: a Deployment's selector is immutable). */}}
{{- define "sspr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sspr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sspr.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sspr.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sspr.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The [default_app] credential kind after resolving "" against workload identity. */}}
{{- define "sspr.defaultAppKind" -}}
{{- $kind := .Values.config.defaultApp.kind }}
{{- if eq $kind "" }}
{{- ternary "workloadIdentity" "none" .Values.azureWorkloadIdentity.enabled }}
{{- else }}
{{- $kind }}
{{- end }}
{{- end }}

{{/* The Secret holding the chart-made SSPR_TENANCY__SECRET_KEY / SSPR_CURSORS__KEY, when any. */}}
{{- define "sspr.keysSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else if or .Values.secrets.tenancySecretKey .Values.secrets.cursorsKey }}
{{- printf "%s-keys" (include "sspr.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Secret holding the database password (or URL), when any. */}}
{{- define "sspr.databaseSecretName" -}}
{{- if .Values.externalDatabase.existingSecret }}
{{- .Values.externalDatabase.existingSecret }}
{{- else if .Values.externalDatabase.password }}
{{- printf "%s-externaldb" (include "sspr.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The store's URL without its password (the password comes from a Secret as SSPR_STORE__PASSWORD).
The schema limits user, database and host to characters a URL carries as they are.
*/}}
{{- define "sspr.databaseUrl" -}}
{{- $db := .Values.externalDatabase }}
{{- printf "postgres://%s@%s:%d/%s?sslmode=%s" $db.user $db.host (int $db.port) $db.database $db.sslMode }}
{{- end }}

{{/*
Refusals that span several values, each saying what to change. The schema refuses unknown keys
and wrong types before this runs.
*/}}
{{- define "sspr.validateValues" -}}
{{- $db := .Values.externalDatabase }}
{{- if not $db.enabled }}
{{- if gt (int .Values.replicaCount) 1 }}
{{- fail (printf "replicaCount is %d but the store is SQLite: SQLite is one file on a ReadWriteOnce volume and serves one replica. Set externalDatabase.enabled=true (PostgreSQL) for more, or replicaCount=1." (int .Values.replicaCount)) }}
{{- end }}
{{- if .Values.autoscaling.enabled }}
{{- fail "autoscaling.enabled is true but the store is SQLite: SQLite is one file on a ReadWriteOnce volume and serves one replica. Set externalDatabase.enabled=true (PostgreSQL) to scale out." }}
{{- end }}
{{- else }}
{{- if and (not $db.host) (not $db.existingSecret) }}
{{- fail "You enabled the external PostgreSQL database (externalDatabase.enabled) but did not specify its host (externalDatabase.host) nor a Secret with its URL (externalDatabase.existingSecret with externalDatabase.existingSecretUrlKey)." }}
{{- end }}
{{- if and (not $db.host) (not $db.existingSecretUrlKey) }}
{{- fail "externalDatabase.existingSecret is set without externalDatabase.host: give the host, or the key of the Secret holding the whole URL (externalDatabase.existingSecretUrlKey)." }}
{{- end }}
{{- if and $db.existingSecretUrlKey (not $db.existingSecret) }}
{{- fail "externalDatabase.existingSecretUrlKey names a key of externalDatabase.existingSecret, which is empty." }}
{{- end }}
{{- if and $db.password $db.existingSecret }}
{{- fail "externalDatabase.password and externalDatabase.existingSecret are both set: keep the password in the existing Secret (externalDatabase.existingSecretPasswordKey) and remove externalDatabase.password." }}
{{- end }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail (printf "autoscaling.maxReplicas (%d) is below autoscaling.minReplicas (%d)." (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- end }}
{{- $kind := include "sspr.defaultAppKind" . }}
{{- if and (eq $kind "workloadIdentity") (not .Values.azureWorkloadIdentity.enabled) }}
{{- fail "config.defaultApp.kind is workloadIdentity but azureWorkloadIdentity.enabled is false: without the webhook the pod gets no AZURE_CLIENT_ID nor AZURE_FEDERATED_TOKEN_FILE. Enable azureWorkloadIdentity, or choose another kind." }}
{{- end }}
{{- if and (eq $kind "managedIdentity") (or (not .Values.config.defaultApp.clientId) (not .Values.config.defaultApp.identityClientId)) }}
{{- fail "config.defaultApp.kind is managedIdentity: config.defaultApp.clientId (the app) and config.defaultApp.identityClientId (the user-assigned identity) are both required." }}
{{- end }}
{{- if and .Values.secrets.existingSecret (or .Values.secrets.tenancySecretKey .Values.secrets.cursorsKey) }}
{{- fail "secrets.existingSecret is set together with secrets.tenancySecretKey or secrets.cursorsKey: keep the keys in the existing Secret and remove the values." }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both (set the other to null)." }}
{{- end }}
{{- end }}
