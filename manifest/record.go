package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
)

// Write writes manifest.json and SHA256SUMS into dir as one unit (see the package
// documentation): a reader sees the earlier pair or the new one, or the new one
// pending, never a torn pair. Both list the artifacts sorted by file name, with this
// package's SchemaVersion and the SHA256SUMS's sha256; m itself is left as it is.
//
// An error before SHA256SUMS is renamed leaves the earlier pair; one after it leaves
// the new pair pending (Record.Pending) and says so. A *atomicfile.NotDurableError
// means that the new pair is in place but the last sync of dir failed.
func Write(dir string, m *Manifest) error { return WriteWithProvenance(dir, m, nil) }

// WriteWithProvenance is Write that also writes prov, when not nil, as
// provenance.intoto.jsonl in the same unit: its temporary is synced with the
// others, renamed after SHA256SUMS and before manifest.json, and the manifest
// records its sha256, so that a pending manifest names the statement that belongs to
// it (Record.Complete puts that in place too). prov's subjects must be exactly the
// lines of the SHA256SUMS written with it; a signature of an earlier statement is
// removed once the new one is in place. Without prov (nil), an earlier statement and
// its signature are removed once the new records are in place: they would disagree
// with the new SHA256SUMS.
func WriteWithProvenance(dir string, m *Manifest, prov []byte) error {
	if prov != nil {
		out := *m
		out.ProvenanceSHA256 = sha256Hex(prov)
		m = &out
	}
	sums, data, err := encode(m)
	if err != nil {
		return err
	}
	if prov != nil {
		if err := matchSubjects(prov, sums); err != nil {
			return fmt.Errorf("writing %s: %w", filepath.Join(dir, ProvenanceName), err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, FileName), err)
	}
	defer root.Close()
	sf, err := prepare(root, SumsName, sums)
	if err != nil {
		return err
	}
	defer sf.Abort()
	var pf *atomicfile.File
	if prov != nil {
		if pf, err = prepare(root, ProvenanceName, prov); err != nil {
			return err
		}
		defer pf.Abort()
	}
	mf, err := prepare(root, FileName, data)
	if err != nil {
		return err
	}
	defer mf.Abort()
	// Both temporaries, and their names, are durable before either is renamed: a
	// SHA256SUMS that a crash leaves in place always has its manifest beside it.
	if err := atomicfile.SyncDir(root); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, FileName), err)
	}
	if err := sf.Rename(); err != nil {
		return err
	}
	// The new SHA256SUMS is in place: the new manifest, and the statement it names,
	// must not go from here on.
	if pf != nil {
		if err = pf.Rename(); err != nil {
			pf.Keep()
		}
	}
	if err == nil {
		err = atomicfile.SyncDir(root)
	}
	if err == nil {
		err = mf.Rename()
	}
	if err != nil {
		mf.Keep()
		return fmt.Errorf("writing %s: %w; %s is the new one already, and the new manifest is complete beside it as %s: "+
			"matrix verify checks against it, and the next matrix run puts it in place",
			filepath.Join(dir, FileName), err, SumsName, filepath.Base(mf.Name()))
	}
	// Whatever signed the earlier statement no longer speaks for this record; with no
	// statement (nil prov) the earlier statement goes too. Best effort: the records
	// are in place, a signature left over fails to verify against a new statement,
	// and Verify names a statement the records do not (the next run removes it).
	_ = root.Remove(SignatureName)
	if prov == nil {
		_ = root.Remove(ProvenanceName)
	}
	if err := atomicfile.SyncDir(root); err != nil {
		return &atomicfile.NotDurableError{Path: filepath.Join(dir, FileName), Err: err}
	}
	return nil
}

// matchSubjects checks that the statement prov lists exactly the lines of sums as
// its subjects, in their order: the one rule that keeps the two from disagreeing.
func matchSubjects(prov, sums []byte) error {
	var st struct {
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(prov, &st); err != nil {
		return fmt.Errorf("not an in-toto statement: %w", err)
	}
	var lines bytes.Buffer
	for _, s := range st.Subject {
		fmt.Fprintf(&lines, "%s  %s\n", s.Digest["sha256"], s.Name)
	}
	if !bytes.Equal(lines.Bytes(), sums) {
		return fmt.Errorf("its subjects are not the lines of the %s written with it", SumsName)
	}
	return nil
}

// encode returns the bytes of SHA256SUMS and manifest.json for m.
func encode(m *Manifest) (sums, data []byte, err error) {
	out := *m
	out.SchemaVersion = SchemaVersion
	out.Artifacts = sorted(m.Artifacts)
	if out.Skipped == nil {
		out.Skipped = []Skipped{}
	}
	sums = sumsOf(out.Artifacts)
	out.SumsSHA256 = sha256Hex(sums)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep ">=20.9.0" in skip reasons and errors readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, nil, fmt.Errorf("encoding %s: %w", FileName, err)
	}
	return sums, buf.Bytes(), nil
}

func sorted(artifacts []Artifact) []Artifact {
	out := slices.Clone(artifacts)
	slices.SortStableFunc(out, func(a, b Artifact) int { return strings.Compare(a.File, b.File) })
	return out
}

// sumsOf is SHA256SUMS for artifacts sorted by file name.
func sumsOf(artifacts []Artifact) []byte {
	var sums bytes.Buffer
	for _, a := range artifacts {
		fmt.Fprintf(&sums, "%s  %s\n", a.SHA256, a.File)
	}
	return sums.Bytes()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// sumsSHA256 is the sha256 of the SHA256SUMS that belongs to m: the one it records,
// or, for a manifest written before it recorded one, that of the SHA256SUMS Write
// makes of its artifacts.
func (m *Manifest) sumsSHA256() string {
	if m.SumsSHA256 != "" {
		return m.SumsSHA256
	}
	return sha256Hex(sumsOf(sorted(m.Artifacts)))
}

// prepare writes data to a finished temporary of root's file name.
func prepare(root *os.Root, name string, data []byte) (*atomicfile.File, error) {
	f, err := atomicfile.CreateIn(root, name)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return nil, fmt.Errorf("writing %s: %w", filepath.Join(root.Name(), name), err)
	}
	if err := f.Finish(); err != nil {
		return nil, err
	}
	return f, nil
}

// Read reads dir/manifest.json itself. A missing file gives an error that satisfies
// errors.Is(err, fs.ErrNotExist); any other error means the file is there but is not
// a manifest this package can read: not a regular file (a link is not followed), over
// MaxSize, not JSON, or of another schema version. ReadRecord is what a run reads.
func Read(dir string) (*Manifest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, _, err := readManifest(root, FileName)
	return m, err
}

// readManifest reads and decodes root's manifest file name, and returns its bytes too.
func readManifest(root *os.Root, name string) (*Manifest, []byte, error) {
	data, err := atomicfile.ReadRegular(root, name, MaxSize)
	if err != nil {
		return nil, nil, err
	}
	m, err := decode(filepath.Join(root.Name(), name), data)
	return m, data, err
}

// ReadFile reads a manifest a user names (a link followed, as for any file given on
// the command line): a regular file of at most MaxSize bytes, of this schema version.
func ReadFile(path string) (*Manifest, error) {
	data, err := atomicfile.ReadFile(path, MaxSize)
	if err != nil {
		return nil, err
	}
	return decode(path, data)
}

// decode decodes the manifest read from path, refusing another schema version.
func decode(path string, data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: not a manifest: %w", path, err)
	}
	if m.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this tool reads %d (a newer matrix wrote it)", path, m.SchemaVersion, SchemaVersion)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this tool reads %d", path, m.SchemaVersion, SchemaVersion)
	}
	return &m, nil
}

// Record is a directory's record as a reader takes it: its manifest and the
// SHA256SUMS beside it.
type Record struct {
	// Manifest is manifest.json, or the pending manifest; nil when there is neither
	// (a first run).
	Manifest *Manifest
	// Pending is the temporary name of Manifest when a writer stopped between renaming
	// SHA256SUMS and manifest.json, and manifest.json is the earlier one (or none);
	// "" when manifest.json is Manifest.
	Pending string
	// Sums is SHA256SUMS as read, or SumsErr why it could not be read (one that
	// satisfies errors.Is(err, fs.ErrNotExist) when there is none).
	Sums    []byte
	SumsErr error
	// PendingProvenance is the temporary name of the statement the pending manifest
	// records, when a writer stopped before renaming it to provenance.intoto.jsonl.
	PendingProvenance string

	dir    string
	digest string // of the manifests read, to tell whether the record changed since
}

// ReadRecord reads dir's record, changing nothing: manifest.json, SHA256SUMS, and when
// the two do not belong together, the pending manifest that belongs to that
// SHA256SUMS, if a writer left one (see the package documentation). A directory
// without manifest.json (or without dir itself) has a record with no Manifest, unless
// one is pending. An error is for a manifest.json that is there but cannot be read
// (Read); a SHA256SUMS that cannot be read is SumsErr, for Verify.
func ReadRecord(dir string) (*Record, error) {
	h := sha256.New()
	rec := &Record{dir: dir}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		rec.SumsErr = err
		rec.digest = hex.EncodeToString(h.Sum(nil)) // as for a directory without a manifest
		return rec, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, data, err := readManifest(root, FileName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rec.Manifest = m
	h.Write(data)
	rec.Sums, rec.SumsErr = atomicfile.ReadRegular(root, SumsName, MaxSize)
	if rec.SumsErr == nil {
		sum := sha256Hex(rec.Sums)
		if m == nil || m.sumsSHA256() != sum {
			if name, pm, data := pending(root, sum); pm != nil {
				rec.Manifest, rec.Pending = pm, name
				fmt.Fprintf(h, "\x00%s\x00", name)
				h.Write(data)
				rec.PendingProvenance = pendingProvenance(root, pm.ProvenanceSHA256)
			}
		}
	}
	rec.digest = hex.EncodeToString(h.Sum(nil))
	return rec, nil
}

// pending returns the temporary manifest in root that belongs to the SHA256SUMS of
// sha256 sum, if a writer left one; its name and bytes too.
func pending(root *os.Root, sum string) (string, *Manifest, []byte) {
	d, err := root.Open(".")
	if err != nil {
		return "", nil, nil
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return "", nil, nil
	}
	slices.Sort(names)
	for _, name := range names {
		if !atomicfile.IsTempOf(name, FileName) {
			continue
		}
		if m, data, err := readManifest(root, name); err == nil && m.SumsSHA256 == sum {
			return name, m, data
		}
	}
	return "", nil, nil
}

// pendingProvenance returns the temporary statement in root of sha256 sum when
// provenance.intoto.jsonl is not that statement; "" when it is, or none is left.
func pendingProvenance(root *os.Root, sum string) string {
	if sum == "" {
		return ""
	}
	if data, err := atomicfile.ReadRegular(root, ProvenanceName, MaxSize); err == nil && sha256Hex(data) == sum {
		return ""
	}
	d, err := root.Open(".")
	if err != nil {
		return ""
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return ""
	}
	slices.Sort(names)
	for _, name := range names {
		if !atomicfile.IsTempOf(name, ProvenanceName) {
			continue
		}
		if data, err := atomicfile.ReadRegular(root, name, MaxSize); err == nil && sha256Hex(data) == sum {
			return name
		}
	}
	return ""
}

// Same reports whether other, read later, found what r found: the same manifest.json,
// and the same pending manifest if any.
func (r *Record) Same(other *Record) bool {
	return r.digest == other.digest
}

// Complete puts a pending manifest in place, so that manifest.json and SHA256SUMS on
// disk are the pair it stands for; without one it does nothing. Only a process that
// holds the directory (a run's claim) may call it, and only before temporaries are
// cleaned up.
func (r *Record) Complete() error {
	if r.Pending == "" {
		return nil
	}
	root, err := os.OpenRoot(r.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if r.PendingProvenance != "" {
		if err := atomicfile.Place(root, r.PendingProvenance, ProvenanceName); err != nil {
			return err
		}
	}
	return atomicfile.Place(root, r.Pending, FileName)
}
