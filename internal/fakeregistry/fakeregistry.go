// Package fakeregistry is an npm registry for tests: an httptest server that serves
// packuments from memory (by default the trimmed real ones in registry/testdata), counts
// the requests per package and can be told to fail. Only tests import it.
package fakeregistry

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Registry is a running fake registry.
type Registry struct {
	*httptest.Server
	t testing.TB

	mu       sync.Mutex
	docs     map[string][]byte
	requests []*http.Request
	refuse   string // when set, every request fails the test with this text
}

// New starts a registry serving the packuments of registry/testdata (sharp,
// @img/sharp-linux-x64, uuid); it stops when the test ends.
func New(t testing.TB) *Registry {
	r := &Registry{t: t, docs: map[string][]byte{}}
	for name, file := range map[string]string{
		"sharp":                "sharp.json",
		"@img/sharp-linux-x64": "img-sharp-linux-x64.json",
		"uuid":                 "uuid.json",
	} {
		data, err := os.ReadFile(filepath.Join(testdata(), file))
		if err != nil {
			t.Fatal(err)
		}
		r.docs[name] = data
	}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// testdata is registry/testdata, found from this file's place in the module so that
// tests of any package can use it.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "registry", "testdata")
}

// URL is the registry's address, ending in "/", as npm configuration writes it.
func (r *Registry) URL() string { return r.Server.URL + "/" }

// Refuse makes every later request fail the test: for commands that must answer
// from matrix.lock.json alone. Refuse("") answers requests again.
func (r *Registry) Refuse(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = why
}

// Edit changes a package's document: edit gets it decoded and changes it in place.
func (r *Registry) Edit(name string, edit func(doc map[string]any)) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var doc map[string]any
	if err := json.Unmarshal(r.docs[name], &doc); err != nil {
		r.t.Fatal(err)
	}
	edit(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		r.t.Fatal(err)
	}
	r.docs[name] = data
}

// Publish adds a version to a package's document, as a copy of an existing one with
// the publish time given (RFC 3339).
func (r *Registry) Publish(name, from, version, published string) {
	r.Edit(name, func(doc map[string]any) {
		versions := doc["versions"].(map[string]any)
		m := map[string]any{}
		for k, v := range versions[from].(map[string]any) {
			m[k] = v
		}
		m["version"] = version
		versions[version] = m
		doc["time"].(map[string]any)[version] = published
	})
}

// Deprecate sets a version's deprecation message.
func (r *Registry) Deprecate(name, version, message string) {
	r.Edit(name, func(doc map[string]any) {
		doc["versions"].(map[string]any)[version].(map[string]any)["deprecated"] = message
	})
}

// Unpublish removes a version.
func (r *Registry) Unpublish(name, version string) {
	r.Edit(name, func(doc map[string]any) {
		delete(doc["versions"].(map[string]any), version)
		delete(doc["time"].(map[string]any), version)
	})
}

// Requests returns the number of requests per package name.
func (r *Registry) Requests() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, req := range r.requests {
		out[packageName(req)]++
	}
	return out
}

// Headers returns the value of a header in each request, in order.
func (r *Registry) Headers(key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		out = append(out, req.Header.Get(key))
	}
	return out
}

func packageName(req *http.Request) string {
	return strings.Replace(strings.TrimPrefix(req.URL.EscapedPath(), "/"), "%2f", "/", 1)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	doc, ok := r.docs[packageName(req)]
	refuse := r.refuse
	r.mu.Unlock()
	if refuse != "" {
		r.t.Errorf("the registry was asked for %s: %s", req.URL.Path, refuse)
		http.Error(w, "refused by the test", http.StatusBadRequest) // not retried
		return
	}
	if !ok {
		http.Error(w, `{"error":"Not found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}
