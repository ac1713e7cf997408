package runner

// What decides an artifact's bytes and its test: the hashes --reuse compares.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/matrixbuild/matrix/executor"
	"github.com/matrixbuild/matrix/manifest"
	"github.com/matrixbuild/matrix/pack"
	"github.com/matrixbuild/matrix/plan"
)

// InputHash is the sha256 of everything that decides an artifact's bytes: when two
// cells have equal input hashes, the reproducible packer gives equal artifacts (as
// far as the script is deterministic). Under --locked the locked files count too.
// Values of pass-through variables and cache mounts are left out.
func InputHash(cell plan.Cell, img executor.Image, epoch time.Time, locked executor.Files) string {
	data, err := json.Marshal(newBuildInputs(cell, img, epoch, locked))
	if err != nil {
		panic(err) // plain strings and slices always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// buildInputs are the inputs that InputHash hashes, each field one that a rebuild can
// name as its reason (inputParts).
type buildInputs struct {
	PackFormat int            `json:"pack_format_version"`
	ImageID    string         `json:"image_id"`
	Platform   string         `json:"platform"`
	Workdir    string         `json:"workdir"`
	Env        []plan.EnvVar  `json:"env"`
	PassEnv    []string       `json:"pass_env"`
	Mounts     []plan.Mount   `json:"mounts"`
	Network    string         `json:"network"`
	Script     string         `json:"script"`
	Collect    string         `json:"collect"`
	Artifact   string         `json:"artifact"`
	Format     string         `json:"format"`
	Prefix     string         `json:"prefix"`
	Epoch      int64          `json:"epoch"`
	Locked     executor.Files `json:"locked,omitempty"` // encoding/json sorts map keys
}

func newBuildInputs(cell plan.Cell, img executor.Image, epoch time.Time, locked executor.Files) buildInputs {
	return buildInputs{pack.FormatVersion, img.ID, cell.Platform, cell.Workdir, cell.Env, cell.PassEnv, bindMounts(cell.Mounts),
		cell.Network, cell.Script, cell.Collect, cell.Artifact, cell.Format, archivePrefix(cell), epoch.Unix(), locked}
}

func manifestImage(img executor.Image) manifest.Image {
	return manifest.Image{Ref: img.Ref, ID: img.ID, RepoDigests: img.RepoDigests, Platform: img.Platform()}
}

// TestDefinition is the sha256 of a test as it runs: a reused artifact must have
// passed the same test.
func TestDefinition(t plan.Test, img executor.Image) string {
	data, err := json.Marshal(struct {
		ImageID string
		Test    plan.Test
	}{img.ID, t})
	if err != nil {
		panic(err) // plain strings and slices always marshal
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// bindMounts leaves out cache mounts: a cache speeds a build up without changing
// what it installs (npm checks every download against the lock's integrity).
func bindMounts(mounts []plan.Mount) []plan.Mount {
	var out []plan.Mount
	for _, m := range mounts {
		if m.Type != plan.MountCache {
			out = append(out, m)
		}
	}
	return out
}

// archivePrefix puts zip artifacts in the layout of an AWS Lambda layer for Node.js
// (nodejs/node_modules/...); tarballs hold the collected tree at their root.
func archivePrefix(c plan.Cell) string {
	if c.Format == "zip" {
		return "nodejs/"
	}
	return ""
}
