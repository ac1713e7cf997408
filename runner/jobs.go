package runner

import "runtime"

// DefaultJobs is how many cells build at once on each engine by default:
// JobsFor(runtime.NumCPU()), 4 on the 2 cores of the project's machine kind.
var DefaultJobs = JobsFor(runtime.NumCPU())

// JobsFor is the default number of cells at once for a machine of cpus cores: twice
// the cores, at least 2 and at most 32. A cell mostly waits (npm's downloads, the
// engine creating, starting and removing containers), so one cell per core leaves
// cores idle; past two per core, the installs compete for the cores once the npm
// cache is warm and the run takes as long or longer (BENCHMARKS.md, "--jobs").
func JobsFor(cpus int) int {
	return min(max(2*cpus, 2), 32)
}
