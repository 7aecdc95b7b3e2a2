{{/*
Names and labels, as `helm create` makes them.
*/}}
{{- define "postgres.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "postgres.fullname" -}}
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

{{- define "postgres.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "postgres.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postgres.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "postgres.labels" -}}
helm.sh/chart: {{ include "postgres.chart" . }}
{{ include "postgres.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: database
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The image as repository:tag@digest. The digest is required and must be a
sha256 digest: the decision table (row postgres-official-image,
require_digest) fails an unpinned image, and the chart refuses to render one.
*/}}
{{- define "postgres.image" -}}
{{- $repository := required "image.repository is required" .Values.image.repository -}}
{{- $tag := required "image.tag is required (e.g. 17-alpine)" .Values.image.tag | toString -}}
{{- $digest := required "image.digest is required: pin the image by digest (crane digest docker.io/library/postgres:17-alpine)" .Values.image.digest | toString -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $digest) -}}
{{- fail (printf "image.digest must look like sha256:<64 hex digits>, got %q" $digest) -}}
{{- end -}}
{{- printf "%s:%s@%s" $repository $tag $digest -}}
{{- end }}

{{/*
The Secret holding the password, and the key in it.
*/}}
{{- define "postgres.secretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else }}
{{- printf "%s-credentials" (include "postgres.fullname" .) }}
{{- end }}
{{- end }}

{{- define "postgres.secretPasswordKey" -}}
{{- if .Values.auth.existingSecret }}
{{- required "auth.existingSecretPasswordKey is required with auth.existingSecret" .Values.auth.existingSecretPasswordKey }}
{{- else }}
{{- "POSTGRES_PASSWORD" }}
{{- end }}
{{- end }}

{{- define "postgres.claimName" -}}
{{- if .Values.persistence.existingClaim }}
{{- .Values.persistence.existingClaim }}
{{- else }}
{{- printf "%s-data" (include "postgres.fullname" .) }}
{{- end }}
{{- end }}
