package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestContextHost(t *testing.T) {
	dir := t.TempDir()
	writeContext := func(name, host string) {
		sum := sha256.Sum256([]byte(name))
		d := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "meta.json"), []byte(`{"Name":"`+name+`","Endpoints":{"docker":{"Host":"`+host+`","SkipTLSVerify":false}}}`), 0o644)
	}
	writeContext("remote", "ssh://builder@example.invalid")
	writeContext("colima", "unix:///home/u/.colima/default/docker.sock")
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{},"currentContext":"colima"}`), 0o644)

	tests := []struct {
		name string
		env  map[string]string
		want string
		err  string
	}{
		{"DOCKER_HOST wins", map[string]string{"DOCKER_HOST": "tcp://h:2376", "DOCKER_CONTEXT": "remote"}, "", ""},
		{"DOCKER_CONTEXT", map[string]string{"DOCKER_CONTEXT": "remote"}, "ssh://builder@example.invalid", ""},
		{"current context", nil, "unix:///home/u/.colima/default/docker.sock", ""},
		{"default context", map[string]string{"DOCKER_CONTEXT": "default"}, "", ""},
		{"unknown context", map[string]string{"DOCKER_CONTEXT": "nope"}, "", `docker context "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := contextHost(func(k string) string { return tc.env[k] }, dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got, err := contextHost(func(string) string { return "" }, t.TempDir()); got != "" || err != nil {
		t.Errorf("no config: %q, %v", got, err)
	}
}
