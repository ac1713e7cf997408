package registry

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestParseNpmrc(t *testing.T) {
	env := envOf(map[string]string{"TOKEN": "s3cret", "HOST": "npm.example", "EMPTY": ""})
	tests := []struct {
		name string
		text string
		want []entry
	}{
		{"plain", "registry=https://npm.example/\n",
			[]entry{{line: 1, key: "registry", value: "https://npm.example/"}}},
		{"spaces and CRLF", "  registry = https://npm.example/  \r\n",
			[]entry{{line: 1, key: "registry", value: "https://npm.example/"}}},
		{"comments", "; a comment\n# another\n\nregistry=https://a.example/ ; trailing\n",
			[]entry{{line: 4, key: "registry", value: "https://a.example/"}}},
		{"escaped comment characters", `key=a\;b\#c\d` + "\n",
			[]entry{{line: 1, key: "key", value: `a;b#c\d`}}},
		{"double quotes", `key="a;b # c"` + "\n",
			[]entry{{line: 1, key: "key", value: "a;b # c"}}},
		{"single quotes", `key='a;b'` + "\n",
			[]entry{{line: 1, key: "key", value: "a;b"}}},
		{"scoped registry", "@img:registry=https://img.example/npm/\n",
			[]entry{{line: 1, key: "@img:registry", value: "https://img.example/npm/"}}},
		{"token with env", "//npm.example/:_authToken=${TOKEN}\n",
			[]entry{{line: 1, key: "//npm.example/:_authToken", value: "s3cret"}}},
		{"env in key", "//${HOST}/:_authToken=x\n",
			[]entry{{line: 1, key: "//npm.example/:_authToken", value: "x"}}},
		{"unset variable stays", "//npm.example/:_authToken=${NPM_TOKEN}\n",
			[]entry{{line: 1, key: "//npm.example/:_authToken", value: "${NPM_TOKEN}", unset: []string{"NPM_TOKEN"}}}},
		{"unset optional variable is empty", "key=a${NPM_TOKEN?}b\n",
			[]entry{{line: 1, key: "key", value: "ab"}}},
		{"set empty variable", "key=a${EMPTY}b\n",
			[]entry{{line: 1, key: "key", value: "ab"}}},
		{"escaped variable", `key=\${TOKEN}` + "\n",
			[]entry{{line: 1, key: "key", value: "${TOKEN}"}}},
		// ini takes one level of backslashes, the expansion the next.
		{"backslashes before variable", `key=\\${TOKEN}` + "\n",
			[]entry{{line: 1, key: "key", value: "${TOKEN}"}}},
		{"escaped backslash before variable", `key=\\\\${TOKEN}` + "\n",
			[]entry{{line: 1, key: "key", value: `\s3cret`}}},
		{"key without value", "strict-ssl\n",
			[]entry{{line: 1, key: "strict-ssl", value: "true"}}},
		{"array key", "ca[]=x\n",
			[]entry{{line: 1, key: "ca", value: "x"}}},
		{"sections ignored", "registry=https://a.example/\n[section]\nregistry=https://b.example/\n",
			[]entry{{line: 1, key: "registry", value: "https://a.example/"}}},
		{"unterminated variable", "key=${TOKEN\n",
			[]entry{{line: 1, key: "key", value: "${TOKEN"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNpmrc(tt.text, env)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseNpmrc(%q)\n got %+v\nwant %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestNerfDartAndCredentialMatching(t *testing.T) {
	creds := &credentials{}
	for _, p := range []string{"//npm.example/", "//corp.example/npm/", "//ports.example:8443/"} {
		creds.add(credential{prefix: p, header: "Bearer " + p})
	}
	tests := []struct {
		url  string
		nerf string
		cred string // "" when none
	}{
		{"https://npm.example/sharp", "//npm.example/", "//npm.example/"},
		{"http://npm.example/@img%2fsharp-linux-x64", "//npm.example/", "//npm.example/"},
		{"https://NPM.example:443/sharp", "//npm.example/", "//npm.example/"},
		{"https://npm.example:8443/sharp", "//npm.example:8443/", ""},
		{"https://corp.example/npm/sharp", "//corp.example/npm/", "//corp.example/npm/"},
		{"https://corp.example/other/sharp", "//corp.example/other/", ""},
		{"https://corp.example/npmx/sharp", "//corp.example/npmx/", ""},
		{"https://ports.example:8443/a/b", "//ports.example:8443/a/", "//ports.example:8443/"},
		{"https://evil.example/npm.example/sharp", "//evil.example/npm.example/", ""},
		{"https://npm.example.evil.example/sharp", "//npm.example.evil.example/", ""},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := nerfDart(u); got != tt.nerf {
			t.Errorf("nerfDart(%s) = %q, want %q", tt.url, got, tt.nerf)
		}
		cr, ok := creds.forURL(u)
		if got := map[bool]string{true: cr.prefix}[ok]; got != tt.cred {
			t.Errorf("credential for %s = %q, want %q", tt.url, got, tt.cred)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfigPrecedence(t *testing.T) {
	home, project := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(home, ".npmrc"), strings.Join([]string{
		"registry=https://user.example/",
		"@img:registry=https://user-img.example",
		"@own:registry=https://own.example/npm",
		"//own.example/npm/:_authToken=user-token",
	}, "\n"))
	writeFile(t, filepath.Join(project, ".npmrc"), strings.Join([]string{
		"registry=https://project.example/",
		"@img:registry=https://first.example/",
		"@img:registry=https://img.example/",
		"//img.example/:_authToken=${IMG_TOKEN}",
		"//unset.example/:_authToken=${UNSET_TOKEN?}",
	}, "\n"))

	tests := []struct {
		name     string
		env      map[string]string
		project  string
		registry string
	}{
		{"project wins over user", nil, project, "https://project.example/"},
		{"user without project", nil, "", "https://user.example/"},
		{"environment wins", map[string]string{"npm_config_registry": "https://env.example"}, project, "https://env.example/"},
		{"upper-case environment", map[string]string{"NPM_CONFIG_REGISTRY": "https://upper.example/"}, project, "https://upper.example/"},
		{"userconfig moves the user file", map[string]string{"npm_config_userconfig": filepath.Join(project, "none")}, "", DefaultRegistry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(tt.project, home, envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Registry != tt.registry {
				t.Errorf("Registry = %q, want %q", cfg.Registry, tt.registry)
			}
		})
	}

	cfg, err := loadConfig(project, home, envOf(map[string]string{"IMG_TOKEN": "img-token"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RegistryFor("@img/sharp-linux-x64"); got != "https://img.example/" {
		t.Errorf("@img registry = %q; the project's last line should win", got)
	}
	if got := cfg.RegistryFor("@own/x"); got != "https://own.example/npm/" {
		t.Errorf("@own registry = %q", got)
	}
	if got := cfg.RegistryFor("@other/x"); got != "https://project.example/" {
		t.Errorf("@other registry = %q", got)
	}
	for _, c := range []struct{ url, header string }{
		{"https://img.example/@img%2fsharp-linux-x64", "Bearer img-token"},
		{"https://own.example/npm/@own%2fx", "Bearer user-token"},
		{"https://project.example/sharp", ""},
		{"https://unset.example/sharp", ""},
	} {
		u, _ := url.Parse(c.url)
		cr, _ := cfg.creds.forURL(u)
		if cr.header != c.header {
			t.Errorf("Authorization for %s = %q, want %q", c.url, cr.header, c.header)
		}
	}
}

func TestLoadConfigErrorsAndSecrets(t *testing.T) {
	project := t.TempDir()
	writeFile(t, filepath.Join(project, ".npmrc"), "registry=https://user:p4ssw0rd@npm.example/npm\n//npm.example/:_authToken=t0ken\n")
	cfg, err := loadConfig(project, "", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Registry != "https://npm.example/npm/" {
		t.Errorf("Registry = %q: credentials should move out of the URL", cfg.Registry)
	}
	u, _ := url.Parse("https://npm.example/npm/sharp")
	if cr, _ := cfg.creds.forURL(u); cr.header != "Basic dXNlcjpwNHNzdzByZA==" {
		t.Errorf("the URL's credentials should serve its path, got %q", cr.header)
	}
	for _, printed := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg),
		fmt.Sprintf("%v", cfg.creds), fmt.Sprintf("%#v", cfg.creds),
	} {
		for _, secret := range []string{"p4ssw0rd", "t0ken", "dXNlcjpwNHNzdzByZA"} {
			if strings.Contains(printed, secret) {
				t.Errorf("printing the configuration shows a secret: %s", printed)
			}
		}
	}

	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, ".npmrc"), "\n@img:registry=ftp://s3cret@npm.example/\n")
	_, err = loadConfig(bad, "", envOf(nil))
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bad, ".npmrc")+":2") || !strings.Contains(err.Error(), "@img:registry") {
		t.Errorf("error %v should name the file, line and key", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v shows the value", err)
	}
}
