package manifest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/internal/filename"
)

// ReadSums parses a SHA256SUMS file (`sha256sum` format: "HEX  NAME" per line).
func ReadSums(r io.Reader) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		sum, name, ok := strings.Cut(text, "  ")
		if !ok || len(sum) != sha256.Size*2 || name == "" {
			return nil, fmt.Errorf("line %d: want \"SHA256  NAME\", got %q", line, text)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("line %d: %q is not a hex sha256", line, sum)
		}
		sums[strings.TrimPrefix(name, "*")] = sum
	}
	return sums, sc.Err()
}

// Problem is one artifact that does not match its record.
type Problem struct {
	File   string
	Reason string
}

func (p Problem) String() string { return p.File + ": " + p.Reason }

// Report is what Verify found.
type Report struct {
	Checked  int // artifacts re-hashed
	Problems []Problem
	// Pending is the temporary name of the manifest the artifacts were checked
	// against, when a writer stopped before renaming it to manifest.json (Record).
	Pending string
	// Notes are what a run left that is not a problem of the records: replacements
	// it did not settle that leave every listed artifact as recorded (Replaced).
	Notes []Problem
	// Unlisted are the directory's entries that no record lists and that are not
	// the tool's own (Unlisted), and Failed the cells that the run of RunID, the
	// last one recorded, failed to build: not problems of the recorded artifacts,
	// but not a directory that holds exactly a good build either.
	Unlisted []string
	Failed   []Failure
	RunID    string
}

// Verify re-hashes every artifact that dir's record (ReadRecord: manifest.json and
// SHA256SUMS, or the pending manifest) lists and returns one Problem per missing,
// changed, not regular or inconsistently recorded file, one for a SHA256SUMS that
// does not belong to the manifest, and one per replacement that a stopped run left to
// undo over a listed artifact (Record.Replaced), saying how to finish it; the other
// replacements it left are Notes; the entries no record lists are Unlisted, and the
// last run's failed cells Failed. It changes nothing. The error is for a directory that cannot be
// verified at all (no manifest, unreadable sums), or ctx's.
func Verify(ctx context.Context, dir string) (Report, error) {
	rec, err := ReadRecord(dir)
	if err != nil {
		return Report{}, err
	}
	m := rec.Manifest
	if m == nil {
		return Report{}, &fs.PathError{Op: "open", Path: filepath.Join(dir, FileName), Err: fs.ErrNotExist}
	}
	if rec.SumsErr != nil {
		return Report{}, rec.SumsErr
	}
	sums, err := ReadSums(bytes.NewReader(rec.Sums))
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", filepath.Join(dir, SumsName), err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Report{}, err
	}
	defer root.Close()
	rep := Report{Pending: rec.Pending}
	manifestName := FileName
	if rec.Pending != "" {
		manifestName = rec.Pending
	}
	if got, want := sha256Hex(rec.Sums), m.sumsSHA256(); got != want {
		rep.Problems = append(rep.Problems, Problem{SumsName, fmt.Sprintf(
			"does not belong to %s: its sha256 is %s, %s records %s (it was changed, or written by a run that stopped before its manifest)",
			manifestName, got, manifestName, want)})
	}
	if p := provenanceProblem(root, rec, manifestName); p != nil {
		rep.Problems = append(rep.Problems, *p)
	}
	inManifest := map[string]bool{}
	for _, a := range m.Artifacts {
		inManifest[a.File] = true
		if s, ok := sums[a.File]; !ok {
			rep.Problems = append(rep.Problems, Problem{a.File, "listed in " + manifestName + " but not in " + SumsName})
		} else if s != a.SHA256 {
			rep.Problems = append(rep.Problems, Problem{a.File, SumsName + " and " + manifestName + " disagree"})
		}
		if why := filename.Why(a.File); why != "" {
			rep.Problems = append(rep.Problems, Problem{a.File, "not a plain file name: " + why})
			continue
		}
		err := CheckFile(ctx, root, a)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			rep.Problems = append(rep.Problems, Problem{a.File, "missing"})
		case errors.As(err, &pe):
			rep.Problems = append(rep.Problems, Problem{a.File, pe.Err.Error()})
		case err != nil:
			rep.Problems = append(rep.Problems, Problem{a.File, err.Error()})
		}
		rep.Checked++
	}
	replaced, err := rec.replaced(ctx, root)
	if err != nil {
		return rep, err
	}
	for _, r := range replaced {
		// A replacement to undo over a listed artifact is why that artifact is not as
		// recorded: a problem, with how to finish. The rest change nothing listed.
		if !r.Stands && inManifest[r.File] {
			rep.Problems = append(rep.Problems, Problem{r.File, r.why()})
		} else {
			rep.Notes = append(rep.Notes, Problem{r.File, r.why()})
		}
	}
	for name := range sums {
		if !inManifest[name] {
			rep.Problems = append(rep.Problems, Problem{name, "listed in " + SumsName + " but not in " + manifestName})
		}
	}
	unlisted, err := Unlisted(root, m)
	if err != nil {
		return rep, err
	}
	for _, name := range unlisted {
		if _, inSums := sums[name]; !inSums { // a problem already
			rep.Unlisted = append(rep.Unlisted, name)
		}
	}
	rep.Failed, rep.RunID = m.Failed, m.RunID
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].File < rep.Problems[j].File })
	return rep, nil
}

// provenanceProblem says why the statement beside the record is not the one its
// manifest records, if it is not: the pending one when a writer left it pending.
func provenanceProblem(root *os.Root, rec *Record, manifestName string) *Problem {
	want := rec.Manifest.ProvenanceSHA256
	if want == "" {
		if _, err := root.Lstat(ProvenanceName); err == nil {
			return &Problem{ProvenanceName, fmt.Sprintf("%s records no statement: this one is an earlier run's, and disagrees with %s (the next matrix run removes it)", manifestName, SumsName)}
		}
		return nil
	}
	name := ProvenanceName
	if rec.PendingProvenance != "" {
		name = rec.PendingProvenance
	}
	data, err := atomicfile.ReadRegular(root, name, MaxSize)
	if err != nil {
		return &Problem{ProvenanceName, fmt.Sprintf("%s records one (sha256 %s): %v", manifestName, want, err)}
	}
	if got := sha256Hex(data); got != want {
		return &Problem{ProvenanceName, fmt.Sprintf("does not belong to %s: its sha256 is %s, %s records %s (it was changed)", manifestName, got, manifestName, want)}
	}
	return nil
}

// ErrChanged is what CheckFile's error for a file whose content is not the recorded
// one satisfies (errors.Is).
var ErrChanged = errors.New("changed")

// CheckFile returns nil when root's file a.File is a regular file (never a link,
// OpenRegular) that holds what a records, and otherwise why not: an error that
// satisfies errors.Is(err, fs.ErrNotExist) for a missing file, ErrChanged for other
// bytes, atomicfile.ErrNotRegular for a link, fifo, device or directory. It reads no
// more than the recorded size and one byte, and stops when ctx ends.
func CheckFile(ctx context.Context, root *os.Root, a Artifact) error {
	f, err := atomicfile.OpenRegular(root, a.File, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() != a.Size {
		return fmt.Errorf("%w: %d bytes, recorded %d", ErrChanged, info.Size(), a.Size)
	}
	h := sha256.New()
	r := io.LimitReader(f, a.Size+1)
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := r.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if n != a.Size {
		return fmt.Errorf("%w: %d bytes, recorded %d", ErrChanged, n, a.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != a.SHA256 {
		return fmt.Errorf("%w: sha256 %s, recorded %s", ErrChanged, sum, a.SHA256)
	}
	return nil
}

// Unlisted returns, sorted, the entries of root, an output directory, that m does not
// list as artifacts and that are not the tool's own (filename.Own: the records,
// logs/, the claim file; atomicfile.IsTemp: temporaries and undo entries). A
// directory's name ends in "/". The tool never removes them: it did not record them.
func Unlisted(root *os.Root, m *Manifest) ([]string, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", root.Name(), err)
	}
	listed := map[string]bool{}
	if m != nil {
		for _, a := range m.Artifacts {
			listed[a.File] = true
		}
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if listed[name] || filename.Own(name) || atomicfile.IsTemp(name) {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}
