package engine

import (
	"context"
	"testing"
)

// TestResolveInspectsOncePerRun: the cells of one image take the image the first
// Resolve found; another platform of the same reference is resolved apart.
func TestResolveInspectsOncePerRun(t *testing.T) {
	fake := newFake()
	fake.images["node:22"] = fakeImage("linux/amd64")
	e := fakeEngine(fake, PullMissing)
	for range 3 {
		if img, err := e.Resolve(context.Background(), "node:22", "linux/amd64"); err != nil || img.ID != "sha256:linux/amd64" {
			t.Fatalf("Resolve = %+v, %v", img, err)
		}
	}
	if fake.inspects != 1 {
		t.Errorf("%d inspections of one image for three cells, want 1", fake.inspects)
	}
	if _, err := e.Resolve(context.Background(), "node:22", ""); err != nil {
		t.Fatal(err)
	}
	if fake.inspects != 2 {
		t.Errorf("%d inspections after another platform, want 2", fake.inspects)
	}
}
