package spec

import (
	"encoding/json"
	"slices"

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
