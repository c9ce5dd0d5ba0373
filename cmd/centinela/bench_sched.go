package main

import (
	"runtime/metrics"
	"slices"
)

// schedLatencyMetric is the Go runtime's histogram of the time goroutines
// spent runnable before running: in the bench's process, how long the
// server's goroutines waited for one of its Ps (GOMAXPROCS) to be free.
const schedLatencyMetric = "/sched/latencies:seconds"

// schedHist is a reading of the scheduler latency histogram.
type schedHist struct {
	counts  []uint64
	buckets []float64
}

func readSchedHist() schedHist {
	s := []metrics.Sample{{Name: schedLatencyMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return schedHist{}
	}
	h := s[0].Value.Float64Histogram()
	return schedHist{counts: slices.Clone(h.Counts), buckets: h.Buckets}
}

// quantileSince returns the q-quantile of the latencies recorded between
// a and h, in seconds (the upper bound of its bucket; 0 if none).
func (h schedHist) quantileSince(a schedHist, q float64) float64 {
	if len(h.counts) == 0 || len(a.counts) != len(h.counts) {
		return 0
	}
	d := make([]uint64, len(h.counts))
	var total uint64
	for i := range h.counts {
		d[i] = h.counts[i] - a.counts[i]
		total += d[i]
	}
	if total == 0 {
		return 0
	}
	want := uint64(q * float64(total))
	var sum uint64
	for i, n := range d {
		sum += n
		if sum > want {
			return h.buckets[i+1]
		}
	}
	return h.buckets[len(h.buckets)-1]
}
