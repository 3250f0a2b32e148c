// Command mainjob runs the worker service sample's job (samples/Aco.WorkerService) with goroutines:
// one goroutine starts count jobs; each sleeps and yields three times, doubles its value and sends
// it on a channel that main sums; the process exits when all are in.
//
//	go build -o bin/mainjob-go . && bin/mainjob-go [--count N]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// double is the sample's managed handler, as a plain call.
func double(value int64) int64 { return value * 2 }

// job is what samples/native worker_job does.
func job(j int64, results chan<- int64) {
	for i := int64(0); i < 3; i++ {
		time.Sleep(time.Duration(1+(j+i)%3) * time.Millisecond)
		runtime.Gosched()
	}
	results <- double(j % 1000)
}

// expectedSum is the sum of 2 * (j % 1000) over jobs 0..count-1.
func expectedSum(count int64) int64 {
	rest := count % 1000
	return 999*1000*(count/1000) + rest*(rest-1)
}

// grouped formats n with thousands separators, as the .NET programs' N0 does.
func grouped(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + grouped(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func main() {
	count := flag.Int64("count", 1_000_000, "how many jobs to run")
	flag.Parse()

	// Unbuffered: each job hands its answer straight to the summing goroutine.
	results := make(chan int64)
	start := time.Now()
	go func() {
		for i := int64(0); i < *count; i++ {
			go job(i, results)
		}
	}()

	var received, sum int64
	for received < *count {
		sum += <-results
		received++
	}
	seconds := time.Since(start).Seconds()

	verdict := "correct"
	if want := expectedSum(*count); sum != want {
		verdict = "expected " + grouped(want)
	}
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage) // Maxrss is in KiB on Linux
	fmt.Printf("summary: %s goroutines finished in %.1f s (%s/s), sum %s (%s), peak RSS %s MiB\n",
		grouped(received), seconds, grouped(int64(float64(received)/seconds)), grouped(sum), verdict, grouped(usage.Maxrss/1024))
	if verdict != "correct" {
		os.Exit(1)
	}
}
