package deploytest_test

import (
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// replicasDoc is the user's guide to read replicas.
const replicasDoc = "docs/replicas.md"

// flyPrivateNet is fly.io's private network (6PN), from which one app's
// Machines reach another's.
var flyPrivateNet = netip.MustParsePrefix("fdaa::/16")

// TestFlyReplicas: the replica app follows the writer app's bucket, names the
// writer's Machine on the private network, and the writer believes what it
// forwards.
func TestFlyReplicas(t *testing.T) {
	img := loadImage(t)
	writer := flyApp(t, img, flyWriterConfig)
	replica := flyApp(t, img, flyReplicaConfig)
	if replica.App == writer.App {
		t.Errorf("%s: app %q is the writer's; replicas are an app of their own", flyReplicaConfig, replica.App)
	}

	want := "http://" + writer.App + ".internal:" + strconv.Itoa(writer.HTTPService.InternalPort)
	if got := replica.Env[primaryVar]; got != want {
		t.Errorf("%s: %s=%q; want the writer app's private address %q", flyReplicaConfig, primaryVar, got, want)
	} else if u, err := url.Parse(got); err != nil || u.Scheme != "http" {
		t.Errorf("%s: %s=%q: not an http URL", flyReplicaConfig, primaryVar, got)
	}
	if !covers(t, writer.Env["TRUSTED_PROXIES"], flyPrivateNet) {
		t.Errorf("%s: TRUSTED_PROXIES=%q does not cover %v, from which the replicas forward uploads: "+
			"the writer would count every upload against the replica's address", flyWriterConfig, writer.Env["TRUSTED_PROXIES"], flyPrivateNet)
	}

	switch replica.Deploy.Strategy {
	case "rolling", "bluegreen":
	default:
		t.Errorf("%s: deploy strategy %q; want rolling or bluegreen, which keep replicas serving during a deploy", flyReplicaConfig, replica.Deploy.Strategy)
	}
	if len(replica.Mounts) != 0 {
		t.Errorf("%s: mounts %v; a replica's copy is restored from the bucket at every start", flyReplicaConfig, replica.Mounts)
	}
	if replica.HTTPService.MinMachinesRunning < 1 || replica.HTTPService.AutoStopMachines != "off" {
		t.Errorf("%s: min_machines_running %d, auto_stop_machines %q; a stopped replica restores its copy before it serves, so keep them running",
			flyReplicaConfig, replica.HTTPService.MinMachinesRunning, replica.HTTPService.AutoStopMachines)
	}

	doc := string(readFile(t, replicasDoc))
	if d, want := commandLine(t, doc, "fly deploy "+platformDir+" --config "+flyReplicaConfig), "fly deploy "+platformDir+" --config "+flyReplicaConfig+" --local-only"; d != want {
		t.Errorf("%s: %q; want %q", replicasDoc, d, want)
	}
	secrets := commandLine(t, doc, "fly secrets set")
	checkEnvNames(t, img, replicasDoc+"'s fly secrets set", assignments(secrets).sorted())
	checkReplicationProvided(t, img, replicasDoc+"'s fly secrets set", assignments(secrets))
}

// covers reports whether a comma-separated CIDR list holds all of p.
func covers(t *testing.T, list string, p netip.Prefix) bool {
	t.Helper()
	for _, s := range strings.Split(list, ",") {
		q, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			t.Errorf("TRUSTED_PROXIES: %q: %v", s, err)
			continue
		}
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// TestDockerReplica: the guide's docker run of a replica sets what the image
// reads, names the writer's container, and the writer trusts Docker's
// bridge networks.
func TestDockerReplica(t *testing.T) {
	img := loadImage(t)
	doc := string(readFile(t, replicasDoc))
	writer := commandLine(t, doc, "docker run -d --name litepaste-writer")
	replica := commandLine(t, doc, "docker run -d --name litepaste-replica")
	for what, line := range map[string]string{"writer": writer, "replica": replica} {
		vars := assignments(line)
		checkEnvNames(t, img, replicasDoc+"'s docker run of the "+what, vars.sorted())
		checkReplicationProvided(t, img, replicasDoc+"'s docker run of the "+what, vars)
	}
	if !strings.Contains(replica, "-e "+primaryVar+"=http://litepaste-writer:"+strconv.Itoa(img.port)+" ") {
		t.Errorf("%s: the replica's docker run does not set %s to the writer's container and port %d: %q", replicasDoc, primaryVar, img.port, replica)
	}
	if strings.Contains(writer, primaryVar) {
		t.Errorf("%s: the writer's docker run sets %s", replicasDoc, primaryVar)
	}
	m := regexp.MustCompile(`-e TRUSTED_PROXIES=(\S+)`).FindStringSubmatch(writer)
	if m == nil || !covers(t, m[1], netip.MustParsePrefix("172.17.0.0/16")) {
		t.Errorf("%s: the writer's docker run does not trust Docker's bridge networks, from which the replica connects: %q", replicasDoc, writer)
	}
}
