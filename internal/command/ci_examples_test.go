package command

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI examples are what users copy into their pipelines: these tests
// keep them deploying on push to main, with the SSH key and host keys from
// secrets, host keys verified, and an airctl command line this CLI
// accepts.

var ciExampleDir = filepath.Join("..", "..", "examples", "ci")

func readYAML(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ciExampleDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b)
}

type githubWorkflow struct {
	On struct {
		Push struct {
			Branches []string `yaml:"branches"`
		} `yaml:"push"`
	} `yaml:"on"`
	Jobs map[string]struct {
		Steps []struct {
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Env  map[string]string `yaml:"env"`
			Run  string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func TestCIExampleGitHubActions(t *testing.T) {
	t.Parallel()
	var wf githubWorkflow
	raw := readYAML(t, "github-actions-deploy.yml", &wf)
	refuseBlindTrust(t, raw)
	if !slices.Contains(wf.On.Push.Branches, "main") {
		t.Errorf("on.push.branches = %q; want main", wf.On.Push.Branches)
	}
	var deploys int
	for name, job := range wf.Jobs {
		for _, st := range job.Steps {
			line := airctlLine(st.Run)
			if line == "" {
				continue
			}
			deploys++
			for env, secret := range map[string]string{"AIRCTL_SSH_KEY": "AIRCTL_SSH_KEY", "AIRCTL_KNOWN_HOSTS": "AIRCTL_KNOWN_HOSTS"} {
				if got, want := st.Env[env], "${{ secrets."+secret+" }}"; got != want {
					t.Errorf("job %s, step %q: env %s = %q; want %q", name, st.Name, env, got, want)
				}
			}
			if !strings.Contains(st.Run, `"$AIRCTL_KNOWN_HOSTS" > known_hosts`) {
				t.Errorf("job %s, step %q does not write known_hosts from the secret:\n%s", name, st.Name, st.Run)
			}
			checkAirctlLine(t, line)
		}
	}
	if deploys != 1 {
		t.Errorf("want one step running airctl deploy, found %d", deploys)
	}
}

type cloudBuild struct {
	Steps []struct {
		Name      string   `yaml:"name"`
		SecretEnv []string `yaml:"secretEnv"`
		Args      []string `yaml:"args"`
	} `yaml:"steps"`
	AvailableSecrets struct {
		SecretManager []struct {
			VersionName string `yaml:"versionName"`
			Env         string `yaml:"env"`
		} `yaml:"secretManager"`
	} `yaml:"availableSecrets"`
}

type cloudBuildTrigger struct {
	GitHub struct {
		Push struct {
			Branch string `yaml:"branch"`
		} `yaml:"push"`
	} `yaml:"github"`
	Filename string `yaml:"filename"`
}

func TestCIExampleCloudBuild(t *testing.T) {
	t.Parallel()
	var cb cloudBuild
	raw := readYAML(t, "cloudbuild.yaml", &cb)
	refuseBlindTrust(t, raw)
	secrets := map[string]string{}
	for _, s := range cb.AvailableSecrets.SecretManager {
		secrets[s.Env] = s.VersionName
	}
	fromSecretManager := regexp.MustCompile(`^projects/\$PROJECT_ID/secrets/[a-z0-9-]+/versions/latest$`)
	var deploys int
	for _, st := range cb.Steps {
		// Cloud Build substitutes $VAR and $$ stands for a shell's $.
		script := strings.ReplaceAll(strings.Join(st.Args, "\n"), "$$", "$")
		line := airctlLine(script)
		if line == "" {
			continue
		}
		deploys++
		for _, env := range []string{"AIRCTL_SSH_KEY", "AIRCTL_KNOWN_HOSTS"} {
			if !slices.Contains(st.SecretEnv, env) {
				t.Errorf("step %s: %s is not in secretEnv %q", st.Name, env, st.SecretEnv)
			}
			if !fromSecretManager.MatchString(secrets[env]) {
				t.Errorf("%s comes from %q; want a Secret Manager secret", env, secrets[env])
			}
		}
		if !strings.Contains(script, `"$AIRCTL_KNOWN_HOSTS" > known_hosts`) {
			t.Errorf("step %s does not write known_hosts from the secret:\n%s", st.Name, script)
		}
		checkAirctlLine(t, line)
	}
	if deploys != 1 {
		t.Errorf("want one step running airctl deploy, found %d", deploys)
	}

	var trig cloudBuildTrigger
	readYAML(t, "cloudbuild-trigger.yaml", &trig)
	re, err := regexp.Compile(trig.GitHub.Push.Branch)
	if err != nil || !re.MatchString("main") || re.MatchString("feature/main-fix") {
		t.Errorf("trigger branch %q (%v): want a pattern matching main only", trig.GitHub.Push.Branch, err)
	}
	if trig.Filename != "examples/ci/cloudbuild.yaml" {
		t.Errorf("trigger runs %q; want examples/ci/cloudbuild.yaml", trig.Filename)
	}
}

// refuseBlindTrust fails on anything that accepts an unverified host key.
func refuseBlindTrust(t *testing.T, text string) {
	t.Helper()
	for _, bad := range []string{"StrictHostKeyChecking", "trust-on-first-use", "trust_on_first_use"} {
		if strings.Contains(text, bad) {
			t.Errorf("the pipeline mentions %s: CI must verify host keys from the known_hosts secret", bad)
		}
	}
}

// airctlLine is the line of a shell script that runs airctl ("" if none).
func airctlLine(script string) string {
	for _, l := range strings.Split(script, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "airctl ") {
			return l
		}
	}
	return ""
}

// checkAirctlLine runs the line's arguments through the CLI's own flag
// parsing with -help appended: only a valid deploy command line with no
// stray arguments gets as far as printing the usage.
func checkAirctlLine(t *testing.T, line string) {
	t.Helper()
	words := shellWords(line)
	if len(words) < 2 || words[1] != "deploy" {
		t.Fatalf("%q does not run airctl deploy", line)
	}
	for _, w := range words {
		if w == "-auto-approve" {
			t.Errorf("%q: CI should deploy, not provision unreviewed", line)
		}
	}
	dir := t.TempDir()
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	code := Run(context.Background(), append([]string{"-chdir=" + dir}, append(words[1:], "-help")...), Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Dir: dir, Version: "test",
	})
	if code != exitOK || !strings.Contains(stdout.String(), "Usage: airctl [global options] deploy") {
		t.Errorf("airctl rejects the pipeline's command line %q (exit %d):\n%s%s", line, code, stdout, stderr)
	}
}

// shellWords splits a command line as sh would for the quoting the
// examples use: blanks separate words, double and single quotes group.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
