package app

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// BuildVersion is what a binary knows of how it was built: its module version
// and the VCS stamp go build adds when it builds inside a git checkout.
type BuildVersion struct {
	Version  string // the override, else the module version, else "(devel)"
	Revision string // the commit (vcs.revision); empty when the build has no VCS stamp
	Time     string // the commit's time (vcs.time), RFC 3339
	Modified bool   // the work tree had changes not committed (vcs.modified)
	Go       string // the toolchain, e.g. go1.26.8
	Platform string // GOOS/GOARCH
}

// ReadVersion reads the running binary's build info; override, if set (qun's
// -ldflags "-X main.Version=..."), wins over the module version go build
// stamps (a tag, a pseudo-version from the commit, or "(devel)").
func ReadVersion(override string) BuildVersion {
	bi, _ := debug.ReadBuildInfo()
	return readVersion(bi, override)
}

// readVersion reads bi (nil when the binary has none); override, if set, wins
// over the module version.
func readVersion(bi *debug.BuildInfo, override string) BuildVersion {
	v := BuildVersion{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.Go = bi.GoVersion
		}
		var goos, goarch string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
		if goos != "" && goarch != "" {
			v.Platform = goos + "/" + goarch
		}
	}
	if override != "" {
		v.Version = override
	}
	return v
}

// revision is the commit, shortened, with "+modified" for a build from a work
// tree with changes not committed; "unknown" without a VCS stamp.
func (v BuildVersion) revision() string {
	if v.Revision == "" {
		return "unknown"
	}
	r := v.Revision
	if len(r) > 12 {
		r = r[:12]
	}
	if v.Modified {
		r += "+modified"
	}
	return r
}

// String is what qun version prints.
func (v BuildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "qun %s\n", v.Version)
	if v.Revision == "" {
		b.WriteString("revision unknown (built without a VCS stamp: outside a git clone, in a git worktree, or with -buildvcs=false)\n")
	} else {
		fmt.Fprintf(&b, "revision %s", v.Revision)
		if v.Modified {
			b.WriteString(" (modified: built with changes not committed)")
		}
		b.WriteString("\n")
		if v.Time != "" {
			fmt.Fprintf(&b, "time     %s\n", v.Time)
		}
	}
	fmt.Fprintf(&b, "go       %s %s\n", v.Go, v.Platform)
	return b.String()
}
