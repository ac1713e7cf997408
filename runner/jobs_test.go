package runner

import "testing"

func TestJobsFor(t *testing.T) {
	for _, tc := range []struct{ cpus, want int }{
		{0, 2}, {1, 4}, {2, 8}, {4, 16}, {8, 32}, {16, 32}, {64, 32},
	} {
		if got := JobsFor(tc.cpus); got != tc.want {
			t.Errorf("JobsFor(%d) = %d, want %d", tc.cpus, got, tc.want)
		}
	}
}
