package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/manifest"
)

// ShardStatement is the statement of one shard of a merge, as read from the shard's
// output directory and checked against its records (the manifest's sha256 of it, its
// subjects against the shard's SHA256SUMS) before Merge is given it.
type ShardStatement struct {
	// Dir names the shard in errors only; it is not recorded.
	Dir       string
	Statement *Statement
	// SHA256 is the sha256 of the statement's bytes.
	SHA256 string
	// Taken are the artifacts the merge took from this shard: only their
	// dependencies are joined.
	Taken []string
}

// CheckSubjects says whether st's subjects are exactly the lines of sums (a
// SHA256SUMS), in their order: a shard's statement must vouch for what its records
// list, nothing more or less.
func CheckSubjects(st *Statement, sums []byte) error {
	var lines bytes.Buffer
	for _, s := range st.Subject {
		fmt.Fprintf(&lines, "%s  %s\n", s.Digest["sha256"], s.Name)
	}
	if !bytes.Equal(lines.Bytes(), sums) {
		return fmt.Errorf("its subjects are not the lines of %s", manifest.SumsName)
	}
	return nil
}

// Merge returns the statement of m, the manifest of a merge (matrix merge), made of
// its shards' statements, as one line of JSON like Build. The subjects and the
// artifacts of internalParameters are m's (exactly the merged SHA256SUMS); the
// external parameters, the tool version and the pack format are the shards', which
// must agree; resolvedDependencies are the shards' joined, deduplicated and sorted,
// a dependency that names the artifacts that used it kept only for the artifacts the
// merge took from that shard (a shard cannot add dependencies to another's
// artifacts, nor to artifacts that were not taken); runDetails name the merge as
// the run (its invocation ID and times) and list each shard's statement that
// contributed, with its run's invocation ID, times and the artifacts taken from it,
// as byproducts. A manifest without artifacts has no statement (nil).
func Merge(m *manifest.Manifest, shards []ShardStatement) ([]byte, error) {
	if len(m.Artifacts) == 0 {
		return nil, nil
	}
	var used []ShardStatement
	for _, s := range shards {
		if len(s.Taken) > 0 {
			used = append(used, s)
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("no shard statement for the %d merged artifacts", len(m.Artifacts))
	}
	st, err := statement(m, Inputs{})
	if err != nil {
		return nil, err
	}
	first := used[0]
	ext := first.Statement.Predicate.BuildDefinition.ExternalParameters
	internal := first.Statement.Predicate.BuildDefinition.InternalParameters
	for _, s := range used[1:] {
		if err := sameParameters(first, s); err != nil {
			return nil, err
		}
	}
	ext.Spec = m.Spec
	ext.Flags.SkipTests, ext.Flags.AllowDrift = m.SkipTests, m.AllowDrift
	if ext.Targets == nil {
		ext.Targets = []string{}
	}
	if ext.Variables == nil {
		ext.Variables = map[string]json.RawMessage{}
	}
	def := &st.Predicate.BuildDefinition
	def.ExternalParameters = ext
	def.InternalParameters.ToolVersion = internal.ToolVersion
	def.InternalParameters.PackFormatVersion = internal.PackFormatVersion
	if def.ResolvedDependencies, err = joinDependencies(used); err != nil {
		return nil, err
	}
	for _, s := range used {
		md := s.Statement.Predicate.RunDetails.Metadata
		st.Predicate.RunDetails.Byproducts = append(st.Predicate.RunDetails.Byproducts, ResourceDescriptor{
			Name:   FileName + " of shard run " + md.InvocationID,
			Digest: map[string]string{"sha256": s.SHA256},
			Annotations: map[string]any{"role": "shard statement", "invocationId": md.InvocationID,
				"startedOn": md.StartedOn.UTC(), "finishedOn": md.FinishedOn.UTC(), "artifacts": slices.Sorted(slices.Values(s.Taken))},
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", FileName, err)
	}
	return buf.Bytes(), nil
}

// sameParameters refuses two shards whose statements say they were built with other
// parameters than each other (the matrix file's path aside, which is the merge's).
func sameParameters(a, b ShardStatement) error {
	type params struct {
		Targets            []string
		Variables          map[string]json.RawMessage
		SensitiveVariables []string
		Locked             bool
		AllowDangling      bool
		ToolVersion        string
		SourceDateEpoch    int64
		PackFormatVersion  int
	}
	of := func(s ShardStatement) ([]byte, error) {
		d := s.Statement.Predicate.BuildDefinition
		p := params{d.ExternalParameters.Targets, d.ExternalParameters.Variables, d.ExternalParameters.SensitiveVariables,
			d.ExternalParameters.Flags.Locked, d.ExternalParameters.Flags.AllowDangling,
			d.InternalParameters.ToolVersion, d.InternalParameters.SourceDateEpoch, d.InternalParameters.PackFormatVersion}
		if len(p.Targets) == 0 {
			p.Targets = nil
		}
		if len(p.Variables) == 0 {
			p.Variables = nil
		}
		return json.Marshal(p)
	}
	pa, err := of(a)
	if err != nil {
		return err
	}
	pb, err := of(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(pa, pb) {
		return fmt.Errorf("the statements of shards %s and %s disagree on how they were built (targets, variables, --locked, --allow-dangling, tool version, SOURCE_DATE_EPOCH or pack format): %s, %s",
			a.Dir, b.Dir, pa, pb)
	}
	return nil
}

// joinDependencies joins the shards' resolved dependencies. One that names the
// artifacts that used it ("artifacts" annotation) keeps only those taken from its
// shard, and is dropped when none is; one that names none is of the shard's run (its
// matrix file's commit, its lock file). Equal dependencies are one, their artifacts
// joined; the result is sorted.
func joinDependencies(shards []ShardStatement) ([]ResourceDescriptor, error) {
	byKey := map[string]*ResourceDescriptor{}
	arts := map[string][]string{}
	for _, s := range shards {
		taken := map[string]bool{}
		for _, name := range s.Taken {
			taken[name] = true
		}
		for i, d := range s.Statement.Predicate.BuildDefinition.ResolvedDependencies {
			names, named, err := artifactsOf(d)
			if err != nil {
				return nil, fmt.Errorf("shard %s: %s: resolvedDependencies[%d]: %w", s.Dir, FileName, i, err)
			}
			var keep []string
			if named {
				for _, n := range names {
					if taken[n] {
						keep = append(keep, n)
					}
				}
				if len(keep) == 0 {
					continue
				}
			}
			ann := map[string]any{}
			for k, v := range d.Annotations {
				if k != "artifacts" {
					ann[k] = v
				}
			}
			d.Annotations = ann
			key, err := json.Marshal(d)
			if err != nil {
				return nil, err
			}
			if _, ok := byKey[string(key)]; !ok {
				byKey[string(key)] = &d
			}
			if named {
				arts[string(key)] = append(arts[string(key)], keep...)
			}
		}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range byKey {
			if !yield(k) {
				return
			}
		}
	})
	deps := make([]ResourceDescriptor, 0, len(keys))
	for _, k := range keys {
		d := byKey[k]
		if names, ok := arts[k]; ok {
			slices.Sort(names)
			d.Annotations["artifacts"] = slices.Compact(names)
		}
		if len(d.Annotations) == 0 {
			d.Annotations = nil
		}
		deps = append(deps, *d)
	}
	slices.SortStableFunc(deps, func(a, b ResourceDescriptor) int {
		return strings.Compare(a.Name+"\x00"+a.URI, b.Name+"\x00"+b.URI)
	})
	return deps, nil
}

// artifactsOf reads a dependency's "artifacts" annotation: a list of file names, or
// none.
func artifactsOf(d ResourceDescriptor) ([]string, bool, error) {
	v, ok := d.Annotations["artifacts"]
	if !ok {
		return nil, false, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("its artifacts annotation is not a list of file names")
	}
	names := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false, fmt.Errorf("its artifacts annotation is not a list of file names")
		}
		names = append(names, s)
	}
	return names, true, nil
}
