package deploytest_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// stage holds the facts of one Dockerfile stage that a platform sees at run time.
type stage struct {
	env        map[string]string // ENV
	args       map[string]string // ARG values in scope
	port       int               // the first EXPOSE
	user       string            // USER
	uid        int64             // numeric uid of USER
	entrypoint []string          // ENTRYPOINT
	stopSignal string            // STOPSIGNAL, SIGTERM when unset
	checkPath  string            // the local path HEALTHCHECK asks for, if it names one
	runs       []string          // RUN commands, to find where USER is created
}

func (s stage) clone() stage {
	c := s
	c.env = copyMap(s.env)
	c.args = copyMap(s.args)
	c.entrypoint = append([]string(nil), s.entrypoint...)
	c.runs = append([]string(nil), s.runs...)
	return c
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// parseDockerfile reads the instructions that matter at run time (EXPOSE, ENV,
// USER, ENTRYPOINT, STOPSIGNAL, HEALTHCHECK) and returns the final stage, with
// what it inherits from an earlier stage it is built FROM.
func parseDockerfile(t *testing.T, src string) stage {
	t.Helper()
	global := map[string]string{}
	named := map[string]*stage{}
	var cur *stage
	for _, ins := range dockerInstructions(src) {
		word, rest, _ := strings.Cut(ins, " ")
		rest = strings.TrimSpace(rest)
		switch word = strings.ToUpper(word); {
		case word == "ARG" && cur == nil:
			name, def, _ := strings.Cut(rest, "=")
			global[name] = unquote(def)
		case word == "FROM":
			base, name := fromLine(rest)
			next := &stage{env: map[string]string{}, args: map[string]string{}, stopSignal: "SIGTERM"}
			if parent, ok := named[base]; ok {
				c := parent.clone()
				next = &c
			}
			if name != "" {
				named[name] = next
			}
			cur = next
		case cur == nil:
			t.Fatalf("Dockerfile: %s before the first FROM", word)
		case word == "ARG":
			name, def, found := strings.Cut(rest, "=")
			if !found {
				def = global[name]
			}
			cur.args[name] = unquote(def)
		default:
			applyInstruction(t, cur, word, rest)
		}
	}
	if cur == nil {
		t.Fatal("Dockerfile: no FROM")
	}
	cur.uid = resolveUID(t, *cur)
	return *cur
}

// fromLine returns the base and the stage name of `FROM [--flags] base [AS name]`.
func fromLine(rest string) (base, name string) {
	fields := strings.Fields(rest)
	for i := 0; i < len(fields); i++ {
		switch {
		case strings.HasPrefix(fields[i], "--"):
		case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
			name = strings.ToLower(fields[i+1])
			i++
		case base == "":
			base = strings.ToLower(fields[i])
		}
	}
	return base, name
}

func applyInstruction(t *testing.T, s *stage, word, rest string) {
	t.Helper()
	expand := func(v string) string { return expandVars(v, s.args, s.env) }
	switch word {
	case "ENV":
		for k, v := range parseEnvPairs(rest) {
			s.env[k] = expand(v)
		}
	case "EXPOSE":
		for _, f := range strings.Fields(rest) {
			p, _, _ := strings.Cut(expand(f), "/")
			n, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("Dockerfile: EXPOSE %s: %v", f, err)
			}
			if s.port == 0 {
				s.port = n
			}
		}
	case "USER":
		s.user = expand(rest)
	case "ENTRYPOINT":
		s.entrypoint = execForm(rest)
	case "STOPSIGNAL":
		s.stopSignal = strings.ToUpper(expand(rest))
		if !strings.HasPrefix(s.stopSignal, "SIG") {
			s.stopSignal = "SIG" + s.stopSignal
		}
	case "HEALTHCHECK":
		s.checkPath = ""
		if m := localURLPath.FindStringSubmatch(rest); m != nil {
			s.checkPath = m[1]
		}
	case "RUN":
		s.runs = append(s.runs, rest)
	}
}

var localURLPath = regexp.MustCompile(`(?:localhost|127\.0\.0\.1|\[::1\])(?::[^/\s"']+)?(/[A-Za-z0-9_./-]*)`)

// resolveUID finds the numeric uid of USER: given as a number, or created by
// useradd/adduser or a passwd line in a RUN of the stage.
func resolveUID(t *testing.T, s stage) int64 {
	t.Helper()
	name, _, _ := strings.Cut(s.user, ":")
	if name == "" {
		return 0
	}
	if n, err := strconv.ParseInt(name, 10, 64); err == nil {
		return n
	}
	q := regexp.QuoteMeta(name)
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`(?:useradd|adduser)[^;&|\n]*?(?:-u|--uid)[ =](\d+)[^;&|\n]*\b` + q + `\b`),
		regexp.MustCompile(`\b` + q + `:x:(\d+):`),
	}
	for _, run := range s.runs {
		for _, re := range patterns {
			if m := re.FindStringSubmatch(run); m != nil {
				n, _ := strconv.ParseInt(m[1], 10, 64)
				return n
			}
		}
	}
	t.Fatalf("Dockerfile: cannot tell the uid of USER %s from the Dockerfile", s.user)
	return 0
}

// dockerInstructions joins continuation lines, drops comments and skips
// heredoc bodies, giving one instruction per element.
func dockerInstructions(src string) []string {
	var out []string
	var b strings.Builder
	heredoc := ""
	for _, line := range strings.Split(src, "\n") {
		if heredoc != "" {
			if strings.TrimSpace(line) == heredoc {
				heredoc = ""
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && b.Len() == 0) {
			continue
		}
		if m := heredocStart.FindStringSubmatch(trimmed); m != nil {
			heredoc = m[1]
		}
		if strings.HasSuffix(trimmed, `\`) {
			b.WriteString(strings.TrimSuffix(trimmed, `\`))
			b.WriteString(" ")
			continue
		}
		b.WriteString(trimmed)
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
		b.Reset()
	}
	if s := strings.TrimSpace(b.String()); s != "" {
		out = append(out, s)
	}
	return out
}

var heredocStart = regexp.MustCompile(`<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?`)

// execForm reads the JSON form of ENTRYPOINT/CMD; the shell form runs under /bin/sh -c.
func execForm(rest string) []string {
	var args []string
	if err := json.Unmarshal([]byte(rest), &args); err == nil {
		return args
	}
	return []string{"/bin/sh", "-c", rest}
}

// parseEnvPairs reads `ENV k=v k2="v 2"` and the old `ENV k v` form.
func parseEnvPairs(rest string) map[string]string {
	out := map[string]string{}
	words := shellWords(rest)
	if len(words) > 0 && !strings.Contains(words[0], "=") {
		name, value, _ := strings.Cut(rest, " ")
		out[name] = unquote(strings.TrimSpace(value))
		return out
	}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		out[k] = v
	}
	return out
}

// shellWords splits on blanks outside quotes and removes the quotes.
func shellWords(s string) []string {
	var out []string
	var b strings.Builder
	var quote rune
	inWord := false
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, inWord = c, true
		case c == '\\' && i+1 < len(s) && quote != '\'':
			i++
			b.WriteByte(s[i])
			inWord = true
		case quote == 0 && (c == ' ' || c == '\t'):
			if inWord {
				out = append(out, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, b.String())
	}
	return out
}

func unquote(s string) string {
	w := shellWords(strings.TrimSpace(s))
	return strings.Join(w, " ")
}

var dockerVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

func expandVars(v string, maps ...map[string]string) string {
	return dockerVar.ReplaceAllStringFunc(v, func(ref string) string {
		m := dockerVar.FindStringSubmatch(ref)
		name := m[1] + m[3]
		for _, vars := range maps {
			if val, ok := vars[name]; ok && val != "" {
				return val
			}
		}
		return m[2]
	})
}

func TestParseDockerfile(t *testing.T) {
	src := `# syntax=docker/dockerfile:1
ARG PORT=3001
FROM golang:1.26 AS build
ENV CGO_ENABLED=0
RUN go build -o /out/litepaste ./app

FROM debian:bookworm-slim AS runtime
ARG PORT
RUN useradd --system --uid 10001 --user-group \
      --home-dir /data litepaste
RUN <<EOF
ENV NOT_AN_INSTRUCTION=1
EOF
ENV DB_PATH=/data/litepaste.db \
    SITE_TITLE="my pastes" PORT=${PORT}
EXPOSE ${PORT}/tcp
HEALTHCHECK --interval=30s CMD ["wget", "-qO-", "http://127.0.0.1:3001/healthz"]

FROM runtime
USER litepaste
ENTRYPOINT ["/init"]
`
	got := parseDockerfile(t, src)
	checks := []struct {
		desc      string
		got, want any
	}{
		{"port", got.port, 3001},
		{"DB_PATH", got.env["DB_PATH"], "/data/litepaste.db"},
		{"quoted value", got.env["SITE_TITLE"], "my pastes"},
		{"ARG expanded in ENV", got.env["PORT"], "3001"},
		{"build stage ENV not inherited", got.env["CGO_ENABLED"], ""},
		{"heredoc body skipped", got.env["NOT_AN_INSTRUCTION"], ""},
		{"user", got.user, "litepaste"},
		{"uid", got.uid, int64(10001)},
		{"entrypoint", got.entrypoint, []string{"/init"}},
		{"stop signal", got.stopSignal, "SIGTERM"},
		{"health path", got.checkPath, "/healthz"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.desc, c.got, c.want)
		}
	}
}
