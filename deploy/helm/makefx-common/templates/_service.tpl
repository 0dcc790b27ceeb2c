{{/* The ClusterIP Service in front of the pods' HTTP port (API, health, metrics). */}}
{{- define "makefx.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
  {{- with .Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "makefx.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* The headless Service a StatefulSet names its pods under (`<pod>.<fullname>-headless`). */}}
{{- define "makefx.headlessService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "makefx.fullname" . }}-headless
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    {{- include "makefx.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* An Ingress to the Service, for the services browsers reach (gateway; media's signed URLs). */}}
{{- define "makefx.ingress" -}}
{{- if .Values.ingress.enabled -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "makefx.fullname" . }}
  labels:
    {{- include "makefx.labels" . | nindent 4 }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .Values.ingress.className }}
  ingressClassName: {{ . }}
  {{- end }}
  {{- if .Values.ingress.tlsSecretName }}
  tls:
    - hosts: [{{ required "ingress.host is required" .Values.ingress.host | quote }}]
      secretName: {{ .Values.ingress.tlsSecretName }}
  {{- end }}
  rules:
    - host: {{ required "ingress.host is required" .Values.ingress.host | quote }}
      http:
        paths:
          - path: {{ .Values.ingress.path }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "makefx.fullname" . }}
                port:
                  name: http
{{- end -}}
{{- end -}}
