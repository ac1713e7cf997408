package provenance_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/matrixbuild/matrix/provenance"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitCommit: the commit is git's own HEAD for a loose ref, a packed ref, a
// detached HEAD, a subdirectory and a worktree (a .git file); outside a repository
// there is none.
func TestGitCommit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to make the repositories of this test")
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	os.MkdirAll(filepath.Join(repo, "sub"), 0o755)
	os.WriteFile(filepath.Join(repo, "sub", "matrix.hcl"), []byte("# x\n"), 0o644)
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "one")
	first := git(t, repo, "rev-parse", "HEAD")
	check := func(name, dir, want string) {
		t.Helper()
		got, err := provenance.GitCommit(dir)
		if err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, want)
		}
	}
	check("loose ref", filepath.Join(repo, "sub"), first)
	git(t, repo, "pack-refs", "--all")
	check("packed ref", repo, first)
	os.WriteFile(filepath.Join(repo, "sub", "matrix.hcl"), []byte("# y\n"), 0o644)
	git(t, repo, "commit", "-qam", "two")
	second := git(t, repo, "rev-parse", "HEAD")
	check("loose over packed", repo, second)
	git(t, repo, "checkout", "-q", first)
	check("detached", repo, first)
	git(t, repo, "checkout", "-q", "main")
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, repo, "worktree", "add", "-q", "-b", "other", wt, first)
	check("worktree", wt, first)

	if _, err := provenance.GitCommit(t.TempDir()); !errors.Is(err, provenance.ErrNoRepository) && err != nil {
		t.Errorf("outside a repository: %v", err)
	}
}

// TestGitCommitHostile: a repository is read, never obeyed: a HEAD that names a path
// outside refs/, a ref that is a link or a fifo, a commit that is not hex, a .git
// that is a link are refused, quickly.
func TestGitCommitHostile(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte(strings.Repeat("a", 40)+"\n"), 0o644)
	cases := map[string]func(gitdir string){
		"ref outside refs": func(g string) { os.WriteFile(filepath.Join(g, "HEAD"), []byte("ref: ../../secret\n"), 0o644) },
		"ref a link": func(g string) {
			os.WriteFile(filepath.Join(g, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
			os.MkdirAll(filepath.Join(g, "refs", "heads"), 0o755)
			os.Symlink(secret, filepath.Join(g, "refs", "heads", "main"))
		},
		"ref a fifo": func(g string) {
			os.WriteFile(filepath.Join(g, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
			os.MkdirAll(filepath.Join(g, "refs", "heads"), 0o755)
			syscall.Mkfifo(filepath.Join(g, "refs", "heads", "main"), 0o644)
		},
		"not hex":   func(g string) { os.WriteFile(filepath.Join(g, "HEAD"), []byte(strings.Repeat("z", 40)+"\n"), 0o644) },
		"huge HEAD": func(g string) { os.WriteFile(filepath.Join(g, "HEAD"), []byte(strings.Repeat("a", 1<<20)), 0o644) },
	}
	for name, prepare := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			g := filepath.Join(dir, ".git")
			os.Mkdir(g, 0o755)
			prepare(g)
			done := make(chan error, 1)
			go func() { _, err := provenance.GitCommit(dir); done <- err }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("accepted")
				}
			case <-time.After(10 * time.Second): // a hang guard, not a speed test
				t.Fatal("GitCommit hangs")
			}
		})
	}
	dir := t.TempDir()
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "HEAD"), []byte(strings.Repeat("a", 40)+"\n"), 0o644)
	os.Symlink(other, filepath.Join(dir, ".git"))
	if _, err := provenance.GitCommit(dir); err == nil {
		t.Error(".git a link: followed")
	}
}
