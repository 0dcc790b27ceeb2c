{{/* The Deployment of a stateless service (replicas left to the autoscaler when it is on). */}}
{{- define "makefx.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
spec:
  {{- if not (.Values.autoscaling | default dict).enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  {{- if .Values.persistence.enabled }}
  # One volume, one writer: the old pod stops before the new one mounts it.
  strategy:
    type: Recreate
  {{- else }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  {{- end }}
  selector:
    matchLabels:
      {{- include "makefx.selectorLabels" . | nindent 6 }}
  template:
    {{- include "makefx.podTemplate" . | nindent 4 }}
{{- end -}}

{{/* A StatefulSet: stable pod names (`<fullname>-0`, `-1`, …) and one volume per pod. */}}
{{- define "makefx.statefulset" -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  serviceName: {{ include "makefx.fullname" . }}-headless
  # Replicas are peers (no ordering between them), so start and stop them together.
  podManagementPolicy: Parallel
  revisionHistoryLimit: 5
  updateStrategy:
    type: RollingUpdate
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: Retain
    whenScaled: Retain
  selector:
    matchLabels:
      {{- include "makefx.selectorLabels" . | nindent 6 }}
  template:
    {{- include "makefx.podTemplate" . | nindent 4 }}
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
          {{- include "makefx.selectorLabels" . | nindent 10 }}
      spec:
        accessModes: [ReadWriteOnce]
        {{- with .Values.persistence.storageClassName }}
        storageClassName: {{ . }}
        {{- end }}
        resources:
          requests:
            storage: {{ .Values.persistence.size }}
{{- end -}}

{{/* The claim of a Deployment with persistence (a single replica writing one volume). */}}
{{- define "makefx.persistentVolumeClaim" -}}
{{- if and .Values.persistence.enabled (eq .Values.workload "Deployment") -}}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
spec:
  accessModes: [ReadWriteOnce]
  {{- with .Values.persistence.storageClassName }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ .Values.persistence.size }}
{{- end -}}
{{- end -}}

{{- define "makefx.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "makefx.serviceAccountName" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}
