package pack

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// TestInspect: Options.Inspect sees every regular file of the archive once, by
// its archive name (prefix included, links dereferenced), with its content, in
// archive order and before anything is written; its error stops the packing.
func TestInspect(t *testing.T) {
	in := stream(t, dir("m/"), file("m/b", "B"), dir("m/d/"), exe("m/d/x", "XX"), symlink("m/l", "d/x"), symlink("m/e", "d"))
	type call struct{ name, body string }
	var calls []call
	inspect := func(name string, r io.ReaderAt, size int64) error {
		body, err := io.ReadAll(io.NewSectionReader(r, 0, size))
		calls = append(calls, call{name, string(body)})
		return err
	}
	out, _, err := pack(t, in, Options{Format: "zip", Prefix: "nodejs/", Inspect: inspect})
	if err != nil {
		t.Fatal(err)
	}
	want := []call{{"nodejs/m/b", "B"}, {"nodejs/m/d/x", "XX"}, {"nodejs/m/e/x", "XX"}, {"nodejs/m/l", "XX"}}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("Inspect calls = %v, want %v", calls, want)
	}
	if len(out) == 0 {
		t.Error("nothing written")
	}

	refuse := errors.New("wrong CPU")
	out, _, err = pack(t, in, Options{Inspect: func(name string, _ io.ReaderAt, _ int64) error {
		if name == "m/d/x" {
			return refuse
		}
		return nil
	}})
	if !errors.Is(err, refuse) || !strings.Contains(err.Error(), "m/d/x") || len(out) != 0 {
		t.Errorf("Write with a refusing Inspect: %v, %d bytes written; want the error naming m/d/x and nothing written", err, len(out))
	}
}
