{{/* Names and labels shared by every Make Effects chart. */}}

{{- define "makefx.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release name when it already names the chart (`makefx-gateway`), else `<release>-<chart>`. */}}
{{- define "makefx.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "makefx.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "makefx.selectorLabels" -}}
app.kubernetes.io/name: {{ include "makefx.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "makefx.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "makefx.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: makefx
app.kubernetes.io/component: {{ .Chart.Name }}
{{- end -}}

{{- define "makefx.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "makefx.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "makefx.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The NATS user this service connects as: its own, whose permissions deploy/nats/ declares. */}}
{{- define "makefx.natsUser" -}}
{{- .Values.nats.user | default .Chart.Name -}}
{{- end -}}
