package runner

// Whether a cell reuses its earlier artifact, and when it does not, why: README.md,
// "Incremental re-runs".

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"

	"github.com/matrixbuild/matrix/internal/atomicfile"
	"github.com/matrixbuild/matrix/manifest"
)

// Reasons to build a cell again, as its log, the progress output and its record's
// build_reason say them. An input that changed is named by inputLabels.
const (
	whyForced      = "--force"
	whyNew         = "no earlier artifact"
	whyNotLocked   = "not locked (its dependencies may resolve otherwise today; --reuse keeps the artifact)"
	whyMissing     = "artifact missing"
	whyModified    = "artifact modified"
	whyNotRegular  = "artifact not a regular file"
	whyNotLockSum  = "earlier artifact is not the one its lock entry records"
	whyELF         = "its ELF check changed"
	whyInputsOther = "inputs changed"
)

// inputLabels name the inputs of buildInputs (by JSON name) in a reason.
var inputLabels = map[string]string{
	"pack_format_version": "packer",
	"image_id":            "image",
	"platform":            "platform",
	"workdir":             "workdir",
	"env":                 "env",
	"pass_env":            "pass_env",
	"mounts":              "mounts",
	"network":             "network",
	"script":              "script",
	"collect":             "collect",
	"artifact":            "artifact name",
	"format":              "format",
	"prefix":              "format",
	"epoch":               "SOURCE_DATE_EPOCH",
	"locked":              "lock files",
}

// reuse decides whether the cell reuses its earlier artifact: prev is the earlier
// record, retest says that its test changed and is to run again on it (the build's
// inputs and the test's are compared apart). When prev is nil, why says why the
// cell is built. An artifact is reused when its record has the cell's input hash
// and the sha256 its lock entry records (if any), its bytes on disk hash as
// recorded, its ELF check still holds, and the reuse is exact: the cell is
// installed from a current lock entry, unless Reuse (also the others) or Force
// (none) says otherwise. A cell installed from its lock entry also reuses the
// artifact of the build that recorded the entry: resolved anew from the same
// inputs, it left the entry's files and made the artifact of the sha256 the entry
// records, which is what installing from the entry must give (proveLocked).
// Hashing stops when ctx ends.
func (b *cellBuild) reuse(ctx context.Context, imgs images) (prev *manifest.Artifact, retest bool, why string) {
	if b.opts.Force {
		return nil, false, whyForced
	}
	file := b.cell.Artifact
	a, ok := b.previous[file]
	if !ok {
		return nil, false, whyNew
	}
	want := b.opts.LockedSHA256[file]
	sameBuild := a.InputHash == imgs.inputHash || want != "" && imgs.resolvedHash != "" && a.InputHash == imgs.resolvedHash
	switch {
	case !sameBuild:
		return nil, false, changedInputs(a.InputParts, b.inputParts(imgs, a.InputParts))
	case want != "" && a.SHA256 != want:
		return nil, false, whyNotLockSum
	}
	if _, locked := b.opts.Locked[file]; !locked && !b.opts.Reuse {
		return nil, false, whyNotLocked
	}
	if err := manifest.CheckFile(ctx, b.out, a); err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, false, whyMissing
		case errors.Is(err, manifest.ErrChanged):
			return nil, false, whyModified
		case errors.Is(err, atomicfile.ErrNotRegular):
			return nil, false, whyNotRegular
		}
		return nil, false, "artifact unreadable: " + err.Error()
	}
	if a.ELF == nil || checkELF(*a.ELF, elfTarget(b.cell, imgs.build)) != nil {
		// Its ELF files were not checked, or not against what the cell now declares
		// (libc, glibc and elf_ignore are no part of the input hash).
		return nil, false, whyELF
	}
	retest = imgs.testDef != "" && !passedTests(a, imgs.tests)
	return &a, retest, ""
}

// inputParts are the parts of the cell's inputs to compare with an earlier record's
// (was): those of a cell installed from its lock entry, or, when the earlier
// artifact was built resolving anew (it records no lock files), those of the same
// cell resolved anew.
func (b *cellBuild) inputParts(imgs images, was map[string]string) map[string]string {
	locked := b.inputs
	if _, ok := was["locked"]; !ok && was != nil {
		locked = nil
	}
	return inputParts(newBuildInputs(b.cell, imgs.build, b.epoch, locked))
}

// inputParts hash each input of in apart, by its JSON name; an input left out of the
// JSON (no lock files) has no part.
func inputParts(in buildInputs) map[string]string {
	parts := map[string]string{}
	v := reflect.ValueOf(in)
	for i := range v.NumField() {
		name, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if opts == "omitempty" && v.Field(i).IsZero() {
			continue
		}
		data, err := json.Marshal(v.Field(i).Interface())
		if err != nil {
			panic(err) // plain strings and slices always marshal
		}
		sum := sha256.Sum256(data)
		parts[name] = hex.EncodeToString(sum[:8])
	}
	return parts
}

// changedInputs names the inputs whose parts differ ("script changed", "image and
// env changed"), in the order of buildInputs; whyInputsOther when the earlier
// record has no parts (an earlier manifest) or none differs.
func changedInputs(was, now map[string]string) string {
	if was == nil {
		return whyInputsOther
	}
	var changed []string
	t := reflect.TypeFor[buildInputs]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		label := inputLabels[name]
		if was[name] != now[name] && label != "" && !slices.Contains(changed, label) {
			changed = append(changed, label)
		}
	}
	switch len(changed) {
	case 0:
		return whyInputsOther
	case 1:
		return changed[0] + " changed"
	}
	return strings.Join(changed[:len(changed)-1], ", ") + " and " + changed[len(changed)-1] + " changed"
}

// runnable checks, before a container starts, that this engine runs the cell's images:
// the build image when the cell is built, and each test image when it is tested. A
// cell that reuses its artifact as it is checks none: probing an image of another
// CPU starts a container.
func (b *cellBuild) runnable(ctx context.Context, imgs images, building bool) error {
	if building {
		if err := b.exec.Runnable(ctx, imgs.build); err != nil {
			return err
		}
	}
	for _, t := range imgs.tests {
		if t.test.Skip != "" {
			continue
		}
		if err := b.exec.Runnable(ctx, t.img); err != nil {
			err = fmt.Errorf("test image: %w; declare cross_built = true to build the artifact untested (the manifest says so)", err)
			if name := t.test.TestName(); name != "" {
				err = fmt.Errorf("test %s: %w", name, err)
			}
			return err
		}
	}
	return nil
}
