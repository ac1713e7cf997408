package plan

import (
	"strings"
)

// Npm is a target's npm block: the packages to install and the platform to pick their
// prebuilt binaries for. The cell's Script is NpmScript of it, so that everything that
// runs a cell runs the generated steps as it runs any script.
type Npm struct {
	// Install are package specs as npm install takes them ("sharp@0.34.5"); never
	// empty, none starting with "-".
	Install []string `json:"install"`
	// CPU, OS and Libc are npm's --cpu, --os and --libc (npm's names: x64, linux,
	// glibc); empty: not given, npm's own platform.
	CPU  string `json:"cpu,omitempty"`
	OS   string `json:"os,omitempty"`
	Libc string `json:"libc,omitempty"`
	// Omit are the dependency types left out (--omit): "dev", "optional", "peer".
	Omit []string `json:"omit"`
	// BuildFromSource sets npm_config_build_from_source=true in the build's env, so that
	// install scripts compile with node-gyp instead of downloading prebuilt binaries.
	BuildFromSource bool `json:"build_from_source"`
	// PostInstall is the target's script, run after the install in the same container
	// and workdir; empty: none. It does not change what npm installs, so it is no part
	// of the lock entry's definition.
	PostInstall string `json:"post_install,omitempty"`
}

// MarshalJSON writes empty lists as [] rather than null.
func (n Npm) MarshalJSON() ([]byte, error) {
	type fields Npm // without this method
	n.Install, n.Omit = nonNil(n.Install), nonNil(n.Omit)
	return MarshalJSON(fields(n))
}

// NpmEnv are the variables a cell with an npm block gets in its env (unless its env
// sets them itself): npm's update check would ask the registry on every build.
func NpmEnv(n *Npm) []EnvVar {
	env := []EnvVar{{Name: "npm_config_update_notifier", Value: "false"}}
	if n.BuildFromSource {
		env = append(env, EnvVar{Name: "npm_config_build_from_source", Value: "true"})
	}
	return env
}

// pruneLock cuts package-lock.json down to the packages the install chose: npm's lock
// lists the optional binaries of every platform, and npm ci cannot tell glibc ones from
// musl ones (its lock has no libc field), so without this a locked install adds
// binaries the first install left out. node_modules/.package-lock.json is npm's record
// of what it installed.
const pruneLock = `node -e '
  const fs = require("fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json"));
  const installed = JSON.parse(fs.readFileSync("node_modules/.package-lock.json")).packages;
  for (const name of Object.keys(lock.packages)) {
    if (name !== "" && !(name in installed)) delete lock.packages[name];
  }
  fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
'`

// NpmScript is the shell script that performs an npm block in the workdir: from the
// recorded lock files when MATRIX_LOCKED=1 (npm ci), else resolving anew (npm install,
// which writes package.json itself, then the lock cut down to what was installed);
// then the empty directories npm install leaves (scope directories of skipped optional
// packages) are removed, so that both give the same tree; then PostInstall, in its own
// sh -c as a target's script would run. Every value is quoted: a spec holding a quote
// or $(...) is passed to npm as it is and runs nothing.
func NpmScript(n *Npm) string {
	var flags []string
	flags = append(flags, "--no-audit", "--no-fund")
	for _, o := range n.Omit {
		flags = append(flags, "--omit="+o)
	}
	for _, f := range [][2]string{{"cpu", n.CPU}, {"os", n.OS}, {"libc", n.Libc}} {
		if f[1] != "" {
			flags = append(flags, "--"+f[0]+"="+f[1])
		}
	}
	var b strings.Builder
	// set -x: the log shows each step as it runs ("+ npm ci ...").
	b.WriteString("# Generated from the target's npm block.\nset -eu\n")
	b.WriteString("if [ \"${MATRIX_LOCKED:-}\" = 1 ]; then\n")
	b.WriteString("  set -x\n  npm ci" + quoteAll(flags) + "\n")
	b.WriteString("else\n")
	b.WriteString("  set -x\n  npm install" + quoteAll(flags) + quoteAll(n.Install) + "\n")
	b.WriteString("  " + strings.ReplaceAll(pruneLock, "\n", "\n  ") + "\n")
	b.WriteString("fi\n")
	b.WriteString("find node_modules -type d -empty -delete\n")
	b.WriteString("{ set +x; } 2>/dev/null\n")
	if n.PostInstall != "" {
		b.WriteString("# The target's script, after the install:\n")
		b.WriteString("sh -c " + ShellQuote(n.PostInstall) + "\n")
	}
	return b.String()
}

func quoteAll(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(ShellQuote(a))
	}
	return b.String()
}

// ShellQuote gives s as one word of a POSIX shell command: as it is when it holds only
// characters no shell treats specially, else in single quotes (a single quote written
// as '\”).
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
