// Command gomapbench runs gomap's benchmark workloads on Go's built-in map and on sync.Map,
// for `gomap bench --go`. It is driven by the Rust side: the workloads, sizes and time budget
// come from cli/src/workloads.rs through the -tasks and -budget-ms flags, and every figure is
// printed as one JSON line on stdout. bench/README.md describes each workload; the code below
// follows cli/src/workloads.rs step for step.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// gamma is splitmix64's increment (2^64 / phi, odd).
const gamma uint64 = 0x9e3779b97f4a7c15

// mix is splitmix64's output function, a bijection on uint64.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// key is the i-th output (from 0) of the splitmix64 generator seeded with 0.
func key(i uint64) uint64 { return mix((i + 1) * gamma) }

// seededKey is the i-th output of the splitmix64 generator seeded with seed.
func seededKey(seed, i uint64) uint64 { return mix(seed + (i+1)*gamma) }

// stringKey is the 16-byte string form of key(i): its lower-case hex digits.
func stringKey(i uint64) string { return fmt.Sprintf("%016x", key(i)) }

// sink keeps results alive so the compiler cannot drop the work (Rust's black_box).
var sink uint64

const (
	implName     = "go-map"
	syncImplName = "go-sync.Map"
)

type record struct {
	Impl     string  `json:"impl"`
	Workload string  `json:"workload"`
	Measure  string  `json:"measure"`
	Size     int     `json:"size"`
	Threads  int     `json:"threads,omitempty"`
	Value    float64 `json:"value"`
}

func emit(workload, measure string, size int, value float64) {
	emitRecord(record{implName, workload, measure, size, 0, value})
}

func emitRecord(r record) {
	line, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(line))
}

// throughput repeats round (which times itself and returns its op count) until the budget
// is spent, at least three times unless one round alone exceeds the budget, and returns the
// median round's million operations per second.
func throughput(budget time.Duration, round func() (time.Duration, uint64)) float64 {
	start := time.Now()
	var rates []float64
	for {
		t, ops := round()
		secs := t.Seconds()
		if secs < 1e-9 {
			secs = 1e-9
		}
		rates = append(rates, float64(ops)/secs/1e6)
		spent := time.Since(start)
		if (spent >= budget && (len(rates) >= 3 || t >= budget)) || len(rates) >= 100000 {
			break
		}
	}
	sort.Float64s(rates)
	return rates[len(rates)/2]
}

func filled(n int) map[uint64]uint64 {
	m := make(map[uint64]uint64)
	for i := uint64(0); i < uint64(n); i++ {
		m[key(i)] = i
	}
	return m
}

// p9999 is the 99.99th percentile (nearest rank) of samples, which it sorts.
func p9999(samples []int64) int64 {
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	rank := int(float64(len(samples))*0.9999 + 0.999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(samples) {
		rank = len(samples)
	}
	return samples[rank-1]
}

func minimum(values []int64) int64 {
	min := values[0]
	for _, v := range values[1:] {
		if v < min {
			min = v
		}
	}
	return min
}

func run(workload string, n int, budget time.Duration) {
	n64 := uint64(n)
	var value float64
	switch workload {
	case "insert_grow":
		value = throughput(budget, func() (time.Duration, uint64) {
			m := make(map[uint64]uint64)
			t := time.Now()
			for i := uint64(0); i < n64; i++ {
				m[key(i)] = i
			}
			d := time.Since(t)
			sink += uint64(len(m))
			return d, n64
		})
	case "insert_latency":
		// Repeat the pass (at least five times, until the budget is spent) and report the
		// smallest max and p99.99 over the passes: one pass's maximum is at the mercy of the
		// OS scheduler, while a growth pause recurs in every pass.
		start := time.Now()
		samples := make([]int64, 0, n)
		var maxes, p9999s []int64
		for {
			samples = samples[:0]
			m := make(map[uint64]uint64)
			var max int64
			for i := uint64(0); i < n64; i++ {
				k := key(i)
				t := time.Now()
				m[k] = i
				d := time.Since(t).Nanoseconds()
				samples = append(samples, d)
				if d > max {
					max = d
				}
			}
			sink += uint64(len(m))
			maxes = append(maxes, max)
			p9999s = append(p9999s, p9999(samples))
			if (len(maxes) >= 5 && time.Since(start) >= budget) || len(maxes) >= 1000 {
				break
			}
		}
		emit(workload, "insert_max", n, float64(minimum(maxes)))
		emit(workload, "insert_p99.99", n, float64(minimum(p9999s)))
		return
	case "lookup_hit", "lookup_miss":
		m := filled(n)
		offset := uint64(0)
		if workload == "lookup_miss" {
			offset = n64
		}
		value = throughput(budget, func() (time.Duration, uint64) {
			t := time.Now()
			sum := uint64(0)
			for i := offset; i < offset+n64; i++ {
				// The value is read, as the Rust side does (see cli/src/workloads.rs).
				if v, ok := m[key(i)]; ok {
					sum += v
				}
			}
			d := time.Since(t)
			sink += sum
			return d, n64
		})
	case "remove":
		value = throughput(budget, func() (time.Duration, uint64) {
			m := filled(n)
			t := time.Now()
			for i := uint64(0); i < n64; i++ {
				delete(m, key(i))
			}
			return time.Since(t), n64
		})
	case "iterate":
		m := filled(n)
		value = throughput(budget, func() (time.Duration, uint64) {
			t := time.Now()
			sum := uint64(0)
			for _, v := range m {
				sum += v
			}
			d := time.Since(t)
			sink += sum
			return d, n64
		})
	case "churn":
		m := filled(n)
		j := uint64(0)
		steps := n64
		if steps < 1000 {
			steps = 1000
		}
		if steps > 100000 {
			steps = 100000
		}
		value = throughput(budget, func() (time.Duration, uint64) {
			t := time.Now()
			for s := uint64(0); s < steps; s++ {
				delete(m, key(j))
				m[key(n64+j)] = j
				j++
			}
			return time.Since(t), steps
		})
	case "string_insert":
		keys := make([]string, n)
		for i := range keys {
			keys[i] = stringKey(uint64(i))
		}
		value = throughput(budget, func() (time.Duration, uint64) {
			m := make(map[string]uint64)
			t := time.Now()
			for i, k := range keys {
				m[k] = uint64(i)
			}
			d := time.Since(t)
			sink += uint64(len(m))
			return d, n64
		})
	case "string_lookup":
		keys := make([]string, n)
		m := make(map[string]uint64)
		for i := range keys {
			keys[i] = stringKey(uint64(i))
			// The map holds a copy with its own bytes, as the Rust maps hold clones: with the
			// very string it is probed with, Go's map would find equal data pointers and skip
			// the byte comparison (and its cache miss) that every Rust map has to make.
			m[string([]byte(keys[i]))] = uint64(i)
		}
		value = throughput(budget, func() (time.Duration, uint64) {
			t := time.Now()
			sum := uint64(0)
			for _, k := range keys {
				if v, ok := m[k]; ok {
					sum += v
				}
			}
			d := time.Since(t)
			sink += sum
			return d, n64
		})
	case "bytes_per_entry":
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m := filled(n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(m)
		value = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	default:
		fmt.Fprintf(os.Stderr, "gomapbench: unknown workload %q\n", workload)
		os.Exit(2)
	}
	emit(workload, workload, n, value)
}

// ---- the sync.Map workloads (cli/src/workloads.rs, run_sync) ----------------------------

// growOnlyDrawsPerKey is the key draws per key of the key space in one grow-only round, all
// goroutines together (cli/src/workloads.rs, GROW_ONLY_DRAWS_PER_KEY).
const growOnlyDrawsPerKey = 16

// syncRoundOps is the operations per goroutine in one timed round of workload on a key space
// of n with threads goroutines (cli/src/workloads.rs, sync_round_ops): grow-only rounds draw
// 16 n keys in all, so each key is stored once and read many times.
func syncRoundOps(workload string, n, threads int) uint64 {
	if workload == "grow_only" {
		all := growOnlyDrawsPerKey * uint64(n)
		if all < 10000 {
			all = 10000
		}
		return all / uint64(threads)
	}
	ops := uint64(n)
	if ops < 10000 {
		ops = 10000
	}
	if ops > 100000 {
		ops = 100000
	}
	return ops
}

// syncDraw is goroutine t's i-th draw: the i-th output of the splitmix64 stream seeded with
// (t+1) << 40; its low 32 bits modulo 100 pick the operation, its high 32 bits the key.
func syncDraw(t int, i uint64) (uint64, uint64) {
	x := seededKey(uint64(t+1)<<40, i)
	return (x & 0xffffffff) % 100, x >> 32
}

// parallelRound runs op(m, t, i) for i in first..first+ops on each of threads goroutines,
// released together, and returns the time from the first start to the last end (each
// goroutine reads the clock itself, as the Rust side's threads do).
func parallelRound(m *sync.Map, threads int, first, ops uint64, op func(m *sync.Map, t int, i uint64)) time.Duration {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	starts := make([]time.Time, threads)
	ends := make([]time.Time, threads)
	ready.Add(threads)
	done.Add(threads)
	for t := 0; t < threads; t++ {
		go func(t int) {
			defer done.Done()
			ready.Done()
			<-start
			starts[t] = time.Now()
			for i := first; i < first+ops; i++ {
				op(m, t, i)
			}
			ends[t] = time.Now()
		}(t)
	}
	ready.Wait()
	close(start)
	done.Wait()
	first0, last := starts[0], ends[0]
	for t := 1; t < threads; t++ {
		if starts[t].Before(first0) {
			first0 = starts[t]
		}
		if ends[t].After(last) {
			last = ends[t]
		}
	}
	return last.Sub(first0)
}

// filledSync stores keys 0..n, then ranges once so the dirty map is promoted (the steady
// state), as the Rust side's settle does.
func filledSync(n int) *sync.Map {
	m := new(sync.Map)
	for i := uint64(0); i < uint64(n); i++ {
		m.Store(key(i), i)
	}
	m.Range(func(k, v any) bool { return false })
	return m
}

func emptySync(int) *sync.Map { return new(sync.Map) }

func runSync(workload string, n, threads int, budget time.Duration) {
	n64, th := uint64(n), uint64(threads)
	ops := syncRoundOps(workload, n, threads)
	total := ops * th
	var fresh func(int) *sync.Map
	var op func(m *sync.Map, t int, i uint64)
	switch workload {
	case "read_mostly":
		fresh = filledSync
		op = func(m *sync.Map, t int, i uint64) {
			pick, r := syncDraw(t, i)
			k := r % n64
			switch {
			case pick <= 97:
				m.Load(key(k))
			case pick == 98:
				m.Store(key(k), i)
			default:
				m.Store(key(n64+i*th+uint64(t)), i)
			}
		}
	case "grow_only":
		fresh = emptySync
		op = func(m *sync.Map, t int, i uint64) {
			_, r := syncDraw(t, i)
			k := r % n64
			if _, ok := m.Load(key(k)); !ok {
				m.LoadOrStore(key(k), k)
			}
		}
	case "disjoint":
		fresh = filledSync
		op = func(m *sync.Map, t int, i uint64) {
			pick, r := syncDraw(t, i)
			own := (n64 - uint64(t) + th - 1) / th
			if own < 1 {
				own = 1
			}
			k := key((r%own)*th + uint64(t))
			if pick < 50 {
				m.Load(k)
			} else {
				m.Store(k, i)
			}
		}
	case "write_heavy":
		fresh = filledSync
		op = func(m *sync.Map, t int, i uint64) {
			pick, r := syncDraw(t, i)
			k := key(r % n64)
			switch {
			case pick <= 9:
				m.Load(k)
			case pick <= 49:
				m.Store(k, i)
			case pick <= 89:
				m.Delete(k)
			default:
				m.LoadOrStore(k, i)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "gomapbench: unknown sync.Map workload %q\n", workload)
		os.Exit(2)
	}
	round := uint64(0)
	mops := throughput(budget, func() (time.Duration, uint64) {
		m := fresh(n)
		d := parallelRound(m, threads, round*ops, ops, op)
		round++
		return d, total
	})
	emitRecord(record{syncImplName, workload, workload, n, threads, 1e3 / mops})
}

func main() {
	tasks := flag.String("tasks", "", "comma-separated workload:size pairs, from the Rust side")
	budgetMs := flag.Int("budget-ms", 400, "time budget per figure, in milliseconds")
	flag.Parse()
	if *tasks == "" {
		fmt.Fprintln(os.Stderr, "gomapbench: -tasks is required (run it through `gomap bench --go`)")
		os.Exit(2)
	}
	budget := time.Duration(*budgetMs) * time.Millisecond
	fmt.Printf("# %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, task := range strings.Split(*tasks, ",") {
		parts := strings.Split(task, ":")
		if len(parts) != 2 && len(parts) != 3 {
			fmt.Fprintf(os.Stderr, "gomapbench: bad task %q (want workload:size[:threads])\n", task)
			os.Exit(2)
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "gomapbench: bad size in %q\n", task)
			os.Exit(2)
		}
		threads := 1
		if len(parts) == 3 {
			threads, err = strconv.Atoi(parts[2])
			if err != nil || threads < 1 {
				fmt.Fprintf(os.Stderr, "gomapbench: bad thread count in %q\n", task)
				os.Exit(2)
			}
		}
		switch parts[0] {
		case "read_mostly", "grow_only", "disjoint", "write_heavy":
			runSync(parts[0], n, threads, budget)
		default:
			run(parts[0], n, budget)
		}
		runtime.GC() // drop this task's maps before the next one
	}
}
