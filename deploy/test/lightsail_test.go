package deploytest_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// The shapes of `aws lightsail create-container-service-deployment`'s
// --containers and --public-endpoint files (Lightsail API reference).
type lightsailContainer struct {
	Image       string            `json:"image"`
	Command     []string          `json:"command"`
	Environment map[string]string `json:"environment"`
	Ports       map[string]string `json:"ports"`
}

type lightsailEndpoint struct {
	ContainerName string `json:"containerName"`
	ContainerPort int    `json:"containerPort"`
	HealthCheck   struct {
		HealthyThreshold   int    `json:"healthyThreshold"`
		UnhealthyThreshold int    `json:"unhealthyThreshold"`
		TimeoutSeconds     int    `json:"timeoutSeconds"`
		IntervalSeconds    int    `json:"intervalSeconds"`
		Path               string `json:"path"`
		SuccessCodes       string `json:"successCodes"`
	} `json:"healthCheck"`
}

func decodeJSONStrict(t *testing.T, rel string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFile(t, rel)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

func TestLightsail(t *testing.T) {
	img := loadImage(t)
	var containers map[string]lightsailContainer
	decodeJSONStrict(t, "deploy/lightsail/containers.json", &containers)
	var ep lightsailEndpoint
	decodeJSONStrict(t, "deploy/lightsail/public-endpoint.json", &ep)

	if len(containers) != 1 {
		t.Fatalf("containers.json: %d containers, want 1", len(containers))
	}
	c, ok := containers[ep.ContainerName]
	if !ok {
		t.Fatalf("public-endpoint.json: container %q is not in containers.json", ep.ContainerName)
	}
	if c.Image == "" {
		t.Error("containers.json: no image")
	}
	if len(c.Command) != 0 {
		t.Errorf("containers.json: command %q replaces the image's CMD; s6-overlay's /init runs the services itself", c.Command)
	}

	if ep.ContainerPort != img.port {
		t.Errorf("public-endpoint.json: containerPort %d, want the image's port %d", ep.ContainerPort, img.port)
	}
	if proto := c.Ports[strconv.Itoa(img.port)]; proto != "HTTP" {
		t.Errorf("containers.json: port %d is %q, want HTTP (ports: %v)", img.port, proto, c.Ports)
	}
	if v, ok := c.Environment["PORT"]; ok && v != strconv.Itoa(img.port) {
		t.Errorf("containers.json: PORT=%s, but the endpoint targets %d", v, img.port)
	}

	hc := ep.HealthCheck
	if hc.Path != readyPath || !img.routes[hc.Path] {
		t.Errorf("health check path %q; want %s, which the server serves", hc.Path, readyPath)
	}
	if successCodesInclude(t, hc.SuccessCodes, 503) {
		t.Errorf("health check successCodes %q count 503 (database not usable) as healthy", hc.SuccessCodes)
	}
	if !successCodesInclude(t, hc.SuccessCodes, 200) {
		t.Errorf("health check successCodes %q do not count 200 as healthy", hc.SuccessCodes)
	}
	// The ranges the Lightsail API accepts.
	ranges := []struct {
		name     string
		v, lo, h int
	}{
		{"healthyThreshold", hc.HealthyThreshold, 2, 10},
		{"unhealthyThreshold", hc.UnhealthyThreshold, 2, 10},
		{"timeoutSeconds", hc.TimeoutSeconds, 2, 60},
		{"intervalSeconds", hc.IntervalSeconds, 5, 300},
	}
	for _, r := range ranges {
		if r.v < r.lo || r.v > r.h {
			t.Errorf("health check %s=%d, outside Lightsail's %d..%d", r.name, r.v, r.lo, r.h)
		}
	}
	if hc.TimeoutSeconds >= hc.IntervalSeconds {
		t.Errorf("health check timeout %ds is not shorter than its interval %ds", hc.TimeoutSeconds, hc.IntervalSeconds)
	}

	provided := set{}
	var names []string
	for k := range c.Environment {
		provided.add(k)
		names = append(names, k)
	}
	checkEnvNames(t, img, "containers.json", names)
	checkReplicationProvided(t, img, "containers.json", provided)

	// The walk-through creates the service on the nano power with one node.
	section := readmeSection(t, "deploy")
	create := commandLine(t, section, "aws lightsail create-container-service ")
	for _, flag := range []string{"--power nano", "--scale 1"} {
		if !strings.Contains(create, flag) {
			t.Errorf("README: %q lacks %s", create, flag)
		}
	}
	deploy := commandLine(t, section, "aws lightsail create-container-service-deployment")
	for _, f := range []string{"deploy/lightsail/containers.json", "deploy/lightsail/public-endpoint.json"} {
		if !strings.Contains(deploy, "file://"+f) {
			t.Errorf("README: %q does not use file://%s", deploy, f)
		}
	}
}

// successCodesInclude reads Lightsail's "200", "200-299" or "200,204" forms.
func successCodesInclude(t *testing.T, codes string, code int) bool {
	t.Helper()
	for _, part := range strings.Split(codes, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			t.Fatalf("successCodes %q: cannot read %q", codes, part)
		}
		if l <= code && code <= h {
			return true
		}
	}
	return false
}
