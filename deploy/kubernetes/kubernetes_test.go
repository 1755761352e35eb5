// Package kubernetes holds ekmsync's kustomize base (base/) and its test. There is no
// cluster here: the test reads every resource the kustomization lists, decodes each
// strictly into the Kubernetes API types of k8s.io/api (an unknown or misspelt field
// fails), and checks what the worker needs: two replicas, liveness and readiness on
// separate paths of the admin listener, resources, secrets from a Secret, a grace
// period longer than the stop timeout, a PodDisruptionBudget, and the setup Job.
package kubernetes

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/ekmsync/ekmsync/internal/config"
)

const base = "base"

// manifests is the base, decoded.
type manifests struct {
	images     []kustomizeImage
	configMaps map[string]*corev1.ConfigMap
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	job        *batchv1.Job
}

type kustomizeImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
}

type kustomization struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Resources  []string         `json:"resources"`
	Images     []kustomizeImage `json:"images"`
}

// typed maps apiVersion/kind to the API type each document must decode into.
func typed(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "batch/v1 Job":
		return &batchv1.Job{}, nil
	}
	return nil, fmt.Errorf("%s %s: not a kind this base uses (or a wrong apiVersion for it)", apiVersion, kind)
}

func load(t *testing.T) manifests {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(base, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(b, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml is %s %s", k.APIVersion, k.Kind)
	}
	// Every manifest in the folder is listed, and every listed one exists.
	files, _ := filepath.Glob(filepath.Join(base, "*.yaml"))
	listed := map[string]bool{"kustomization.yaml": true}
	for _, r := range k.Resources {
		listed[r] = true
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not listed in kustomization.yaml", f)
		}
	}
	m := manifests{images: k.Images, configMaps: map[string]*corev1.ConfigMap{}}
	for _, r := range k.Resources {
		b, err := os.ReadFile(filepath.Join(base, r))
		if err != nil {
			t.Fatalf("kustomization.yaml lists %s: %v", r, err)
		}
		for i, doc := range bytes.Split(b, []byte("\n---")) {
			var meta struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s document %d: %v", r, i, err)
			}
			obj, err := typed(meta.APIVersion, meta.Kind)
			if err != nil {
				t.Fatalf("%s document %d: %v", r, i, err)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Fatalf("%s document %d does not match the %s API type: %v", r, i, meta.Kind, err)
			}
			switch o := obj.(type) {
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *appsv1.Deployment:
				m.deployment = o
			case *corev1.Service:
				m.service = o
			case *policyv1.PodDisruptionBudget:
				m.pdb = o
			case *batchv1.Job:
				m.job = o
			}
		}
	}
	if m.deployment == nil || m.service == nil || m.pdb == nil || m.job == nil || len(m.configMaps) == 0 {
		t.Fatalf("the base lacks a Deployment, Service, PodDisruptionBudget, Job or ConfigMap")
	}
	return m
}

// env returns the variables a container gets: its ConfigMaps' keys (envFrom) and its
// env entries, and which of them come from a Secret.
func env(t *testing.T, m manifests, c corev1.Container) (values map[string]string, fromSecret map[string]bool) {
	t.Helper()
	values, fromSecret = map[string]string{}, map[string]bool{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			t.Errorf("container %s: envFrom other than a ConfigMap", c.Name)
			continue
		}
		cm, ok := m.configMaps[ef.ConfigMapRef.Name]
		if !ok {
			t.Errorf("container %s reads ConfigMap %s, which the base does not have", c.Name, ef.ConfigMapRef.Name)
			continue
		}
		for k, v := range cm.Data {
			values[k] = v
		}
	}
	for _, e := range c.Env {
		values[e.Name] = e.Value
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			fromSecret[e.Name] = true
		}
	}
	return values, fromSecret
}

// The secrets never sit in a manifest: each comes from the Secret, and everything the
// containers get is a variable their binary reads.
func TestSecretsComeFromASecretAndVariablesAreKnown(t *testing.T) {
	m := load(t)
	secrets := map[string]bool{"EKMSYNC_DATABASE_URL": true, "EKMSYNC_SECRET_KEY": true, "EKMSYNC_PAYLOAD_KEY": true, "TEMPORAL_API_KEY": true}
	for _, cm := range m.configMaps {
		for k := range cm.Data {
			if secrets[k] {
				t.Errorf("ConfigMap %s holds %s, a secret", cm.Name, k)
			}
		}
	}
	workerVars := known(t, &config.Worker{})
	starterVars := known(t, &config.Starter{})
	w := m.deployment.Spec.Template.Spec.Containers[0]
	values, fromSecret := env(t, m, w)
	for k := range values {
		if !workerVars[k] {
			t.Errorf("the worker gets %s, which its config does not read", k)
		}
		if secrets[k] && !fromSecret[k] {
			t.Errorf("the worker gets %s as a plain value, not from the Secret", k)
		}
	}
	for _, want := range []string{"EKMSYNC_DATABASE_URL", "EKMSYNC_SECRET_KEY"} {
		if !fromSecret[want] {
			t.Errorf("the worker does not get %s from the Secret", want)
		}
	}
	for _, c := range append(m.job.Spec.Template.Spec.InitContainers, m.job.Spec.Template.Spec.Containers...) {
		_, fromSecret := env(t, m, c)
		for _, e := range c.Env {
			if !starterVars[e.Name] {
				t.Errorf("job container %s sets %s, which the starter does not read", c.Name, e.Name)
			}
			if secrets[e.Name] && !fromSecret[e.Name] {
				t.Errorf("job container %s gets %s as a plain value", c.Name, e.Name)
			}
		}
	}
}

func known(t *testing.T, cfg any) map[string]bool {
	names, err := config.VariableNames(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestWorkerDeployment(t *testing.T) {
	m := load(t)
	d := m.deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want the worker alone", len(pod.Containers))
	}
	w := pod.Containers[0]
	values, _ := env(t, m, w)

	// Liveness and readiness are separate endpoints, both on the admin listener's port.
	admin := port(t, "EKMSYNC_ADMIN_ADDR", values["EKMSYNC_ADMIN_ADDR"])
	public := port(t, "EKMSYNC_HTTP_ADDR", values["EKMSYNC_HTTP_ADDR"])
	if admin == public {
		t.Errorf("the admin listener and the public one share port %d", admin)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", w.LivenessProbe, "/livez"}, {"readiness", w.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path {
			t.Errorf("%s probe on %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
		}
		if got := containerPort(t, w, p.probe.HTTPGet.Port.String()); got != admin {
			t.Errorf("%s probe on port %d, the admin listener is on %d", p.name, got, admin)
		}
	}

	// Every container has requests and a memory limit.
	for _, c := range append(append([]corev1.Container{}, pod.Containers...), append(m.job.Spec.Template.Spec.InitContainers, m.job.Spec.Template.Spec.Containers...)...) {
		r := c.Resources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("container %s: requests %v, limits %v; want cpu and memory requests and a memory limit", c.Name, r.Requests, r.Limits)
		}
		if c.Image != m.deployment.Spec.Template.Spec.Containers[0].Image {
			t.Errorf("container %s runs image %s, the worker %s", c.Name, c.Image, w.Image)
		}
	}
	if len(m.images) != 1 || m.images[0].Name != w.Image || m.images[0].NewTag == "" {
		t.Errorf("kustomization images %v do not set the tag of %s", m.images, w.Image)
	}

	// The kubelet's SIGKILL comes after the stop timeout the worker gives activities.
	stop, err := time.ParseDuration(values["EKMSYNC_WORKER_STOP_TIMEOUT"])
	if err != nil {
		t.Fatalf("EKMSYNC_WORKER_STOP_TIMEOUT: %v", err)
	}
	var grace int64 = 30 // Kubernetes' default
	if g := pod.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if time.Duration(grace)*time.Second <= stop {
		t.Errorf("terminationGracePeriodSeconds %d is not longer than the stop timeout %s", grace, stop)
	}

	// The Service and the budget select the worker's pods; the budget leaves one up.
	labels := d.Spec.Template.Labels
	for k, v := range d.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("the Deployment's selector %s=%s does not match its pods", k, v)
		}
	}
	for k, v := range m.service.Spec.Selector {
		if labels[k] != v {
			t.Errorf("the Service's selector %s=%s does not match the worker's pods", k, v)
		}
	}
	for _, sp := range m.service.Spec.Ports {
		if got := containerPort(t, w, sp.TargetPort.String()); got != public {
			t.Errorf("the Service sends port %d to %d, not the public listener %d", sp.Port, got, public)
		}
	}
	if m.pdb.Spec.Selector == nil || m.pdb.Spec.MinAvailable == nil {
		t.Fatalf("the PodDisruptionBudget has no selector or minAvailable")
	}
	for k, v := range m.pdb.Spec.Selector.MatchLabels {
		if labels[k] != v {
			t.Errorf("the budget's selector %s=%s does not match the worker's pods", k, v)
		}
	}
	if min := m.pdb.Spec.MinAvailable.IntValue(); min < 1 || min >= int(*d.Spec.Replicas) {
		t.Errorf("minAvailable %d with %d replicas: a drain could stop both, or never proceed", min, *d.Spec.Replicas)
	}
}

// port is the port of a host:port setting.
func port(t *testing.T, name, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s = %q: %v", name, addr, err)
	}
	var n int32
	if _, err := fmt.Sscan(p, &n); err != nil {
		t.Fatalf("%s = %q: %v", name, addr, err)
	}
	return n
}

// containerPort resolves a probe's or Service's port (a number or a port name).
func containerPort(t *testing.T, c corev1.Container, ref string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == ref || fmt.Sprint(p.ContainerPort) == ref {
			return p.ContainerPort
		}
	}
	t.Errorf("container %s has no port %q", c.Name, ref)
	return -1
}

// The Job migrates the database, then registers the search attributes.
func TestSetupJob(t *testing.T) {
	m := load(t)
	pod := m.job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyOnFailure && pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q: a Job needs OnFailure or Never", pod.RestartPolicy)
	}
	var steps []string
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		if len(c.Command) == 0 || filepath.Base(c.Command[0]) != "starter" {
			t.Errorf("job container %s runs %v, not the starter", c.Name, c.Command)
		}
		steps = append(steps, strings.Join(c.Args, " "))
	}
	if strings.Join(steps, ", ") != "migrate, setup" {
		t.Errorf("the Job runs %v, want migrate, then setup", steps)
	}
}
