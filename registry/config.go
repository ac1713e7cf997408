package registry

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// maxNpmrc bounds an .npmrc file, which is read whole: real ones are a few lines.
const maxNpmrc = 1 << 20

// DefaultRegistry is npm's public registry, used when no configuration names another.
const DefaultRegistry = "https://registry.npmjs.org/"

// Config is the registry configuration as npm users write it: which registry serves
// which package, and the credentials for them. Its credentials cannot be read back or
// printed: they go only into the Authorization header of requests to the registry
// they were written for.
type Config struct {
	// Registry serves unscoped packages and scopes without a registry of their own.
	// It ends in "/" and carries no credentials.
	Registry string
	// Scopes maps "@scope" to the registry for that scope's packages.
	Scopes map[string]string
	// ExtraCAFile is a PEM file of certificates trusted besides the system's
	// (NODE_EXTRA_CA_CERTS, as Node reads it).
	ExtraCAFile string

	// A pointer, so that printing a Config (%v, %+v, %#v) prints an address, never a
	// credential.
	creds *credentials
}

// RegistryFor returns the registry that serves the package name.
func (c Config) RegistryFor(name string) string {
	if scope, _, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(scope, "@") {
		if r, ok := c.Scopes[scope]; ok {
			return r
		}
	}
	if c.Registry == "" {
		return DefaultRegistry
	}
	return c.Registry
}

// LoadConfig reads the configuration npm would use for a project in projectDir (the
// matrix file's directory): the environment (npm_config_registry, NPM_CONFIG_REGISTRY,
// npm_config_userconfig, NODE_EXTRA_CA_CERTS), projectDir/.npmrc, then the user's
// .npmrc; the first to set a key wins, as in npm. projectDir "" reads no project file.
func LoadConfig(projectDir string) (Config, error) {
	home, _ := os.UserHomeDir()
	return loadConfig(projectDir, home, os.LookupEnv)
}

// A source is one layer of configuration, highest precedence first.
type source struct {
	name    string // a file name, or "environment"
	entries []entry
}

type entry struct {
	line       int
	key, value string
	unset      []string // variables the value named that were not set
}

func loadConfig(projectDir, home string, env func(string) (string, bool)) (Config, error) {
	var layers []source
	var envEntries []entry
	for _, k := range []string{"npm_config_registry", "NPM_CONFIG_REGISTRY"} {
		if v, ok := env(k); ok && v != "" {
			envEntries = append(envEntries, entry{key: "registry", value: v})
			break
		}
	}
	layers = append(layers, source{name: "environment", entries: envEntries})

	files := []string{}
	if projectDir != "" {
		files = append(files, filepath.Join(projectDir, ".npmrc"))
	}
	userconfig := ""
	for _, k := range []string{"npm_config_userconfig", "NPM_CONFIG_USERCONFIG"} {
		if v, ok := env(k); ok && v != "" {
			userconfig = v
			break
		}
	}
	if userconfig == "" && home != "" {
		userconfig = filepath.Join(home, ".npmrc")
	}
	if userconfig != "" {
		files = append(files, userconfig)
	}
	for _, f := range files {
		data, err := atomicfile.ReadFile(f, maxNpmrc)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, fmt.Errorf("npm configuration: %w", err)
		}
		layers = append(layers, source{name: f, entries: parseNpmrc(string(data), env)})
	}

	cfg := Config{Scopes: map[string]string{}, creds: &credentials{}}
	if f, ok := env("NODE_EXTRA_CA_CERTS"); ok {
		cfg.ExtraCAFile = f
	}
	seen := map[string]bool{}
	for _, src := range layers {
		// Within a file the last line of a key wins, across layers the first layer.
		for _, e := range slices.Backward(src.entries) {
			if seen[e.key] {
				continue
			}
			seen[e.key] = true
			if err := cfg.set(src.name, e); err != nil {
				return Config{}, err
			}
		}
	}
	if cfg.Registry == "" {
		cfg.Registry = DefaultRegistry
	}
	return cfg, nil
}

// ConfigError says which setting of which file is wrong; it never holds the value,
// which may be a secret.
type ConfigError struct {
	File string // a file name, or "environment"
	Line int    // 0 for the environment
	Key  string
	Err  error
}

func (e *ConfigError) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("npm configuration %s: %s: %v", where, e.Key, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

func (c *Config) set(file string, e entry) error {
	fail := func(err error) error { return &ConfigError{File: file, Line: e.line, Key: e.key, Err: err} }
	switch {
	case e.key == "registry":
		u, err := c.registryURL(e.value, file, e.line)
		if err != nil {
			return fail(err)
		}
		c.Registry = u
	case strings.HasPrefix(e.key, "@") && strings.HasSuffix(e.key, ":registry"):
		scope := strings.TrimSuffix(e.key, ":registry")
		if strings.ContainsAny(scope, "/ ") || len(scope) < 2 {
			return fail(errors.New("not a scope"))
		}
		u, err := c.registryURL(e.value, file, e.line)
		if err != nil {
			return fail(err)
		}
		c.Scopes[scope] = u
	case strings.HasPrefix(e.key, "//"):
		prefix, field, ok := cutLast(e.key, ":")
		if !ok {
			return nil
		}
		var header string
		switch field {
		case "_authToken":
			header = "Bearer " + e.value
		case "_auth":
			header = "Basic " + e.value
		default:
			return nil // certfile, username, email...: not used here
		}
		if e.value == "" {
			return nil // as in npm: no credential, e.g. ${NPM_TOKEN?} with the variable unset
		}
		c.creds.add(credential{prefix: prefix, header: header, from: where(file, e.line), unset: e.unset})
	}
	return nil
}

func where(file string, line int) string {
	if line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

// registryURL checks a registry URL and normalizes it to end in "/"; credentials
// written in the URL move to the credentials, so that the URL can be printed.
func (c *Config) registryURL(s, file string, line int) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("not an http or https URL")
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	if u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		u.User = nil
		c.creds.add(credential{
			prefix: nerfDart(u),
			header: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)),
			from:   where(file, line),
		})
	}
	return u.String(), nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// nerfDart is npm's key for a registry URL: "//host[:port]/path/", the path up to its
// last "/", without scheme, credentials, query or fragment.
func nerfDart(u *url.URL) string {
	p := u.EscapedPath()
	p = p[:strings.LastIndex(p, "/")+1]
	if p == "" {
		p = "/"
	}
	return "//" + hostKey(u) + p
}

// hostKey is the URL's host as a WHATWG URL gives it: lower case, without the
// scheme's default port.
func hostKey(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}
