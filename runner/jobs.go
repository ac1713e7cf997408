package runner

import "runtime"

// DefaultJobs is how many cells build at once on each engine by default:
// JobsFor(runtime.NumCPU()), 8 on the 2 cores of the project's machine kind.
var DefaultJobs = JobsFor(runtime.NumCPU())

// JobsFor is the default number of cells at once for a machine of cpus cores: four
// per core, at least 2 and at most 32. A cell mostly waits (npm's downloads, the
// engine creating, starting and removing containers, copying trees), and its tests
// run outside its slot, so one or two per core leave cores idle: measured on 2 cores,
// 8 tested cells took 0.93 (cold) and 0.90 (warm) of the time at 8 at a time that
// they took at 4, and 1.05-1.19 at 2 (BENCHMARKS.md, "--jobs"). The bound keeps a
// large machine from starting hundreds of npm installs (100-200 MB each).
func JobsFor(cpus int) int {
	return min(max(4*cpus, 2), 32)
}
