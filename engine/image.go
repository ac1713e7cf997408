package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/matrixbuild/matrix/executor"
)

// Resolve implements executor.Executor. Resolving one reference is serialised: a pull
// for one platform retags the reference, so a concurrent inspect for another
// platform could otherwise read the wrong image. What it found is kept for the
// engine's life, a run: every cell of an image after the first takes the same
// image without asking the engine again.
func (e *Engine) Resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	unlock := e.serializeRef(ref)
	defer unlock()
	key := ref + "|" + platform
	e.mu.Lock()
	img, ok := e.resolved[key]
	e.mu.Unlock()
	if ok {
		return img, nil
	}
	img, err := e.resolve(ctx, ref, platform)
	if err == nil {
		e.mu.Lock()
		e.resolved[key] = img
		e.mu.Unlock()
	}
	return img, err
}

// resolve inspects ref, pulling it first where the pull policy says so.
func (e *Engine) resolve(ctx context.Context, ref, platform string) (executor.Image, error) {
	img, err := e.inspect(ctx, ref)
	missing := cerrdefs.IsNotFound(err)
	if err != nil && !missing {
		return executor.Image{}, err
	}
	key := ref + "|" + platform
	e.mu.Lock()
	pulledAlready := e.pulled[key]
	e.mu.Unlock()
	pull, err := pullNeeded(e.pull, missing, !missing && !platformMatches(img, platform), pulledAlready)
	if err != nil {
		return executor.Image{}, fmt.Errorf("image %s %w", ref, err)
	}
	if !pull {
		return img, nil
	}
	if err := e.doPull(ctx, ref, platform); err != nil {
		return executor.Image{}, err
	}
	e.mu.Lock()
	e.pulled[key] = true
	e.mu.Unlock()
	return e.inspect(ctx, ref)
}

// errNeverPull is the refusal to pull a missing image under --pull=never.
var errNeverPull = errors.New("is not on the engine and --pull=never")

// pullNeeded is the pull policy: whether Resolve pulls an image that is missing, or
// is local but of another platform than the cell's, or was already pulled in this
// run (--pull=always pulls once per run). With --pull=missing, a local image of
// another platform counts as missing: multi-platform images are pulled per platform.
func pullNeeded(policy PullPolicy, missing, wrongPlatform, pulledThisRun bool) (bool, error) {
	switch {
	case missing && policy == PullNever:
		return false, errNeverPull
	case policy == PullNever:
		return false, nil
	}
	return missing || wrongPlatform || (policy == PullAlways && !pulledThisRun), nil
}

// platformMatches reports whether img is of platform ("os/arch[/variant]"; "" is any);
// a platform without a variant matches every variant.
func platformMatches(img executor.Image, platform string) bool {
	return platform == "" || strings.HasPrefix(img.Platform()+"/", strings.TrimSuffix(platform, "/")+"/")
}

func (e *Engine) inspect(ctx context.Context, ref string) (executor.Image, error) {
	inspect, err := e.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return executor.Image{}, err
	}
	if err != nil {
		return executor.Image{}, engineErr("inspecting image "+ref, err)
	}
	return executor.Image{
		Ref:          ref,
		ID:           inspect.ID,
		RepoDigests:  inspect.RepoDigests,
		OS:           inspect.Os,
		Architecture: inspect.Architecture,
		Variant:      inspect.Variant,
	}, nil
}

// serializeRef waits until no other Resolve of ref runs and returns the function that
// lets the next one in.
func (e *Engine) serializeRef(ref string) (done func()) {
	e.mu.Lock()
	m, ok := e.refMus[ref]
	if !ok {
		m = &sync.Mutex{}
		e.refMus[ref] = m
	}
	e.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// doPull pulls ref and reads the progress stream to its end: pull errors arrive inside it.
func (e *Engine) doPull(ctx context.Context, ref, platform string) error {
	rc, err := e.cli.ImagePull(ctx, ref, image.PullOptions{Platform: platform})
	if err != nil {
		return engineErr("pulling image "+ref, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return engineErr("pulling image "+ref, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("pulling image %s: %s", ref, msg.Error.Message)
		}
	}
}

// Runnable implements executor.Executor: an image of the engine's own CPU runs; one of
// another CPU runs only where the engine emulates that CPU (binfmt_misc and QEMU).
// Two throwaway containers find out, each answer cached for the engine's life: a
// tiny static program of the image's CPU (emulationProbe), once per platform, says
// whether the engine emulates it at all; then `sh -c true`, once per image, says
// whether the image itself runs.
func (e *Engine) Runnable(ctx context.Context, img executor.Image) error {
	if e.arch == "" || img.Architecture == "" || img.Architecture == e.arch {
		return nil
	}
	e.mu.Lock()
	err, known := e.runnable[img.ID]
	e.mu.Unlock()
	if known {
		return err
	}
	prog, ok := emulationProbe(img.Architecture)
	switch {
	case !ok: // the image's own probe decides alone
		if err = e.probe(ctx, img); err != nil {
			err = fmt.Errorf("image %s is %s and this engine runs %s: it cannot run it without emulation (binfmt_misc and QEMU) (%w); %s",
				img.Ref, img.Platform(), e.arch, err, enableEmulation(img.Architecture))
		}
	default:
		if err = e.emulates(ctx, img, prog); err != nil {
			err = fmt.Errorf("image %s is %s and this engine runs %s: it cannot run it without emulation: a %s program does not run on it (%w); %s",
				img.Ref, img.Platform(), e.arch, img.Platform(), err, enableEmulation(img.Architecture))
		} else if err = e.probe(ctx, img); err != nil {
			err = fmt.Errorf("image %s is %s; this engine (%s) emulates that CPU, but `sh -c true` fails in the image: %w",
				img.Ref, img.Platform(), e.arch, err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if executor.IsTransient(err) {
		return err // the engine's doing, not the image's: asked again on the retry
	}
	e.mu.Lock()
	e.runnable[img.ID] = err
	e.mu.Unlock()
	return err
}

// emulates reports, once per platform, why the engine cannot run programs of img's
// platform, or nil when it can: it runs prog, the tiny program for that CPU
// (emulationProbe), copied into a container of img, so that the image's own content
// plays no part.
func (e *Engine) emulates(ctx context.Context, img executor.Image, prog []byte) error {
	platform := img.Platform()
	e.mu.Lock()
	err, known := e.emulation[platform]
	e.mu.Unlock()
	if known {
		return err
	}
	err = e.runProgram(ctx, img, prog)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if executor.IsTransient(err) {
		return err
	}
	e.mu.Lock()
	e.emulation[platform] = err
	e.mu.Unlock()
	return err
}

// enableEmulation says how to let an engine run images of arch, or what to do instead.
func enableEmulation(arch string) string {
	return fmt.Sprintf("enable emulation on the engine's machine (scripts/setup.sh as root on Debian registers QEMU's binfmt_misc handlers "+
		"with the F flag; in GitHub Actions, docker/setup-qemu-action), or build such cells on an %s engine (--engine), "+
		"or declare cross_built = true to build them untested", arch)
}

// probe runs `sh -c true` in a throwaway container of img.
func (e *Engine) probe(ctx context.Context, img executor.Image) error {
	cfg := &container.Config{Image: img.ID, Entrypoint: shell, Cmd: []string{"true"}, Labels: labels("probe", "platform probe of "+img.Ref)}
	id, err := e.create(ctx, cfg, &container.HostConfig{NetworkMode: "none"}, img.Platform())
	if err != nil {
		return err
	}
	defer e.remove(id)
	return e.runToExit(ctx, id, io.Discard)
}

// probePath is where runProgram puts the program in the container.
const probePath = "/.matrix-emulation-probe"

// runProgram runs prog, a static executable, in a throwaway container of img: copied
// in before the container starts, and run as its entrypoint.
func (e *Engine) runProgram(ctx context.Context, img executor.Image, prog []byte) error {
	cfg := &container.Config{Image: img.ID, Entrypoint: []string{probePath}, Labels: labels("probe", "emulation probe of "+img.Platform())}
	id, err := e.create(ctx, cfg, &container.HostConfig{NetworkMode: "none"}, img.Platform())
	if err != nil {
		return err
	}
	defer e.remove(id)
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	if err := tw.WriteHeader(&tar.Header{Name: probePath[1:], Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(prog))}); err != nil {
		return err
	}
	if _, err := tw.Write(prog); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := e.cli.CopyToContainer(ctx, id, "/", &archive, container.CopyToContainerOptions{}); err != nil {
		return engineErr("copying the emulation probe into the container", err)
	}
	return e.runToExit(ctx, id, io.Discard)
}

// emulationProbe is a static Linux executable for arch (as images name CPUs) that
// exits 0 and does nothing else: an ELF header, one loadable segment and the three
// instructions of exit(0). ok is false for a CPU without one.
func emulationProbe(arch string) (prog []byte, ok bool) {
	var machine elf.Machine
	var code []byte
	switch arch {
	case "arm64":
		machine = elf.EM_AARCH64
		code = []byte{
			0x00, 0x00, 0x80, 0xd2, // mov x0, #0
			0xa8, 0x0b, 0x80, 0xd2, // mov x8, #93 (exit)
			0x01, 0x00, 0x00, 0xd4, // svc #0
		}
	case "amd64":
		machine = elf.EM_X86_64
		code = []byte{
			0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
			0x31, 0xff, // xor edi, edi
			0x0f, 0x05, // syscall
		}
	default:
		return nil, false
	}
	const base = 0x400000
	const headers = 64 + 56 // the ELF header and one program header
	size := uint64(headers + len(code))
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Entry: base + headers, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	prog64 := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	// Writes to a bytes.Buffer of fixed-size values do not fail.
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, hdr)
	_ = binary.Write(&buf, binary.LittleEndian, prog64)
	buf.Write(code)
	return buf.Bytes(), true
}
