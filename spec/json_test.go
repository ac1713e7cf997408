package spec

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/matrixbuild/matrix/plan"
)

// TestCellJSONRoundTrip plans testdata/matrix.hcl, a copy of the example matrix file
// (the root matrix.hcl may change without breaking this test).
func TestCellJSONRoundTrip(t *testing.T) {
	f, cells, diags := LoadPlan(context.Background(), "testdata/matrix.hcl", Options{VarFiles: []string{"testdata/offline.hcl"}, Vars: []string{"npm_cache=true"}})
	if len(diags) > 0 {
		t.Fatal(render(f, diags))
	}
	data, err := json.Marshal(cells)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"timeout":"20m0s"`, `"max_size":209715200`, `{"name":"node","value":20}`, `"name":"sharp-lambda[sharp=0.33.5,node=20,arch=x64]"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	var back []plan.Cell
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cells) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back[0], cells[0])
	}
	if len(cells[0].Mounts) != 2 || cells[0].Mounts[1].Target != "/root/.npm" {
		t.Errorf("mounts = %+v, want the CA bundle and the npm cache", cells[0].Mounts)
	}
}
