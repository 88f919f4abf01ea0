{{/* The release's full name: "meshdoctor" when the release is called that, else release-meshdoctor. */}}
{{- define "meshdoctor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "meshdoctor.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "meshdoctor.labels" -}}
{{ include "meshdoctor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "meshdoctor.serviceAccountName" -}}
{{- default (include "meshdoctor.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret holding tls.crt and tls.key, mounted at /tls. */}}
{{- define "meshdoctor.tlsSecretName" -}}
{{- printf "%s-tls" (include "meshdoctor.fullname" .) -}}
{{- end -}}

{{/* The DNS name the API server calls the webhook by. */}}
{{- define "meshdoctor.serviceDNS" -}}
{{- printf "%s.%s.svc" (include "meshdoctor.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "meshdoctor.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}
