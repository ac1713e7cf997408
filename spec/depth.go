package spec

import (
	"maps"
	"reflect"
	"slices"

	"github.com/zclconf/go-cty/cty"
)

// maxValueDepth bounds how deeply a local value nests: lists, tuples, maps and objects
// inside one another. go-cty converts, compares, walks and encodes values by recursion,
// once per level, so that a chain of locals each wrapping the one before in 255
// brackets, a file of 800 kB, makes a value a million levels deep that exhausts the
// stack. encoding/json, and so jsondecode, stops at 10,000 levels too.
const maxValueDepth = 10_000

// typeDepths measures how deeply the values of a type nest (a value nests as deeply as
// its type). It remembers the tuple and object types it measured, by the identity of
// their element types: the type of a local holds, whole, the types of the locals it
// is made of, measured before, so that a chain of locals costs each one its own part.
type typeDepths map[typeIdentity]measuredType

type typeIdentity struct {
	elems uintptr // the address of a tuple's element types or an object's attribute types
	n     int
	tuple bool
}

type measuredType struct {
	ty    cty.Type // keeps what typeIdentity.elems points to in use, so that it is not another type's later
	depth int
}

// depth is how deeply values of ty nest, 0 for a primitive; more than limit when they
// nest deeper than limit (then it stops counting).
func (m typeDepths) depth(ty cty.Type, limit int) int {
	if limit < 0 {
		return 0 // the caller is past its limit already
	}
	switch {
	case ty.IsListType(), ty.IsSetType(), ty.IsMapType():
		return 1 + m.depth(ty.ElementType(), limit-1)
	case ty.IsTupleType():
		elems := ty.TupleElementTypes()
		return m.measure(ty, typeIdentity{reflect.ValueOf(elems).Pointer(), len(elems), true}, limit, func() []cty.Type { return elems })
	case ty.IsObjectType():
		attrs := ty.AttributeTypes()
		return m.measure(ty, typeIdentity{reflect.ValueOf(attrs).Pointer(), len(attrs), false}, limit, func() []cty.Type {
			return slices.Collect(maps.Values(attrs))
		})
	}
	return 0
}

// measure is the depth of a tuple or object type ty (identified by id), one more than
// its deepest element type, remembered when it is exact (within limit).
func (m typeDepths) measure(ty cty.Type, id typeIdentity, limit int, elems func() []cty.Type) int {
	if known, ok := m[id]; ok {
		return known.depth
	}
	d := 0
	for _, e := range elems() {
		if d = max(d, m.depth(e, limit-1)); d >= limit {
			break
		}
	}
	if d < limit && id.elems != 0 {
		m[id] = measuredType{ty, 1 + d}
	}
	return 1 + d
}
