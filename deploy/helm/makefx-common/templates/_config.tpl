{{/* The ConfigMap of MAKEFX_* settings that are not secret, read by the pods with envFrom. */}}
{{- define "makefx.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
data:
  MAKEFX_NATS_URL: {{ required "nats.url is required" .Values.nats.url | quote }}
  MAKEFX_NATS_USER: {{ include "makefx.natsUser" . | quote }}
  MAKEFX_HTTP_HOST: "0.0.0.0"
  MAKEFX_HTTP_PORT: {{ .Values.service.port | quote }}
  MAKEFX_DATA_DIR: "/data"
  {{- range $key, $value := .Values.config }}
  {{ $key }}: {{ $value | toString | quote }}
  {{- end }}
{{- end -}}

{{/* Environment that is not in the ConfigMap: the NATS password, secrets, the pod's own name, extras. */}}
{{- define "makefx.env" -}}
- name: MAKEFX_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "nats.passwordSecret.name is required" .Values.nats.passwordSecret.name }}
      key: {{ .Values.nats.passwordSecret.key | default (include "makefx.natsUser" .) }}
{{- if .Values.replicaIdFromPodName }}
# The StatefulSet pod name is the replica's stable id (ARCHITECTURE §4).
- name: MAKEFX_REPLICA_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- range .Values.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
      optional: {{ .optional | default false }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
