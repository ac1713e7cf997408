// Package manifest defines manifest.json and SHA256SUMS, the record of a run that sits
// beside its artifacts, and checks artifacts against them.
//
// The schema is versioned by SchemaVersion; a reader refuses a version it does not know.
// See README.md, "Output: SHA256SUMS and manifest.json", for the documented fields.
//
// # The pair is written as one unit
//
// SHA256SUMS and manifest.json are two files, and no file system renames two files at
// once. Write makes the pair change as one all the same:
//
//  1. Both are written under temporary names (.SHA256SUMS.tmp-N, .manifest.json.tmp-N)
//     and fsynced, then the directory is fsynced. A full disk or a crash up to here
//     leaves the earlier pair as it was; the temporaries are removed (by Write, or by
//     the next run's clean-up).
//  2. SHA256SUMS is renamed into place, the directory fsynced, then manifest.json is
//     renamed into place, LAST, and the directory fsynced again.
//
// The manifest records the sha256 of the SHA256SUMS written with it
// (sha256sums_sha256), so a reader tells whether the two on disk belong together.
// Between the two renames they do not: SHA256SUMS is the new one, manifest.json the
// earlier one, and the new manifest is beside them, complete and synced, under its
// temporary name (Write keeps it there when the second rename fails). ReadRecord finds
// it, the temporary manifest whose sha256sums_sha256 is that of the SHA256SUMS on
// disk, and takes it for the directory's manifest (Record.Pending); a run that holds
// the directory puts it in place (Record.Complete) before it cleans up temporaries,
// and Verify checks the artifacts against it. A manifest written before the field
// existed belongs with the SHA256SUMS that Write makes of its artifacts.
//
// The run's statement, provenance.intoto.jsonl (WriteWithProvenance), is part of the
// unit: its temporary is synced with the others', it is renamed after SHA256SUMS and
// before manifest.json, and the manifest records its sha256 (provenance_sha256). A
// pending manifest thus names its statement, which Record.Complete puts in place too
// when a writer stopped before renaming it (Record.PendingProvenance).
//
// # Artifacts and records agree
//
// A run publishes each artifact when its cell is done and writes the records last, so
// a run stopped in between (a full disk while recording, a kill) would leave a new
// artifact beside records of the one it replaced. So each replacement stays undoable
// until the records are committed: before the staged artifact is renamed over
// OUT/NAME, the runner makes an undo entry (atomicfile.SetAside, directory synced):
// .NAME.tmp-was-N, a second name of the earlier file (or the file itself, renamed,
// where there are no hard links), or a .NAME.tmp-new-N naming the new file (its device
// and inode) when there was no file. Only an entry a run can have made counts: a
// regular file, of a NAME that passes the artifact name rule, and a new-file entry
// only while NAME is the file it names (Record.Replaced); anything else under such a
// name is a temporary, and a run removes it as one.
// Once the records are written, the entries go. The record on disk decides what an
// entry left behind means (Record.Replaced): the replacement stands when the record
// lists NAME and the file hashes as listed; otherwise it is undone, the earlier file
// renamed back, or NAME removed when there was none. Stopped at each step, for an
// artifact that replaces a recorded one (R0: the earlier records, R1: this run's):
//
//	stopped after                          on disk                       the next run, or the run itself when recording fails
//	staging .NAME.tmp-N                    NAME=old, R0                  removes the temporary
//	SetAside (link, dir synced)            NAME=old, entry=old, R0       stands (R0 lists old): removes the entry
//	renaming the staged file over NAME     NAME=new, entry=old, R0       undoes: entry renamed to NAME
//	writing the records' temporaries       the same, and temporaries     undoes; removes the temporaries
//	renaming SHA256SUMS                    NAME=new, R1 pending          completes R1; stands (R1 lists new): removes the entry
//	renaming manifest.json                 NAME=new, R1                  stands: removes the entry
//	removing the entries                   NAME=new, R1                  nothing left to do
//
// Without hard links, NAME is missing between SetAside and the rename; R0 lists it,
// and the entry holds it, so it is undone. A new artifact (a .NAME.tmp-new-N entry)
// that no committed record lists is removed: it was never recorded, and the
// directory is then as it was before the run. The run does this itself when writing
// its records fails, except for what the record on disk already vouches for (a new
// record left pending: the next run completes it and removes those entries). Verify
// changes nothing: it reports a replacement to undo over a listed artifact as a
// problem that says what the next run does, and the other entries as notes.
//
// The runner keeps each artifact's log, logs/NAME.log, the same way (undo entries in
// logs/, runner/publish.go): a replacement undone takes its log back, and a log's
// entry found without its artifact's is taken back.
package manifest

import (
	"time"

	"github.com/matrixbuild/matrix/elfcheck"
)

// SchemaVersion is the version of manifest.json written by this package.
const SchemaVersion = 1

// MaxSize bounds the bytes of manifest.json and SHA256SUMS that a reader reads: 100,000
// cells with long names and test output stay well below it.
const MaxSize = 64 << 20

// File names inside the output directory.
const (
	FileName = "manifest.json"
	SumsName = "SHA256SUMS"
	// ProvenanceName is the run's in-toto statement (package provenance), written
	// with the pair (WriteWithProvenance); SignatureName its `matrix sign` signature.
	ProvenanceName = "provenance.intoto.jsonl"
	SignatureName  = ProvenanceName + ".sig"
)

// Manifest is the content of manifest.json.
type Manifest struct {
	SchemaVersion int    `json:"schema_version"`
	Tool          string `json:"tool"`
	ToolVersion   string `json:"tool_version"`
	RunID         string `json:"run_id"`
	// Spec is the matrix file: its path as given and the sha256 of its bytes.
	Spec SpecFile `json:"spec"`
	// Lock is the lock file as the run read it, before it recorded any entry of its
	// own: its path and the sha256 of its bytes. Absent when there was none.
	Lock      *SpecFile `json:"lock,omitempty"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	SkipTests bool      `json:"skip_tests"`
	// AllowDrift is --allow-drift: an artifact installed from its lock entry whose
	// sha256 differs from the one the entry records is kept (Artifact.Drift) instead
	// of failing its cell. Absent when not given.
	AllowDrift bool `json:"allow_drift,omitempty"`
	// SumsSHA256 is the sha256 of the SHA256SUMS written with this manifest: the two
	// belong together when it is the sha256 of the SHA256SUMS beside it. Write sets it;
	// a manifest written before it existed has none.
	SumsSHA256 string `json:"sha256sums_sha256,omitempty"`
	// ProvenanceSHA256 is the sha256 of the provenance.intoto.jsonl written with this
	// manifest (WriteWithProvenance); none when the writer wrote none.
	ProvenanceSHA256 string     `json:"provenance_sha256,omitempty"`
	Artifacts        []Artifact `json:"artifacts"`
	Failed           []Failure  `json:"failed"`
	// Skipped are the cells of the run that a skip block of their target held for:
	// not built. A manifest written before skip blocks existed has none.
	Skipped     []Skipped `json:"skipped"`
	SourceEpoch int64     `json:"source_date_epoch"`
	// Shards are the runs that matrix merge joined into this record, one per shard
	// directory, in the order given; a run's own manifest has none.
	Shards []Shard `json:"shards,omitempty"`
}

// Shard is one shard directory that matrix merge took artifacts from: its run, and
// the sha256 of the manifest it read there.
type Shard struct {
	Dir            string    `json:"dir"`
	RunID          string    `json:"run_id"`
	ManifestSHA256 string    `json:"manifest_sha256"`
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	Artifacts      int       `json:"artifacts"` // taken from this shard
}

// SpecFile identifies the matrix file a run read.
type SpecFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Axis is one matrix value of a cell, as the file wrote it.
type Axis struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// Image identifies the image a cell ran in.
type Image struct {
	Ref         string   `json:"ref"`
	ID          string   `json:"id"`
	RepoDigests []string `json:"repo_digests,omitempty"`
	Platform    string   `json:"platform,omitempty"`
}

// Artifact is one built file.
type Artifact struct {
	File string `json:"file"`
	// CellID is the ID of the cell that built the artifact (plan.Cell.ID); absent from
	// manifests written before cell IDs, whose readers take the artifact's cell by its
	// file name.
	CellID string `json:"cell_id,omitempty"`
	// RunID is the run that built the artifact: this manifest's run_id, or an earlier
	// run's for an artifact that this run left in place.
	RunID  string `json:"run_id"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Format string `json:"format"`
	Target string `json:"target"`
	Axes   []Axis `json:"axes"`
	Image  Image  `json:"image"`
	// Engine is the Docker engine that built the artifact (its address).
	Engine string `json:"engine"`
	// InputHash is the sha256 of the evaluated cell (image ID, script, env, mounts,
	// collect, artifact name, format, packer version): equal hashes mean an equal build.
	InputHash string `json:"input_hash"`
	// InputParts hold a short hash of each of the inputs that make InputHash, by
	// name (image_id, script, env, ...): a later run names the ones that changed as
	// its reason to build the artifact again. Absent from earlier manifests.
	InputParts map[string]string `json:"input_parts,omitempty"`
	// BuildReason says why the run that built the artifact did not reuse an earlier
	// one: "no earlier artifact", "script changed", "not locked", "--force", ...
	BuildReason  string  `json:"build_reason,omitempty"`
	Files        int     `json:"files"`
	ContentBytes int64   `json:"content_bytes"`
	DurationSecs float64 `json:"duration_seconds"`
	Log          string  `json:"log"`
	// Test is the artifact's test; nil when the target has none, with --skip-tests,
	// or when the cell is CrossBuilt (built for a platform no test image here runs).
	Test *Test `json:"test,omitempty"`
	// Tests are the artifact's tests when its test block has axes (Test is then
	// nil): one per combination, each with its axes, a skipped one with its reason.
	Tests []Test `json:"tests,omitempty"`
	// Metadata is the cell's metadata map, as the file wrote it.
	Metadata   map[string]string `json:"metadata,omitempty"`
	CrossBuilt bool              `json:"cross_built,omitempty"`
	// SameBuildAs names the artifact of the same run whose bytes this one is: the two
	// cells had the same inputs, so the run built them once (and tested each).
	SameBuildAs string `json:"same_build_as,omitempty"`
	// Spec is the matrix file the artifact's cell came from, as the run that built
	// it read it; nil in the records of manifests written before it was recorded.
	Spec *SpecFile `json:"spec,omitempty"`
	// LockSHA256 is the sha256 that the cell's lock entry records (artifact_sha256)
	// when the cell was installed from an entry that records one: a rebuild from the
	// lock proves its bytes against it.
	LockSHA256 string `json:"lock_sha256,omitempty"`
	// Drift says that SHA256 differs from LockSHA256 and the run kept the artifact
	// all the same, as --allow-drift asked (Manifest.AllowDrift).
	Drift bool `json:"drift,omitempty"`
	// Warnings are what the run said of the artifact without failing it, such as a
	// size over the target's warn_size.
	Warnings []string `json:"warnings,omitempty"`

	// ELF is what the artifact's ELF files need (machines, libc, glibc floor and the
	// file that sets it, each file), checked against the cell's CPU, libc and
	// runtime glibc before its test; nil in manifests written before it was recorded.
	ELF *elfcheck.Report `json:"elf,omitempty"`
}

// Test is the result of an artifact's test in a runtime container.
type Test struct {
	// Axes are the test's own matrix values (Artifact.Tests); Skipped, when not
	// empty, says why this test did not run, and it then has nothing else.
	Axes    []Axis `json:"axes,omitempty"`
	Skipped string `json:"skipped,omitempty"`
	Image   Image  `json:"image"`
	Passed  bool   `json:"passed"`
	// Definition is the sha256 of the test as it ran (image ID, script, env, mounts,
	// workdir): --reuse keeps an artifact only if it passed the same test.
	Definition string `json:"definition"`
	// RunID is the run that ran the test: the artifact's own run, or a later one that
	// reused the artifact and ran a changed test on it (--reuse). Absent from
	// manifests written before it was recorded.
	RunID        string  `json:"run_id,omitempty"`
	DurationSecs float64 `json:"duration_seconds"`
	Output       string  `json:"output,omitempty"` // the last lines of the test's output
}

// Failure is a cell that produced no artifact.
type Failure struct {
	Artifact string `json:"artifact"`
	CellID   string `json:"cell_id,omitempty"` // as Artifact.CellID
	Target   string `json:"target"`
	Axes     []Axis `json:"axes"`
	Error    string `json:"error"`
	Log      string `json:"log,omitempty"`
	// Test is the failed test of a cell whose artifact did not pass it.
	Test *Test `json:"test,omitempty"`
	// Tests are the tests of a cell whose test block has axes, passed and failed.
	Tests []Test `json:"tests,omitempty"`
	// ELF is what the ELF files of an artifact that failed their check need.
	ELF *elfcheck.Report `json:"elf,omitempty"`
}

// Skipped is a cell that was not built, and why.
type Skipped struct {
	Cell   string `json:"cell"`              // e.g. "sharp-lambda[sharp=0.35.5,node=18,arch=x64]"
	CellID string `json:"cell_id,omitempty"` // as Artifact.CellID
	Target string `json:"target"`
	Axes   []Axis `json:"axes"`
	Reason string `json:"reason"`
}
