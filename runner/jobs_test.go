package runner

import "testing"

func TestJobsFor(t *testing.T) {
	for _, tc := range []struct{ cpus, want int }{
		{0, 2}, {1, 2}, {2, 4}, {4, 8}, {8, 16}, {16, 32}, {64, 32},
	} {
		if got := JobsFor(tc.cpus); got != tc.want {
			t.Errorf("JobsFor(%d) = %d, want %d", tc.cpus, got, tc.want)
		}
	}
}
