package merge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/provenance"
)

// sameVariables refuses a shard whose run gave the matrix file's variables other
// values than the merge plans with (opts.Variables): the same file bytes then make
// other cells under the same names. What the run gave them is in its statement,
// the one its manifest records; a shard without one (an older matrix) is not
// checked, nor are the values of sensitive variables, which no statement records.
func sameVariables(root *os.Root, dir string, rec *manifest.Record, opts Options) error {
	want := rec.Manifest.ProvenanceSHA256
	if opts.Variables == nil || want == "" {
		return nil
	}
	name := provenance.FileName
	if rec.PendingProvenance != "" {
		name = rec.PendingProvenance
	}
	data, err := atomicfile.ReadRegular(root, name, manifest.MaxSize)
	if err != nil {
		return fmt.Errorf("shard %s: %w", dir, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
		return fmt.Errorf("shard %s: %s is not the statement %s records", dir, provenance.FileName, manifest.FileName)
	}
	st, err := provenance.Parse(data)
	if err != nil {
		return fmt.Errorf("shard %s: %s: %w", dir, provenance.FileName, err)
	}
	got := st.Predicate.BuildDefinition.ExternalParameters.Variables
	var names []string
	for name := range opts.Variables {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := opts.Variables[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if !bytes.Equal(got[name], opts.Variables[name]) {
			return fmt.Errorf("shard %s: its run gave the variable %s the value %s, not %s: give the merge the shards' --var and --var-file",
				dir, name, shownValue(got[name]), shownValue(opts.Variables[name]))
		}
	}
	return nil
}

// shownValue is a recorded variable's JSON, or that it has none.
func shownValue(v []byte) string {
	if v == nil {
		return "(none)"
	}
	const most = 200
	if len(v) > most {
		return string(v[:most]) + "..."
	}
	return string(v)
}
