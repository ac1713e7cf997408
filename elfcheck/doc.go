// Package elfcheck reads what the ELF files of an artifact need from the
// machine that loads them, and checks it against the cell the artifact is for:
// a wrong-CPU or wrong-libc binary, or one that needs a newer glibc than the
// runtime has, fails the cell even when no test can run it (an arm64 cell with
// no emulation, a cross-built cell).
//
// # What is read
//
// A file is an ELF file when its first four bytes are "\x7fELF"; no other file
// is read past them. Of an ELF file, Inspect reads, through debug/elf and with
// the loader's eyes:
//   - the machine (e_machine with the class and byte order), named as images
//     and platforms name CPUs (GOARCH): amd64, arm64, arm, 386, ppc64le,
//     s390x, riscv64, loong64, mips, mipsle, mips64le; any other combination
//     by its ELF names, such as "EM_X86_64/ELFCLASS32/ELFDATA2LSB" (x32);
//     ArchOfNpmCPU maps npm's names (x64, ia32) to these;
//   - the program interpreter (PT_INTERP);
//   - the libraries it needs (DT_NEEDED of the dynamic section);
//   - the symbol versions it needs (the version-needs section,
//     SHT_GNU_verneed, ".gnu.version_r"), of which the highest "GLIBC_x.y" is
//     the file's glibc floor. "GLIBC_ABI_DT_RELR" counts as 2.36, the release
//     that added it; "GLIBC_PRIVATE" and other names that are not versions
//     are not counted.
//
// # Which libc
//
// A file is linked against musl when its interpreter's base name starts with
// "ld-musl-" or it needs "libc.musl-*.so.1" (Alpine's name) or "libc.so"
// (musl's own soname); against glibc when its interpreter's base name starts
// with "ld-linux" or "ld64.so." or it needs "libc.so.6" or any GLIBC_ version.
// A file with none of these (a static executable, a library that needs no
// libc, an object file) is neither and passes any cell. A file with both marks
// fails wherever it is.
//
// # The rules (Report.Check)
//
// Given a Target (the cell's CPU, libc and runtime glibc; each may be unknown),
// an artifact fails when:
//   - an ELF file's machine is not the target's CPU;
//   - a file is linked against musl in a glibc cell, or against glibc in a
//     musl cell (a declared runtime glibc makes the cell a glibc cell);
//   - a file needs a GLIBC_x.y above the runtime's glibc;
//   - a file starts with the ELF magic but cannot be read within the bounds
//     below (it is reported as unreadable, not skipped: what cannot be checked
//     does not ship as checked).
//
// Every problem is reported, each naming the file and the versions:
// "node_modules/@img/sharp-libvips-linux-arm64/lib/libvips-cpp.so needs
// GLIBC_2.28; the runtime has 2.26". A Report holds per file only what the
// rules need, so a Report recorded in a manifest can be checked again, against
// a changed target, without the artifact.
//
// # Hostile input
//
// ELF files come from a container and are hostile; debug/elf is not hardened
// against crafted files. Inspect therefore
//   - reads the ELF header itself first and refuses program and section
//     header tables that do not fit in the file, and more than 65535
//     sections, before debug/elf allocates for them;
//   - refuses, among the sections it reads, those that do not fit in the
//     file, compressed ones (a few bytes that inflate to gigabytes) and any
//     larger than MaxRead;
//   - reads through an io.ReaderAt bounded by the file's size that counts
//     every byte asked for: more than MaxRead bytes in all fails the file, so
//     memory per file is bounded whatever the headers claim, and no section is
//     read twice;
//   - walks the version-needs chains with at most as many steps as the
//     section has 16-byte entries (crafted links cannot make it loop or
//     quadratic), and quotes names from the file that are not printable;
//   - recovers from a panic in debug/elf, reporting the file as unreadable.
//
// FuzzInspect keeps these promises under random input.
//
// # Cost
//
// No second read of the artifact: the packer spools every file's content to a
// temporary file before it writes the archive (it must, to sort and
// dereference), so each file is already an io.ReaderAt; pack.Options.Inspect
// hands each one to Scanner.Add before the archive is written. Add reads only
// the four magic bytes of a file that is not ELF, and the headers and the
// sections above of one that is (kilobytes, even for a 30 MB library).
// Reading a finished archive back instead would decompress all of it again
// and spool every ELF file to get random access.
package elfcheck
