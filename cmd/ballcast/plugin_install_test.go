package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pluginlock"
)

// ballcast runs the test binary as the ballcast CLI (TestMain sets
// BALLCAST_TEST_AS_MAIN for every child) and returns its output and exit
// code.
func ballcast(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("ballcast %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// goBuild builds a main package of this module into dir. It builds with
// -race when this test binary was, so the already compiled (race)
// dependencies are reused instead of compiling gRPC again.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building test plugins needs the go command: %v", err)
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.CommandContext(t.Context(), gobin, append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func readLock(t *testing.T, dir string) *pluginlock.File {
	t.Helper()
	f, err := pluginlock.Read(pluginlock.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const helloPipeline = `sources:
  - name: bundled
    type: replay
stages:
  - name: tagger
    plugin: hello
    config:
      tag: "BOUNDARY! "
`

// TestPluginInstall builds two real plugins once and takes them through
// install, list, validate, run, tampering, reinstall and remove.
func TestPluginInstall(t *testing.T) {
	bins := t.TempDir()
	hello := goBuild(t, bins, "hello", "github.com/ballcast/ballcast/examples/plugins/hello")
	limits := goBuild(t, bins, "limits", "./testdata/plugins/limits")

	t.Run("lifecycle", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "plugins") // created by install
		flag := "--plugin-dir=" + dir
		helloSum := sha256File(t, hello)

		out, errs, code := ballcast(t, nil, "plugin", "install", hello, flag)
		if code != 0 {
			t.Fatalf("install: exit %d\n%s", code, errs)
		}
		installed := filepath.Join(dir, "ballcast-plugin-hello")
		if !strings.HasPrefix(out, "installed hello 1.0.0 (protocol 1, sha256 "+helloSum+") as "+installed) {
			t.Fatalf("install said %q", out)
		}
		if fi, err := os.Stat(installed); err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("installed binary: %v, %v; want mode 0755", fi, err)
		}
		if got := sha256File(t, installed); got != helloSum {
			t.Fatalf("installed copy has sha256 %s, source %s", got, helloSum)
		}
		e, ok := readLock(t, dir).Lookup("hello")
		if !ok || e.Version != "1.0.0" || e.SHA256 != helloSum || e.File != "ballcast-plugin-hello" || e.ProtocolVersion != 1 ||
			e.Description != "tags boundary commentary" || time.Since(e.InstalledAt) > time.Hour {
			t.Fatalf("lock entry %+v", e)
		}
		// Nothing but the binary, the lock file and its lock is left.
		assertDir(t, dir, "ballcast-plugin-hello", "plugins.lock", "plugins.lock.lck")

		out, _, _ = ballcast(t, nil, "plugin", "list", flag)
		if !regexp.MustCompile(`(?m)^hello +1\.0\.0 +1 +`+helloSum[:12]+` +installed$`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^dedup +\S+ +1 +- +built-in$`).MatchString(out) {
			t.Fatalf("list:\n%s", out)
		}

		yml := writeFile(t, filepath.Join(t.TempDir(), "pipeline.yaml"), helloPipeline)
		if out, errs, code := ballcast(t, nil, "validate", flag, yml); code != 0 || !strings.Contains(out, "ok") {
			t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
		}
		cfg, err := pipeline.Load(yml, &pipeline.LoadOptions{SourceTypes: sourceTypes()})
		if err != nil {
			t.Fatal(err)
		}
		// The stage runs, through the verified binary.
		st, err := startStages(t.Context(), cfg, dir, nil, zerolog.Nop())
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		res, err := st.hosts[0].Process(t.Context(), []event.Event{{
			ID: "m/1.0.1.0", Match: "m", Kind: event.KindBall,
			Ball:       &event.Ball{RunsBat: 4},
			Commentary: &event.Commentary{Text: "cracking shot"},
		}})
		st.Close()
		if err != nil || len(res) != 1 || res[0].Err != nil || len(res[0].Events) != 1 {
			t.Fatalf("process: %v %+v", err, res)
		}
		if got := res[0].Events[0].Commentary.Text; got != "BOUNDARY! cracking shot" {
			t.Fatalf("hello stage returned %q", got)
		}

		// Tamper with the installed binary: one byte more.
		f, err := os.OpenFile(installed, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte{0})
		f.Close()
		tampered := sha256File(t, installed)

		_, errs, code = ballcast(t, nil, "validate", flag, yml)
		want := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(yml) + `:6:13: stages\[0\]\.plugin: plugin hello: binary \S+ballcast-plugin-hello has SHA-256 ` +
			tampered + `, but plugins.lock expects ` + helloSum)
		if code == 0 || !want.MatchString(errs) {
			t.Fatalf("validate of a tampered plugin: exit %d\n%s", code, errs)
		}
		_, err = startStages(t.Context(), cfg, dir, nil, zerolog.Nop())
		if err == nil {
			t.Fatal("a tampered plugin was started")
		}
		for _, s := range []string{"stage tagger", "plugin hello", "SHA-256 is " + tampered, "expected " + helloSum} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("start error does not say %q: %v", s, err)
			}
		}
		out, _, _ = ballcast(t, nil, "plugin", "list", flag)
		if !strings.Contains(out, "MODIFIED: sha256 now "+tampered[:12]) {
			t.Fatalf("list does not flag the tampered binary:\n%s", out)
		}

		// Reinstalling fixes it.
		out, errs, code = ballcast(t, nil, "plugin", "install", hello, flag)
		if code != 0 || !strings.HasPrefix(out, "replaced hello 1.0.0 → 1.0.0") {
			t.Fatalf("reinstall: exit %d\n%s%s", code, out, errs)
		}
		if _, errs, code := ballcast(t, nil, "validate", flag, yml); code != 0 {
			t.Fatalf("validate after reinstall: exit %d\n%s", code, errs)
		}

		// A binary dropped into the directory by hand is refused.
		if err := os.Rename(installed, filepath.Join(dir, "ballcast-plugin-stray")); err != nil {
			t.Fatal(err)
		}
		strayYML := writeFile(t, filepath.Join(t.TempDir(), "stray.yaml"), strings.Replace(helloPipeline, "plugin: hello", "plugin: stray", 1))
		_, errs, code = ballcast(t, nil, "validate", flag, strayYML)
		if code == 0 || !strings.Contains(errs, "was not installed with `ballcast plugin install`") {
			t.Fatalf("validate of a stray binary: exit %d\n%s", code, errs)
		}
		strayCfg, err := pipeline.Load(strayYML, &pipeline.LoadOptions{SourceTypes: sourceTypes()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := startStages(t.Context(), strayCfg, dir, nil, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "stage tagger: plugin stray: ") ||
			!strings.Contains(err.Error(), "not installed with `ballcast plugin install`") {
			t.Fatalf("start of a stray binary: %v", err)
		}
		// ... and a locked plugin whose binary went missing is named.
		_, errs, code = ballcast(t, nil, "validate", flag, yml)
		if code == 0 || !strings.Contains(errs, "its binary is missing") {
			t.Fatalf("validate with the binary gone: exit %d\n%s", code, errs)
		}
		out, _, _ = ballcast(t, nil, "plugin", "list", flag)
		if !strings.Contains(out, "MISSING binary") || !regexp.MustCompile(`(?m)^stray .*NOT INSTALLED`).MatchString(out) {
			t.Fatalf("list:\n%s", out)
		}
		os.Rename(filepath.Join(dir, "ballcast-plugin-stray"), installed)

		out, errs, code = ballcast(t, nil, "plugin", "remove", "hello", flag)
		if code != 0 || out != "removed hello 1.0.0\n" {
			t.Fatalf("remove: exit %d\n%s%s", code, out, errs)
		}
		if _, err := os.Stat(installed); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("binary still there after remove: %v", err)
		}
		if out, _, _ := ballcast(t, nil, "plugin", "list", flag); strings.Contains(out, "hello") {
			t.Fatalf("list after remove:\n%s", out)
		}
		_, errs, code = ballcast(t, nil, "plugin", "remove", "hello", flag)
		if code != 1 || !strings.Contains(errs, `no installed plugin "hello"`) {
			t.Fatalf("remove of an unknown plugin: exit %d\n%s", code, errs)
		}
	})

	t.Run("schema from plugins.lock, versions and names", func(t *testing.T) {
		dir := t.TempDir()
		flag := "--plugin-dir=" + dir
		if _, errs, code := ballcast(t, nil, "plugin", "install", limits, flag); code != 0 {
			t.Fatalf("install: exit %d\n%s", code, errs)
		}
		e, _ := readLock(t, dir).Lookup("limits")
		if !strings.Contains(string(e.ConfigSchema), `"required":["max"]`) {
			t.Fatalf("lock entry has schema %s", e.ConfigSchema)
		}
		yml := writeFile(t, filepath.Join(t.TempDir(), "p.yaml"), `sources:
  - name: bundled
    type: replay
stages:
  - name: limits
    plugin: limits
    timeout: -1s
    config:
      max: 0
      labels: [ok, NotOk]
      "odd key": yes
      extra: 1
`)
		_, errs, code := ballcast(t, nil, "validate", flag, yml)
		want := []string{
			yml + `:7:14: stages[0].timeout: must be > 0, got -1s`,
			yml + `:9:12: stages[0].config.max: minimum: got 0, want 1 (limits config schema)`,
			yml + `:10:20: stages[0].config.labels[1]: does not match pattern "^[a-z]+$" (limits config schema)`,
			yml + `:11:18: stages[0].config["odd key"]: got string, want boolean (limits config schema)`, // YAML 1.2: yes is a string
			yml + `:12:7: stages[0].config.extra: unknown key; known keys: labels, max, odd key (limits config schema)`,
		}
		if code != 1 || strings.TrimSpace(errs) != strings.Join(want, "\n") {
			t.Fatalf("validate: exit %d\n%s\nwant:\n%s", code, errs, strings.Join(want, "\n"))
		}

		out, errs, code := ballcast(t, []string{"BALLCAST_TEST_LIMITS_VERSION=2.0.0"}, "plugin", "install", limits, flag)
		if code != 0 || !strings.HasPrefix(out, "replaced limits 1.0.0 → 2.0.0 (protocol 1, sha256 ") {
			t.Fatalf("install of a new version: exit %d\n%s%s", code, out, errs)
		}
		if e, _ := readLock(t, dir).Lookup("limits"); e.Version != "2.0.0" {
			t.Fatalf("lock has version %q after the upgrade", e.Version)
		}

		out, errs, code = ballcast(t, nil, "plugin", "install", "--name", "caps", limits, flag)
		if code != 0 || !strings.HasPrefix(out, "installed caps 1.0.0") {
			t.Fatalf("install --name: exit %d\n%s%s", code, out, errs)
		}
		if _, errs, code := ballcast(t, nil, "plugin", "install", "--name", "dedup", limits, flag); code == 0 || !strings.Contains(errs, "built-in") {
			t.Fatalf("install over a built-in's name: exit %d\n%s", code, errs)
		}
		if _, errs, code := ballcast(t, nil, "plugin", "install", "--name", "Bad Name", limits, flag); code != 2 || !strings.Contains(errs, "not a valid plugin name") {
			t.Fatalf("install with an invalid name: exit %d\n%s", code, errs)
		}
		var names []string
		for _, e := range readLock(t, dir).Plugins {
			names = append(names, e.Name)
		}
		if strings.Join(names, ",") != "caps,limits" {
			t.Fatalf("lock lists %v, want caps and limits", names)
		}
		assertDir(t, dir, "ballcast-plugin-caps", "ballcast-plugin-limits", "plugins.lock", "plugins.lock.lck")
	})
}

func TestPluginInstallRefusesNonPlugins(t *testing.T) {
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatalf("need a true command: %v", err)
	}
	src := t.TempDir()
	script := filepath.Join(src, "not-a-plugin.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"true", trueBin, "is not a working ballcast plugin"},
		{"shell script", script, "is not a working ballcast plugin"},
		{"missing file", filepath.Join(src, "nope"), "no such file"},
		{"directory", src, "not a regular file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, errs, code := ballcast(t, nil, "plugin", "install", tc.path, "--plugin-dir", dir)
			if code != 1 || !strings.Contains(errs, tc.want) || !strings.Contains(errs, tc.path) {
				t.Fatalf("exit %d, want 1 and an error naming %s and saying %q:\n%s", code, tc.path, tc.want, errs)
			}
			if f := readLock(t, dir); len(f.Plugins) != 0 {
				t.Fatalf("lock entries left: %+v", f.Plugins)
			}
			// No binary and no temporary copy is left behind.
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if n := e.Name(); n != "plugins.lock" && n != "plugins.lock.lck" {
					t.Errorf("left behind: %s", n)
				}
			}
		})
	}
}

func TestPluginUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"plugin"}, {"plugin", "install"}, {"plugin", "remove"}, {"plugin", "list", "x"}, {"plugin", "frob"}} {
		if _, _, code := ballcast(t, nil, args...); code != 2 {
			t.Errorf("ballcast %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	if _, errs, code := ballcast(t, nil, "plugin", "remove", "dedup", "--plugin-dir", t.TempDir()); code != 1 || !strings.Contains(errs, "built into ballcast") {
		t.Errorf("remove of a built-in: exit %d\n%s", code, errs)
	}
}

// assertDir checks that dir holds exactly the named entries.
func assertDir(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, want)
	}
}
