{{/* Names, capped at 63 characters (DNS label limit). */}}
{{- define "tagpin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tagpin.fullname" -}}
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

{{- define "tagpin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tagpin.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tagpin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tagpin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tagpin.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tagpin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* repository:tag, plus @digest when one is given. Never latest. */}}
{{- define "tagpin.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must not be latest: tagpin would refuse its own image" }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "tagpin.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- required "tls.existingSecret is required when tls.mode is secret" .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "tagpin.fullname" .) }}
{{- end }}
{{- end }}

{{/* Namespaces never sent to tagpin: kube-system, the release namespace, extras. */}}
{{- define "tagpin.excludedNamespaces" -}}
{{- $ns := list "kube-system" .Release.Namespace }}
{{- range .Values.webhook.excludeNamespaces }}{{ $ns = append $ns . }}{{ end }}
{{- toJson (uniq $ns) }}
{{- end }}

{{/* The namespaceSelector shared by both webhooks. */}}
{{- define "tagpin.namespaceSelector" -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ include "tagpin.excludedNamespaces" . }}
  - key: {{ .Values.webhook.ignoreLabel }}
    operator: NotIn
    values: ["true"]
{{- with .Values.webhook.namespaceSelectorExpressions }}
{{ toYaml . | indent 2 }}
{{- end }}
{{- end }}

{{/* Admission rules. Argument: dict "pods" bool (true: Pods only), "old" bool
     (API server before 1.21, where CronJob is only served as batch/v1beta1). */}}
{{- define "tagpin.rules" -}}
- apiGroups: [""]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
{{- if .pods }}
  resources: ["pods", "pods/ephemeralcontainers"]
{{- else }}
  resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates"]
{{- end }}
  scope: Namespaced
{{- if not .pods }}
- apiGroups: ["apps"]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  scope: Namespaced
- apiGroups: ["batch"]
  apiVersions: {{ if .old }}["v1", "v1beta1"]{{ else }}["v1"]{{ end }}
  operations: ["CREATE", "UPDATE"]
  resources: ["jobs", "cronjobs"]
  scope: Namespaced
{{- end }}
{{- end }}

{{/* clientConfig for one path; argument: dict "ctx" $ "path" "/mutate" "ca" base64. */}}
{{- define "tagpin.clientConfig" -}}
{{- $v := .ctx.Values }}
{{- if $v.webhook.url }}
url: {{ printf "%s%s" (trimSuffix "/" $v.webhook.url) .path | quote }}
{{- else }}
service:
  name: {{ include "tagpin.fullname" .ctx }}
  namespace: {{ .ctx.Release.Namespace }}
  path: {{ .path }}
  port: {{ $v.service.port }}
{{- end }}
{{- if .ca }}
caBundle: {{ .ca }}
{{- end }}
{{- end }}
