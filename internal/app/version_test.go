package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReadVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/qun-chat/qun", Version: "v0.0.0-20261202155224-1005959f69ec+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "GOARCH", Value: "arm64"}, {Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "1005959f69ec8003483ea778059bab580eb2063e"},
			{Key: "vcs.time", Value: "2026-12-02T15:52:24Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	here := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     BuildVersion
		revision string
		out      string
	}{
		{"stamped", stamped, "", BuildVersion{
			Version: "v0.0.0-20261202155224-1005959f69ec+dirty", Revision: "1005959f69ec8003483ea778059bab580eb2063e",
			Time: "2026-12-02T15:52:24Z", Modified: true, Go: "go1.26.8", Platform: "linux/arm64",
		}, "1005959f69ec+modified", "qun v0.0.0-20261202155224-1005959f69ec+dirty\n" +
			"revision 1005959f69ec8003483ea778059bab580eb2063e (modified: built with changes not committed)\n" +
			"time     2026-12-02T15:52:24Z\n" +
			"go       go1.26.8 linux/arm64\n"},
		{"ldflags version wins", stamped, "v1.2.3", BuildVersion{
			Version: "v1.2.3", Revision: "1005959f69ec8003483ea778059bab580eb2063e",
			Time: "2026-12-02T15:52:24Z", Modified: true, Go: "go1.26.8", Platform: "linux/arm64",
		}, "1005959f69ec+modified", "qun v1.2.3\n"},
		{"not stamped", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "",
			BuildVersion{Version: "(devel)", Go: "go1.26.8", Platform: here}, "unknown",
			"qun (devel)\nrevision unknown (built without a VCS stamp"},
		{"no build info", nil, "", BuildVersion{Version: "(devel)", Go: runtime.Version(), Platform: here}, "unknown", "qun (devel)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readVersion(tc.bi, tc.override)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("readVersion (-want +got):\n%s", diff)
			}
			if r := got.revision(); r != tc.revision {
				t.Errorf("revision() = %q, want %q", r, tc.revision)
			}
			if !strings.HasPrefix(got.String(), tc.out) {
				t.Errorf("String() = %q, want it to start %q", got.String(), tc.out)
			}
		})
	}
}

// TestVersionOfBuild builds qun as a person would, inside the git clone,
// and checks that qun version prints the clone's commit.
func TestVersionOfBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// go build stamps VCS info only from a .git directory (not from a git
	// worktree's .git file, golang/go#58218).
	if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
		t.Skipf("%s has no .git directory (a git worktree, or not a clone): go build stamps no VCS info there", root)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: go build stamps no VCS info without it")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "qun")
	// -buildvcs=true overrides a GOFLAGS=-buildvcs=false of the environment
	// and fails the build if the stamp cannot be made.
	build := exec.Command(goTool, "build", "-buildvcs=true", "-o", bin, "./cmd/qun")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	head := git("rev-parse", "HEAD")
	committed, err := time.Parse(time.RFC3339, git("log", "-1", "--format=%cI", "HEAD"))
	if err != nil {
		t.Fatal(err)
	}
	modified := git("status", "--porcelain") != ""

	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("qun version: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	wantRevision := "revision " + head
	if modified {
		wantRevision += " (modified: built with changes not committed)"
	}
	for i, want := range []string{"qun v", wantRevision, "time     " + committed.UTC().Format(time.RFC3339), "go       " + runtime.Version() + " "} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
			t.Errorf("qun version:\n%s\nline %d should start %q", out, i+1, want)
		}
	}
}
