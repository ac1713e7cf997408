package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Variables returns the settled values of the file's variables as JSON, for a record
// of how artifacts were made: the sensitive variables' values are left out (their
// names are in sensitive, sorted), as is a value that is not known or cannot be
// written as JSON.
func (f *File) Variables() (values map[string]json.RawMessage, sensitive []string) {
	values = map[string]json.RawMessage{}
	if f.ctx == nil {
		return values, nil
	}
	obj := f.ctx.Variables["var"]
	if obj.IsNull() || !obj.IsKnown() || !obj.Type().IsObjectType() {
		return values, nil
	}
	for name, v := range obj.AsValueMap() {
		if f.sens.vars[name] {
			sensitive = append(sensitive, name)
			continue
		}
		if !v.IsWhollyKnown() {
			continue
		}
		data, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			continue
		}
		values[name] = data
	}
	slices.Sort(sensitive)
	return values, sensitive
}

// VarFile writes values, variables as Variables returns them (JSON), as a variable
// file (--var-file) that sets each to its value: how a rebuild gives a run's recorded
// variables back. Names are sorted; a name or value that is not one is an error.
func VarFile(values map[string]json.RawMessage) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !hclsyntax.ValidIdentifier(name) {
			return nil, fmt.Errorf("variable %q: not a variable name", name)
		}
		ty, err := ctyjson.ImpliedType(values[name])
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
		v, err := ctyjson.Unmarshal(values[name], ty)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", name, err)
		}
		body.SetAttributeValue(name, v)
	}
	return f.Bytes(), nil
}
