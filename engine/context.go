package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// dockerConfigDir is where the Docker CLI keeps its configuration and contexts.
func dockerConfigDir() string {
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}

// maxConfigFile bounds the Docker CLI files read for a context (config.json,
// meta.json): kilobytes in practice, read whole.
const maxConfigFile = 4 << 20

// contextHost returns the engine address of the Docker CLI context in use, as the
// CLI chooses it: DOCKER_HOST wins (the client reads it itself, so "" is returned),
// then DOCKER_CONTEXT, then the currentContext of config.json. The context "default",
// or none, also gives "": the client's default socket. Only the host is taken from a
// context; a context's TLS material is not read (use DOCKER_TLS_VERIFY and
// DOCKER_CERT_PATH for a TLS engine). An ssh:// host is reached over ssh by
// ConnectHost, as any other ssh:// address.
func contextHost(getenv func(string) string, configDir string) (string, error) {
	if getenv("DOCKER_HOST") != "" {
		return "", nil
	}
	name := getenv("DOCKER_CONTEXT")
	if name == "" {
		data, err := atomicfile.ReadFile(filepath.Join(configDir, "config.json"), maxConfigFile)
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("reading the Docker CLI configuration: %w", err)
		}
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Join(configDir, "config.json"), err)
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return "", nil
	}
	// The CLI stores a context's metadata under the sha256 of its name.
	sum := sha256.Sum256([]byte(name))
	path := filepath.Join(configDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json")
	data, err := atomicfile.ReadFile(path, maxConfigFile)
	if err != nil {
		return "", fmt.Errorf("docker context %q: %w", name, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(data, &meta); err != nil {
		return "", fmt.Errorf("docker context %q: %s: %w", name, path, err)
	}
	host := meta.Endpoints["docker"].Host
	if host == "" {
		return "", fmt.Errorf("docker context %q: %s names no docker endpoint", name, path)
	}
	return host, nil
}
