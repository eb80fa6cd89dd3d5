package deploytest_test

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestKubernetesReplicasOverlay(t *testing.T) {
	b, data := renderChecked(t, "overlays/replicas")
	if data.EmptyDir == nil {
		t.Errorf("replicas overlay: the writer's data volume %q is not an emptyDir", data.Name)
	}
	if len(b.replicas) != 1 {
		t.Fatalf("replicas overlay: %d read replica Deployments, want 1", len(b.replicas))
	}
	r := b.replicas[0]
	if n := r.Spec.Replicas; n == nil || *n < 2 {
		t.Errorf("replicas overlay: %s runs %s pods; want at least 2, so that one serves while another restarts", r.Name, podCount(r))
	}
	// The follower's copy is restored from the bucket at every start.
	if v := volumeAt(t, r.Spec.Template.Spec, b.dataDir); v.EmptyDir == nil {
		t.Errorf("replicas overlay: %s keeps its copy on %q, not an emptyDir", r.Name, v.Name)
	}
	if len(b.claims) != 0 {
		t.Errorf("replicas overlay: %d PersistentVolumeClaims; a replica's copy is restored from the bucket", len(b.claims))
	}
	for _, s := range b.services {
		if s.Name == publicService && selects(s.Spec.Selector, b.writer.Spec.Template.Labels) {
			t.Errorf("the public Service %s selects the writer's pods; with replicas, reads go to them and uploads reach the writer through them", s.Name)
		}
	}
}

// checkReplica holds what every read replica Deployment must keep: it runs
// the writer's image on the same bucket, never writes to it, reaches the
// writer through a Service, and is replaced and evicted without a gap.
func checkReplica(t *testing.T, b built, r *appsv1.Deployment) {
	t.Helper()
	c := r.Spec.Template.Spec.Containers[0]
	w := b.writer.Spec.Template.Spec.Containers[0]

	// The image chooses the follower by PRIMARY_URL; a command of the
	// manifest's own could start `litestream replicate` on the bucket.
	if len(c.Command) != 0 || slices.ContainsFunc(c.Args, func(a string) bool {
		return strings.Contains(a, "litestream") || strings.Contains(a, "replicate")
	}) {
		t.Errorf("replica %s: command %q args %q; want the image's own entrypoint, which follows the bucket when %s is set", r.Name, c.Command, c.Args, primaryVar)
	}
	if c.Image != w.Image {
		t.Errorf("replica %s: image %q, the writer runs %q; a replica must read the schema the writer writes", r.Name, c.Image, w.Image)
	}
	checkSameBucket(t, r.Name, c, w)
	if !equalQuantities(c.Resources.Requests, w.Resources.Requests) || !equalQuantities(c.Resources.Limits, w.Resources.Limits) {
		t.Errorf("replica %s: resources %v; want the writer's %v (a replica holds uploads while it retries them)", r.Name, c.Resources, w.Resources)
	}

	checkPrimaryURL(t, b, r)

	st := r.Spec.Strategy
	if st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil ||
		st.RollingUpdate.MaxUnavailable == nil || st.RollingUpdate.MaxUnavailable.String() != "0" {
		t.Errorf("replica %s: strategy %+v; want RollingUpdate with maxUnavailable 0, so that an update stops a replica only once its successor is ready", r.Name, st)
	}
	checkBudget(t, b, r)
	checkWriterReachable(t, b, r)
}

// checkSameBucket: the replica reads the bucket settings from where the
// writer does, so that it follows the path the writer streams to.
func checkSameBucket(t *testing.T, name string, c, w corev1.Container) {
	t.Helper()
	from := func(c corev1.Container) map[string]string {
		out := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				out[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			}
		}
		return out
	}
	got, want := from(c), from(w)
	for n, src := range want {
		if got[n] != src {
			t.Errorf("replica %s: %s from %q, the writer's from %q", name, n, got[n], src)
		}
	}
}

func equalQuantities(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		if o, ok := b[k]; !ok || q.Cmp(o) != 0 {
			return false
		}
	}
	return true
}

// checkPrimaryURL: PRIMARY_URL names a Service of the build, on one of its
// ports, that selects the writer's pods and no others.
func checkPrimaryURL(t *testing.T, b built, r *appsv1.Deployment) {
	t.Helper()
	raw := primaryURL(r)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		t.Errorf("replica %s: %s=%q; want http://SERVICE:PORT", r.Name, primaryVar, raw)
		return
	}
	// SERVICE, SERVICE.NAMESPACE or SERVICE.NAMESPACE.svc.cluster.local.
	svcName, _, _ := strings.Cut(u.Hostname(), ".")
	port := u.Port()
	if port == "" {
		port = "80"
	}
	for _, s := range b.services {
		if s.Name != svcName {
			continue
		}
		pods := selected(s.Spec.Selector, b.deployments)
		if len(pods) != 1 || pods[0] != b.writer {
			t.Errorf("replica %s: %s names Service %s, which selects %v; want the writer %s alone", r.Name, primaryVar, s.Name, names(pods), b.writer.Name)
		}
		if !slices.ContainsFunc(s.Spec.Ports, func(p corev1.ServicePort) bool { return strconv.Itoa(int(p.Port)) == port }) {
			t.Errorf("replica %s: %s uses port %s; Service %s has %v", r.Name, primaryVar, port, s.Name, s.Spec.Ports)
		}
		return
	}
	if net.ParseIP(u.Hostname()) == nil {
		t.Errorf("replica %s: %s names %q, which is no Service of this build", r.Name, primaryVar, u.Hostname())
	}
}

func names(ds []*appsv1.Deployment) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// checkBudget: a PodDisruptionBudget covers the replicas and lets a drain
// evict some of them, never all at once; none covers the lone writer,
// where it would block every drain.
func checkBudget(t *testing.T, b built, r *appsv1.Deployment) {
	t.Helper()
	n := 1
	if r.Spec.Replicas != nil {
		n = int(*r.Spec.Replicas)
	}
	var covered bool
	for _, pdb := range b.budgets {
		if pdb.Spec.Selector == nil {
			t.Errorf("PodDisruptionBudget %s selects nothing", pdb.Name)
			continue
		}
		sel := pdb.Spec.Selector.MatchLabels
		if selects(sel, b.writer.Spec.Template.Labels) {
			t.Errorf("PodDisruptionBudget %s covers the writer %s, one pod: it would block every node drain", pdb.Name, b.writer.Name)
		}
		if !selects(sel, r.Spec.Template.Labels) {
			continue
		}
		covered = true
		allowed := -1
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			allowed, _ = intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, n, false)
		case pdb.Spec.MinAvailable != nil:
			keep, _ := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, n, true)
			allowed = n - keep
		}
		if allowed < 1 || allowed >= n {
			t.Errorf("PodDisruptionBudget %s lets %d of %s's %d pods go at once; want at least 1 and fewer than all", pdb.Name, allowed, r.Name, n)
		}
	}
	if !covered {
		t.Errorf("replica %s: no PodDisruptionBudget covers its pods", r.Name)
	}
}

// checkWriterReachable: a NetworkPolicy that isolates the writer must still
// let the replicas reach its http port, or every upload through them fails.
func checkWriterReachable(t *testing.T, b built, r *appsv1.Deployment) {
	t.Helper()
	w := b.writer.Spec.Template
	port := w.Spec.Containers[0].Ports
	for _, np := range b.policies {
		if !selects(np.Spec.PodSelector.MatchLabels, w.Labels) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			continue
		}
		admits := slices.ContainsFunc(np.Spec.Ingress, func(rule networkingv1.NetworkPolicyIngressRule) bool {
			from := len(rule.From) == 0 || slices.ContainsFunc(rule.From, func(p networkingv1.NetworkPolicyPeer) bool {
				return p.IPBlock == nil && p.NamespaceSelector == nil && p.PodSelector != nil && selectsOrAll(p.PodSelector.MatchLabels, r.Spec.Template.Labels)
			})
			on := len(rule.Ports) == 0 || slices.ContainsFunc(rule.Ports, func(p networkingv1.NetworkPolicyPort) bool {
				return p.Port == nil || p.Port.String() == "http" || slices.ContainsFunc(port, func(cp corev1.ContainerPort) bool {
					return cp.Name == "http" && p.Port.String() == strconv.Itoa(int(cp.ContainerPort))
				})
			})
			return from && on
		})
		if !admits {
			t.Errorf("NetworkPolicy %s isolates the writer %s but does not admit %s's pods on its http port", np.Name, b.writer.Name, r.Name)
		}
	}
}

// selectsOrAll is selects, where an empty selector matches every pod.
func selectsOrAll(selector, labels map[string]string) bool {
	return len(selector) == 0 || selects(selector, labels)
}
