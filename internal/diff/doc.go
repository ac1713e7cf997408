// Package diff is Go's own src/internal/diff of Go 1.26.8, copied unchanged (BSD
// licence, LICENSE beside it): the anchored unified diff that gofmt -d prints, in
// O(n log n) time, so that matrix fmt -diff shows what gofmt users know. The standard
// library keeps it internal; a copy is smaller than a dependency.
package diff
