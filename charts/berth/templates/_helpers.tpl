{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, or <release>-berth. */}}
{{- define "berth.fullname" -}}
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

{{- define "berth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: scheduler
{{- end }}

{{- define "berth.labels" -}}
helm.sh/chart: {{ include "berth.chart" . }}
{{ include "berth.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "berth.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease berth holds: config override's resourceName, else leaderElection.leaseName, else the fullname. */}}
{{- define "berth.leaseName" -}}
{{- $le := (.Values.config.leaderElection | default dict) }}
{{- $le.resourceName | default .Values.leaderElection.leaseName | default (include "berth.fullname" .) }}
{{- end }}

{{/* Whether berth campaigns for the Lease. */}}
{{- define "berth.leaderElect" -}}
{{- $le := (.Values.config.leaderElection | default dict) }}
{{- if hasKey $le "leaderElect" }}{{ $le.leaderElect }}{{ else }}{{ .Values.leaderElection.enabled }}{{ end }}
{{- end }}

{{/* The KubeSchedulerConfiguration as a dict: the `config` override, or one built from schedulerName and scoring. */}}
{{- define "berth.configDict" -}}
{{- $leaseName := include "berth.leaseName" . }}
{{- if .Values.config }}
{{- $cfg := deepCopy .Values.config }}
{{- $le := (get $cfg "leaderElection") | default dict }}
{{- if and (hasKey $le "resourceNamespace") (ne $le.resourceNamespace .Release.Namespace) }}
{{- fail (printf "config.leaderElection.resourceNamespace %q must be the release namespace %q: berth's Role grants its Lease there" $le.resourceNamespace .Release.Namespace) }}
{{- end }}
{{- $_ := set $le "resourceLock" "leases" }}
{{- $_ := set $le "resourceName" $leaseName }}
{{- $_ := set $le "resourceNamespace" .Release.Namespace }}
{{- $_ := set $cfg "leaderElection" $le }}
{{- toYaml $cfg }}
{{- else }}
{{- $s := .Values.scoring }}
{{- $strategy := dict "type" $s.strategy "resources" $s.resources }}
{{- if eq $s.strategy "RequestedToCapacityRatio" }}
{{- $_ := set $strategy "requestedToCapacityRatio" (dict "shape" $s.shape) }}
{{- end }}
{{- $disabled := list }}
{{- $enabled := list }}
{{- range $name := $s.disabled }}
{{- $disabled = append $disabled (dict "name" $name) }}
{{- end }}
{{- range $name, $weight := $s.weights }}
{{- if has $name $s.disabled }}
{{- fail (printf "scoring.weights.%s: the plugin is also listed in scoring.disabled; drop one of them" $name) }}
{{- end }}
{{- $disabled = append $disabled (dict "name" $name) }}
{{- $enabled = append $enabled (dict "name" $name "weight" $weight) }}
{{- end }}
{{- $score := dict }}
{{- if $disabled }}{{ $_ := set $score "disabled" $disabled }}{{ end }}
{{- if $enabled }}{{ $_ := set $score "enabled" $enabled }}{{ end }}
{{- $profile := dict "schedulerName" .Values.schedulerName "pluginConfig" (list (dict "name" "NodeResourcesFit" "args" (dict "scoringStrategy" $strategy))) }}
{{- if $score }}{{ $_ := set $profile "plugins" (dict "score" $score) }}{{ end }}
{{- $le := dict "leaderElect" .Values.leaderElection.enabled "resourceLock" "leases" "resourceName" $leaseName "resourceNamespace" .Release.Namespace "leaseDuration" .Values.leaderElection.leaseDuration "renewDeadline" .Values.leaderElection.renewDeadline "retryPeriod" .Values.leaderElection.retryPeriod }}
{{- $cfg := dict "apiVersion" "kubescheduler.config.k8s.io/v1" "kind" "KubeSchedulerConfiguration" "leaderElection" $le "profiles" (list $profile) }}
{{- toYaml $cfg }}
{{- end }}
{{- end }}

{{/* The configuration less what berth reloads live (profiles, percentageOfNodesToScore): what needs a restart. */}}
{{- define "berth.restartConfig" -}}
{{- $cfg := include "berth.configDict" . | fromYaml }}
{{- $_ := unset $cfg "profiles" }}
{{- $_ := unset $cfg "percentageOfNodesToScore" }}
{{- toYaml $cfg }}
{{- end }}

{{/* The scheduler names pods use to opt in (for NOTES). */}}
{{- define "berth.schedulerNames" -}}
{{- if .Values.config }}
{{- $names := list }}
{{- range (.Values.config.profiles | default list) }}{{ $names = append $names (.schedulerName | default "default-scheduler") }}{{ end }}
{{- join ", " $names }}
{{- else }}
{{- .Values.schedulerName }}
{{- end }}
{{- end }}

{{/* PromQL label matchers that select berth's own series: alerts.selector, else the chart's metrics Service's job. */}}
{{- define "berth.alertSelector" -}}
{{- .Values.alerts.selector | default (printf "job=%q" (printf "%s-metrics" (include "berth.fullname" .))) }}
{{- end }}

{{/* HTTPS on the secure port (the default, as kube-scheduler), HTTP in the development mode. */}}
{{- define "berth.scheme" -}}
{{- if .Values.serving.secure }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}
