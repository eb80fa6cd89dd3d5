package deploytest_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const k8sDir = "deploy/kubernetes"

// objects are the decoded manifests of one kustomize build.
type objects struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  []*corev1.ConfigMap
	secrets     []*corev1.Secret
	claims      []*corev1.PersistentVolumeClaim
	budgets     []*policyv1.PodDisruptionBudget
	policies    []*networkingv1.NetworkPolicy
}

// render builds a kustomization as `kubectl apply -k` would and decodes every
// resource strictly into its k8s.io/api type.
func render(t *testing.T, rel string) objects {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", rel, err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", rel, err)
	}
	var objs objects
	for i, doc := range splitYAML(out) {
		decodeInto(t, fmt.Sprintf("%s (document %d)", rel, i), doc, &objs)
	}
	return objs
}

// decodeInto decodes one manifest by its kind, rejecting unknown and
// duplicate fields the way the API server's strict field validation does.
func decodeInto(t *testing.T, where string, doc []byte, objs *objects) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	var err error
	switch gvk := tm.APIVersion + "/" + tm.Kind; gvk {
	case "apps/v1/Deployment":
		err = appendStrict(doc, &objs.deployments)
	case "v1/Service":
		err = appendStrict(doc, &objs.services)
	case "v1/ConfigMap":
		err = appendStrict(doc, &objs.configMaps)
	case "v1/Secret":
		err = appendStrict(doc, &objs.secrets)
	case "v1/PersistentVolumeClaim":
		err = appendStrict(doc, &objs.claims)
	case "policy/v1/PodDisruptionBudget":
		err = appendStrict(doc, &objs.budgets)
	case "networking.k8s.io/v1/NetworkPolicy":
		err = appendStrict(doc, &objs.policies)
	default:
		t.Fatalf("%s: unexpected kind %s", where, gvk)
	}
	if err != nil {
		t.Fatalf("%s: %s: %v", where, tm.Kind, err)
	}
}

// appendStrict decodes doc as a T, refusing unknown and duplicate fields,
// and appends it to list.
func appendStrict[T any](doc []byte, list *[]*T) error {
	o := new(T)
	if err := yaml.UnmarshalStrict(doc, o); err != nil {
		return err
	}
	*list = append(*list, o)
	return nil
}

func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// TestKubernetesSources decodes every manifest file as written, patches
// included, so a misspelt field fails even where kustomize would drop it.
func TestKubernetesSources(t *testing.T) {
	root := filepath.Join(repoRoot(t), k8sDir)
	var files int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || d.Name() == "kustomization.yaml" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var objs objects
		for i, doc := range splitYAML(b) {
			decodeInto(t, fmt.Sprintf("%s (document %d)", p, i), doc, &objs)
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("decoded %d manifest files under %s; want the base, the overlay and the example Secret", files, k8sDir)
	}
}

// renderChecked renders the kustomization in dir (under k8sDir), checks
// every Deployment against the image and the build's invariants, and
// returns the build and the writer's volume at the image's data directory.
func renderChecked(t *testing.T, dir string) (built, corev1.Volume) {
	t.Helper()
	img := loadImage(t)
	b := checkBuild(t, img, render(t, k8sDir+"/"+dir))
	return b, volumeAt(t, b.writer.Spec.Template.Spec, b.dataDir)
}

func TestKubernetesBase(t *testing.T) {
	b, data := renderChecked(t, "base")
	if len(b.replicas) != 0 {
		t.Errorf("base: has %d read replica Deployments; the base is the writer alone", len(b.replicas))
	}
	if data.EmptyDir == nil {
		t.Errorf("base: the data volume %q is not an emptyDir", data.Name)
	}
	if len(b.claims) != 0 {
		t.Errorf("base: has %d PersistentVolumeClaims; the base keeps its data on an emptyDir", len(b.claims))
	}
}

func TestKubernetesPVCOverlay(t *testing.T) {
	b, data := renderChecked(t, "overlays/pvc")
	if data.PersistentVolumeClaim == nil {
		t.Fatalf("pvc overlay: the data volume %q is not a PersistentVolumeClaim", data.Name)
	}
	if len(b.claims) != 1 || b.claims[0].Name != data.PersistentVolumeClaim.ClaimName {
		t.Errorf("pvc overlay: the pod claims %q; the overlay defines %v", data.PersistentVolumeClaim.ClaimName, claimNames(b.objects))
	}
	for _, c := range b.claims {
		if len(c.Spec.AccessModes) != 1 || c.Spec.AccessModes[0] != corev1.ReadWriteOnce {
			t.Errorf("pvc overlay: claim %s has access modes %v; want ReadWriteOnce (one writer)", c.Name, c.Spec.AccessModes)
		}
	}
}

func claimNames(objs objects) []string {
	var out []string
	for _, c := range objs.claims {
		out = append(out, c.Name)
	}
	return out
}

// publicService is the Service an Ingress points at, named in the base.
const publicService = "litepaste"

// primaryVar makes a container a read replica of the writer at that URL.
const primaryVar = "PRIMARY_URL"

// built is one kustomize build's Deployments by role: the writer streams
// to the bucket, the read replicas follow it and name the writer in
// PRIMARY_URL.
type built struct {
	objects
	writer   *appsv1.Deployment
	replicas []*appsv1.Deployment
	dataDir  string // the image's data directory
}

// checkBuild holds the invariants every build (the base and each overlay)
// must keep: every Deployment's pod, one writer per bucket path, Services
// that reach ready pods.
func checkBuild(t *testing.T, img image, objs objects) built {
	t.Helper()
	b := built{objects: objs, dataDir: img.dataDir}
	var writers []string
	for _, d := range objs.deployments {
		checkPod(t, img, d, objs)
		if primaryURL(d) != "" {
			b.replicas = append(b.replicas, d)
			continue
		}
		writers = append(writers, d.Name)
		b.writer = d
		// The Deployments share the Secret's bucket path: any of them that
		// is not a replica writes to it, and only one may.
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
			t.Errorf("Deployment %s (no %s): %s pods, want exactly 1 (one writer per bucket path)", d.Name, primaryVar, podCount(d))
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("Deployment %s (no %s): strategy %q, want Recreate (a rolling update runs two writers at once)", d.Name, primaryVar, d.Spec.Strategy.Type)
		}
	}
	if len(writers) != 1 {
		t.Fatalf("got writer Deployments %v (no %s); want exactly one", writers, primaryVar)
	}
	checkDisjointSelectors(t, objs.deployments)
	checkServices(t, objs)
	for _, r := range b.replicas {
		checkReplica(t, b, r)
	}
	return b
}

func podCount(d *appsv1.Deployment) string {
	if d.Spec.Replicas == nil {
		return "unset (1)"
	}
	return fmt.Sprint(*d.Spec.Replicas)
}

func primaryURL(d *appsv1.Deployment) string {
	for _, c := range d.Spec.Template.Spec.Containers {
		if v := envValues(c)[primaryVar]; v != "" {
			return v
		}
	}
	return ""
}

// checkPod holds what every Deployment's pod must keep, writer or replica.
func checkPod(t *testing.T, img image, d *appsv1.Deployment, objs objects) {
	t.Helper()
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 || len(d.Spec.Selector.MatchExpressions) != 0 {
		t.Fatalf("Deployment %s: want a selector of matchLabels only", d.Name)
	}
	if !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("Deployment %s: selector %v does not match its pod labels %v", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
	}
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment %s: got %d containers, want 1", d.Name, len(pod.Containers))
	}
	c := pod.Containers[0]

	need := img.stopNeeds + 5*time.Second
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < need {
		t.Errorf("Deployment %s: terminationGracePeriodSeconds %v, want at least %v (a clean stop can take %v)", d.Name, g, need, img.stopNeeds)
	}

	checkSecurity(t, img, pod, c)
	if got := containerPort(t, c, intstr.FromString("http")); got != int32(img.port) {
		t.Errorf("Deployment %s: container port http %d, want the image's port %d", d.Name, got, img.port)
	}
	if v, ok := envValues(c)["PORT"]; ok && v != fmt.Sprint(img.port) {
		t.Errorf("Deployment %s: env PORT=%s, but the container port is %d", d.Name, v, img.port)
	}
	checkProbes(t, img, c)
	checkVolumes(t, pod)
	checkEnv(t, img, "Deployment "+d.Name, c, objs)
}

// selects reports whether a label selector matches a set of labels.
func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}

// checkDisjointSelectors: no Deployment's selector takes in another's pods.
func checkDisjointSelectors(t *testing.T, ds []*appsv1.Deployment) {
	t.Helper()
	for _, a := range ds {
		for _, b := range ds {
			if a != b && selects(a.Spec.Selector.MatchLabels, b.Spec.Template.Labels) {
				t.Errorf("Deployment %s's selector %v also matches the pods of %s", a.Name, a.Spec.Selector.MatchLabels, b.Name)
			}
		}
	}
}

// selected are the Deployments whose pods a selector matches.
func selected(selector map[string]string, ds []*appsv1.Deployment) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range ds {
		if selects(selector, d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	return out
}

// checkServices: every Service reaches some pods, on their http port; the
// public one only pods that say when they are ready to serve.
func checkServices(t *testing.T, objs objects) {
	t.Helper()
	var public bool
	for _, s := range objs.services {
		pods := selected(s.Spec.Selector, objs.deployments)
		if len(pods) == 0 {
			t.Errorf("Service %s: selector %v matches no Deployment's pods", s.Name, s.Spec.Selector)
		}
		for _, d := range pods {
			c := d.Spec.Template.Spec.Containers[0]
			for _, p := range s.Spec.Ports {
				if got, want := containerPort(t, c, p.TargetPort), containerPort(t, c, intstr.FromString("http")); got != want {
					t.Errorf("Service %s port %d targets %d on %s, want its http port %d", s.Name, p.Port, got, d.Name, want)
				}
			}
		}
		if s.Name != publicService {
			continue
		}
		public = true
		for _, d := range pods {
			c := d.Spec.Template.Spec.Containers[0]
			if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != readyPath {
				t.Errorf("the public Service %s selects the pods of %s, which have no readiness probe on %s: "+
					"it would send requests to a pod still restoring", s.Name, d.Name, readyPath)
			}
		}
	}
	if !public {
		t.Errorf("no public Service %q", publicService)
	}
}

func checkSecurity(t *testing.T, img image, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod securityContext: runAsNonRoot is not true")
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser != img.uid {
		t.Errorf("pod securityContext: runAsUser is not the image's user %s (uid %d)", img.user, img.uid)
	}
	if psc == nil || psc.FSGroup == nil || *psc.FSGroup != img.uid {
		t.Errorf("pod securityContext: fsGroup is not %d, so the data volume may not be writable", img.uid)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container securityContext is missing")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container securityContext: allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("container securityContext: capabilities %+v; want drop ALL, add none", sc.Capabilities)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container securityContext: readOnlyRootFilesystem is not true")
	}
	// s6-overlay on a read-only root: it must be told, and /run and /tmp must be writable.
	env := envValues(c)
	for _, kv := range [][2]string{{"S6_READ_ONLY_ROOT", "1"}, {"S6_YES_I_WANT_A_WORLD_WRITABLE_RUN_BECAUSE_KUBERNETES", "1"}} {
		if env[kv[0]] != kv[1] {
			t.Errorf("env %s: got %q, want %q (read-only root, emptyDir /run)", kv[0], env[kv[0]], kv[1])
		}
	}
	for _, dir := range []string{"/run", "/tmp"} {
		if v := volumeAt(t, pod, dir); v.EmptyDir == nil {
			t.Errorf("%s is on volume %q, not an emptyDir", dir, v.Name)
		}
	}
}

func envValues(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		out[e.Name] = e.Value
	}
	return out
}

// containerPort resolves a named or numbered port against the container's ports.
func containerPort(t *testing.T, c corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Errorf("port %q is not declared by the container", p.StrVal)
	return 0
}

func checkProbes(t *testing.T, img image, c corev1.Container) {
	t.Helper()
	probes := []struct {
		name  string
		probe *corev1.Probe
		want  string
	}{
		{"startupProbe", c.StartupProbe, healthPath},
		{"livenessProbe", c.LivenessProbe, healthPath},
		{"readinessProbe", c.ReadinessProbe, readyPath},
	}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: missing or not an HTTP GET", p.name)
			continue
		}
		get := p.probe.HTTPGet
		if get.Path != p.want || !img.routes[get.Path] {
			t.Errorf("%s: path %q; want %q, which the server serves (it serves %v)", p.name, get.Path, p.want, img.routes.sorted())
		}
		if got := containerPort(t, c, get.Port); got != int32(img.port) {
			t.Errorf("%s: port %d, want %d", p.name, got, img.port)
		}
	}
	if img.checkPath != "" && img.checkPath != healthPath && img.checkPath != readyPath {
		t.Errorf("the image's HEALTHCHECK asks for %s; the probes use %s and %s", img.checkPath, healthPath, readyPath)
	}
}

func checkVolumes(t *testing.T, pod corev1.PodSpec) {
	t.Helper()
	defined := map[string]bool{}
	for _, v := range pod.Volumes {
		defined[v.Name] = true
		if n := volumeSources(v); n != 1 {
			t.Errorf("volume %q has %d sources, want exactly 1", v.Name, n)
		}
	}
	for _, c := range pod.Containers {
		for _, m := range c.VolumeMounts {
			if !defined[m.Name] {
				t.Errorf("mount %s uses volume %q, which the pod does not define", m.MountPath, m.Name)
			}
		}
	}
}

// volumeSources counts the source fields set on a volume (the API accepts one).
func volumeSources(v corev1.Volume) int {
	b, err := yaml.Marshal(v.VolumeSource)
	if err != nil {
		return -1
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return -1
	}
	return len(m)
}

// volumeAt is the pod volume mounted at dir (or at a parent of it).
func volumeAt(t *testing.T, pod corev1.PodSpec, dir string) corev1.Volume {
	t.Helper()
	best := ""
	var name string
	for _, m := range pod.Containers[0].VolumeMounts {
		mp := path.Clean(m.MountPath)
		if (dir == mp || strings.HasPrefix(dir, mp+"/")) && len(mp) > len(best) {
			best, name = mp, m.Name
		}
	}
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume is mounted at %s", dir)
	return corev1.Volume{}
}

func checkEnv(t *testing.T, img image, where string, c corev1.Container, objs objects) {
	t.Helper()
	provided := set{}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
		provided.add(e.Name)
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			t.Errorf("envFrom %+v: only ConfigMaps are expected there", from)
			continue
		}
		cm := configMap(objs, from.ConfigMapRef.Name)
		if cm == nil {
			t.Errorf("envFrom refers to ConfigMap %q, which the build does not produce", from.ConfigMapRef.Name)
			continue
		}
		for k := range cm.Data {
			names = append(names, k)
			provided.add(k)
		}
	}
	checkEnvNames(t, img, where, names)
	checkReplicationProvided(t, img, where, provided)
	if provided["DB_PATH"] {
		t.Errorf("%s sets DB_PATH; the image's own value keeps it on the data volume", where)
	}

	example := exampleSecret(t)
	for _, e := range c.Env {
		ref := e.ValueFrom
		if ref == nil || ref.SecretKeyRef == nil {
			continue
		}
		if ref.SecretKeyRef.Name != example.Name {
			t.Errorf("env %s reads Secret %q; the example Secret is %q", e.Name, ref.SecretKeyRef.Name, example.Name)
		}
		if _, ok := example.StringData[ref.SecretKeyRef.Key]; !ok {
			t.Errorf("env %s reads key %q, which the example Secret does not have", e.Name, ref.SecretKeyRef.Key)
		}
	}
	for _, n := range replicationVars {
		for _, e := range c.Env {
			if e.Name == n && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || optional(e.ValueFrom.SecretKeyRef.Optional)) {
				t.Errorf("env %s must come from the Secret and not be optional: without it the pod would start with no replica", n)
			}
		}
	}
}

func optional(b *bool) bool { return b != nil && *b }

func configMap(objs objects, name string) *corev1.ConfigMap {
	for _, cm := range objs.configMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

func exampleSecret(t *testing.T) *corev1.Secret {
	t.Helper()
	var objs objects
	decodeInto(t, k8sDir+"/secret.example.yaml", readFile(t, k8sDir+"/secret.example.yaml"), &objs)
	if len(objs.secrets) != 1 {
		t.Fatalf("%s/secret.example.yaml: want one Secret", k8sDir)
	}
	return objs.secrets[0]
}
