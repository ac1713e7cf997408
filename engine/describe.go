package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/image"

	"github.com/matrixbuild/matrix/executor"
)

// Description is what `matrix engines` shows of an engine of the pool.
type Description struct {
	// Address is the engine's address, its password (if any) redacted (RedactHost).
	Address string
	// Version is the engine's version, APIVersion the highest API version it speaks,
	// OS and Arch its platform as images name it ("linux", "amd64"), System its
	// operating system as it describes it.
	Version, APIVersion, OS, Arch, System string
	// Emulates are the platforms other than its own whose programs it runs (QEMU
	// through binfmt_misc), as the emulation probe found; Emulation says what was
	// probed and how, or why nothing was ("no image on the engine to probe in").
	Emulates  []string
	Emulation string
}

// probeArchs are the CPUs whose emulation Describe probes: those emulationProbe has
// a program for.
var probeArchs = []string{"amd64", "arm64"}

// maxProbeImages bounds the images Describe inspects to find one of the engine's own
// CPU to run the emulation probe in.
const maxProbeImages = 50

// Describe asks the engine for its version and platform, and runs the emulation
// probe (the tiny static program of each other CPU, in a throwaway container of an
// image already on the engine, of its own CPU: nothing is pulled).
func (e *Engine) Describe(ctx context.Context) (Description, error) {
	host := e.cli.DaemonHost()
	d := Description{Address: RedactHost(host)}
	ping, err := e.cli.Ping(ctx)
	if err != nil {
		return d, engineErr("asking the engine at "+d.Address+" for its API version", scrub(err, host, err.Error()))
	}
	info, err := e.cli.Info(ctx)
	if err != nil {
		return d, engineErr("asking the engine at "+d.Address+" for its version", scrub(err, host, err.Error()))
	}
	d.Version, d.APIVersion, d.OS, d.Arch, d.System = info.ServerVersion, ping.APIVersion, info.OSType, goArch(info.Architecture), info.OperatingSystem
	probeImg, err := e.probeHost(ctx)
	switch {
	case err != nil:
		d.Emulation = "not probed: " + err.Error()
		return d, nil
	case probeImg.ID == "":
		d.Emulation = "not probed: no image of its own CPU on the engine to run the probe in"
		return d, nil
	}
	var probed []string
	for _, arch := range probeArchs {
		if arch == e.arch {
			continue
		}
		prog, _ := emulationProbe(arch)
		probed = append(probed, "linux/"+arch)
		if e.runProgram(ctx, probeImg, prog) == nil {
			d.Emulates = append(d.Emulates, "linux/"+arch)
		}
		if err := ctx.Err(); err != nil {
			return d, err
		}
	}
	d.Emulation = fmt.Sprintf("probed %s in a container of %s", strings.Join(probed, ", "), probeImg.Ref)
	return d, nil
}

// probeHost is an image already on the engine, of its own CPU, to run the emulation
// probe in; none (a zero Image) when there is no such image.
func (e *Engine) probeHost(ctx context.Context) (executor.Image, error) {
	list, err := e.cli.ImageList(ctx, image.ListOptions{})
	if err != nil {
		return executor.Image{}, engineErr("listing the engine's images", err)
	}
	// Oldest first: a base image more likely than a build's, and the same each time.
	slices.SortStableFunc(list, func(a, b image.Summary) int { return int(a.Created - b.Created) })
	for _, s := range list[:min(len(list), maxProbeImages)] {
		ref := s.ID
		if len(s.RepoTags) > 0 {
			ref = s.RepoTags[0]
		}
		got, err := e.inspect(ctx, s.ID)
		if err != nil {
			continue
		}
		if got.OS == "linux" && got.Architecture == e.arch {
			got.Ref = ref
			return got, nil
		}
	}
	return executor.Image{}, nil
}
